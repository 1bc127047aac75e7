"""Parity rows for `kates get` tables and edges (issue 10, area "get"): -L, named objects, CRD cells, a failing kind
among several, --ignore-not-found, --output-watch-events without --watch, custom columns of an empty list."""

from __future__ import annotations

from tests.controlplane.launcher import RESTRICTED_CONTEXT, ControlPlane
from tests.e2e.conftest import WIDGET_CRD, create, ensure_crd
from tests.e2e.parity import Case

LONG = "a-rather-long-configmap-name"


def _labelled(cluster: ControlPlane, ns: str) -> None:
    for name, labels in (
        ("a", {"app": "web", "tier": "front", "example.com/role": "x"}),
        (LONG, {"tier": "back"}),
        ("b", {}),
    ):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name, "labels": labels}})
    create(cluster, f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "s1", "labels": {"app": "db"}}})


def _widgets(cluster: ControlPlane, ns: str) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    for name, spec in (("w-color", {"color": "blue"}), ("w-size", {"size": 3}), ("w-bare", {})):
        create(
            cluster,
            f"/apis/example.com/v1/namespaces/{ns}/widgets",
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec},
        )


def _pages(cluster: ControlPlane, ns: str) -> None:
    """130 ConfigMaps; the widest name sorts last, so it arrives on the last page."""
    names = [f"c{i:03d}" for i in range(129)] + ["z-a-much-longer-name-on-the-last-page"]
    cluster.bulk("POST", [(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": n}}) for n in names])


FORBIDDEN = ('cannot list resource "secrets"',)
EMPTY = ("-l", "no-such=label")

CASES = [
    # 1. -L takes comma-separated keys and repeats; the header is the key's last path segment, upper-cased
    Case("get-label-columns-comma", ("get", "cm", "-n", "{ns}", "-L", "app,tier", "-L", "example.com/role"), _labelled),
    Case("get-label-columns-kinds", ("get", "cm,secrets", "-n", "{ns}", "-L", "app,tier", "--no-headers"), _labelled),
    # (found on the way) several kinds with --no-headers: no blank line between them
    Case("get-no-headers-kinds", ("get", "secrets,cm", "-n", "{ns}", "--no-headers"), _labelled),
    # 8. pages stream in kubectl 1.37's blocks (every 100 rows of a page): the same bytes whatever the page size
    Case("get-pages-of-30", ("get", "cm", "-n", "{ns}", "--chunk-size", "30"), _pages),
    Case("get-pages-of-100", ("get", "cm", "-n", "{ns}", "--chunk-size", "100", "--no-headers"), _pages),
    # 2. named objects align as one table, the short name first
    Case("get-named-aligned", ("get", "cm", "b", LONG, "a", "-n", "{ns}"), _labelled),
    Case("get-named-aligned-typed", ("get", "cm/b", f"cm/{LONG}", "secret/s1", "-n", "{ns}"), _labelled),
    # 3. a CRD printer column whose jsonPath finds nothing is an empty cell
    Case("get-crd-missing-cells", ("get", "widgets", "-n", "{ns}", "-o", "wide"), _widgets),
    Case("get-crd-missing-cells-named", ("get", "wd", "w-bare", "w-size", "-n", "{ns}"), _widgets),
    # 4. a failing kind among several: the others print (no kind prefix when only one kind answered), failure exit
    Case("get-partial-forbidden", ("--context", RESTRICTED_CONTEXT, "get", "secrets,cm"), stderr_words=FORBIDDEN),
    Case(
        "get-partial-forbidden-three",
        ("--context", RESTRICTED_CONTEXT, "get", "cm,secrets,pods"),
        stderr_words=(*FORBIDDEN, 'cannot list resource "pods"'),
    ),
    Case(
        "get-partial-forbidden-name",
        ("--context", RESTRICTED_CONTEXT, "get", "secrets,cm", "-o", "name"),
        stderr_words=FORBIDDEN,
    ),
    Case(
        "get-partial-forbidden-json",
        ("--context", RESTRICTED_CONTEXT, "get", "secrets,cm", "-o", "jsonpath={.items[*].metadata.name}"),
        stderr_words=FORBIDDEN,
    ),
    Case(
        "get-partial-not-found",
        ("get", "cm,secrets", "a", "-n", "{ns}"),
        _labelled,
        stderr_words=('secrets "a" not found',),
    ),
    # 5. --ignore-not-found prints nothing at all, named or listed, in every format
    Case("get-ignore-not-found-named", ("get", "cm", "nosuch", "-n", "{ns}", "--ignore-not-found")),
    Case("get-ignore-not-found-list", ("get", "cm", "-n", "{ns}", *EMPTY, "--ignore-not-found")),
    Case("get-ignore-not-found-json", ("get", "cm", "-n", "{ns}", *EMPTY, "--ignore-not-found", "-o", "json")),
    Case("get-ignore-not-found-yaml", ("get", "cm", "nosuch", "-n", "{ns}", "--ignore-not-found", "-o", "yaml")),
    Case(
        "get-ignore-not-found-jsonpath",
        ("get", "cm", "-n", "{ns}", *EMPTY, "--ignore-not-found", "-o", "jsonpath={.items}"),
    ),
    Case(
        "get-ignore-not-found-columns",
        ("get", "cm", "-n", "{ns}", *EMPTY, "--ignore-not-found", "-o", "custom-columns=N:.metadata.name"),
    ),
    Case(
        "get-ignore-not-found-some",
        ("get", "cm", "nosuch", "a", "-n", "{ns}", "--ignore-not-found", "-o", "name"),
        _labelled,
    ),
    # 6. --output-watch-events without --watch is refused (kubectl: exit 1; kates: 2, usage)
    Case(
        "get-output-watch-events-without-watch",
        ("get", "cm", "-n", "{ns}", "--output-watch-events"),
        stderr_words=("--output-watch-events option can only be used with --watch or --watch-only",),
    ),
    # 7. custom columns of an empty list: the header alone; of one missing named object: nothing
    Case(
        "get-custom-columns-empty", ("get", "cm", "-n", "{ns}", *EMPTY, "-o", "custom-columns=N:.metadata.name,D:.data")
    ),
    Case(
        "get-custom-columns-empty-no-headers",
        ("get", "cm", "-n", "{ns}", *EMPTY, "-o", "custom-columns=N:.metadata.name", "--no-headers"),
    ),
    Case(
        "get-custom-columns-missing",
        ("get", "cm", "nosuch", "-n", "{ns}", "-o", "custom-columns=N:.metadata.name"),
        stderr_words=('configmaps "nosuch" not found',),
    ),
    Case(
        "get-custom-columns-two-missing",
        ("get", "cm", "nosuch", "other", "-n", "{ns}", "-o", "custom-columns=N:.metadata.name"),
        stderr_words=('configmaps "nosuch" not found', 'configmaps "other" not found'),
    ),
]
