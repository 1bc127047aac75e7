"""`kates get` output templates (jsonpath, jsonpath-as-json, custom columns, --sort-by, -L, --show-labels) against
the real kubectl on the live control plane: the same command must print the same bytes.

One namespace per module holds the objects (created untimed, as admin, without kates). Tables with an AGE column
are compared with ages masked (`assert_same_as_kubectl`); every other case is compared byte for byte. kubectl exits
1 on any error; kates exits 2 (usage) for a bad template, so error cases check that mapping and kubectl's message.
Not compared: `--sort-by` on a table of several kinds (`get cm,svc --sort-by=...`), which kubectl 1.37 rejects with
"couldn't find any field with path ..." even when every object has the field.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import Result, Runner, create
from .test_get import assert_same_as_kubectl

TIERS = ("web", "db", "cache")
SIZES = ("100m", "1", "2Gi", "512Mi", "0.5", "abc", "1e3", "", "-1", "7k")


@pytest.fixture(scope="module")
def objects_ns(cluster: ControlPlane) -> Iterator[str]:
    """15 ConfigMaps (labels with ties and gaps, quantity-like data), 2 Services and a Deployment."""
    name = f"formats-{uuid.uuid4().hex[:6]}"
    code, body = cluster.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert code == 201, body
    wait_for(
        lambda: cluster.request("GET", f"/api/v1/namespaces/{name}/configmaps/kube-root-ca.crt")[0] == 200,
        30,
        "kube-root-ca.crt in the new namespace",
    )
    for i in range(15):
        labels = {"tier": TIERS[i % 3], "app.kubernetes.io/name": f"app-{i % 2}"}
        if i % 4 != 1:
            labels["rank"] = str((i * 7) % 11)
        meta: dict[str, Any] = {"name": f"cm-{i:02d}", "labels": labels}
        if i % 5 == 0:
            meta["annotations"] = {"note": f"<b>{i}</b> & more"}
        data = {"k": f"v{i}", "size": SIZES[i % len(SIZES)]}
        if i == 7:
            data["text"] = "héllo\twörld ☃"
        create(cluster, f"/api/v1/namespaces/{name}/configmaps", {"metadata": meta, "data": data})
    for svc, port, tier in (("front", 443, "web"), ("back", 80, "db")):
        create(
            cluster,
            f"/api/v1/namespaces/{name}/services",
            {
                "metadata": {"name": svc, "labels": {"tier": tier}},
                "spec": {
                    "selector": {"tier": tier},
                    "ports": [{"port": port, "name": "p"}, {"port": port + 1, "name": "q"}],
                },
            },
        )
    create(
        cluster,
        f"/apis/apps/v1/namespaces/{name}/deployments",
        {
            "metadata": {"name": "web", "labels": {"tier": "web"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"tier": "web"}},
                "template": {
                    "metadata": {"labels": {"tier": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]},
                },
            },
        },
    )
    yield name
    cluster.request("DELETE", f"/api/v1/namespaces/{name}")


def assert_same_output(kates: Runner, kubectl: Runner, *args: str) -> Result:
    """Both print the same stdout; both succeed, or kubectl fails (1) and kates fails as a usage error (2) with
    kubectl's message (without the debugging dump kubectl appends to a jsonpath execution error)."""
    mine, theirs = kates(*args), kubectl(*args)
    assert mine.out == theirs.out, f"kates:\n{mine.out}\nkubectl:\n{theirs.out}\n{mine.err}{theirs.err}"
    if theirs.code == 0:
        assert mine.code == 0, mine
    else:
        assert (theirs.code, mine.code) == (1, 2), (mine, theirs)
        expected = theirs.err.splitlines()[0].split(". Printing more information")[0]
        assert mine.err.splitlines()[0] == expected, (mine, theirs)
    return mine


CASES: list[tuple[str, ...]] = [
    # -o jsonpath
    ("cm", "-o", "jsonpath={.items[*].metadata.name}"),
    ("cm", "-o", 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.metadata.labels.tier}{"\\n"}{end}'),
    ("cm", "-o", 'jsonpath={.items[?(@.metadata.labels.tier=="db")].data.k}'),
    ("cm", "cm-05", "-o", "jsonpath={.data} {.metadata.annotations} {.metadata.labels}"),
    ("cm", "cm-07", "-o", "jsonpath={.data.text}|{.data}"),
    ("svc", "-o", "jsonpath={.items[*].spec.ports[*].port} {.items[0].spec.ports[0]}"),
    ("deploy", "-o", "jsonpath={.items[0].spec.template.spec.containers[0].image} {.items[0].spec.replicas}"),
    ("cm", "-o", "jsonpath=[{.items[*].metadata.annotations.nope}] missing keys print nothing"),
    ("cm,svc", "-o", "jsonpath={.kind} {.items[-1].kind} {.items[0:2].metadata.name}"),
    ("cm", "-o", "jsonpath={.items[99]}"),
    ("cm", "-o", "jsonpath={.items["),
    # -o jsonpath-as-json
    ("cm", "-o", "jsonpath-as-json={.items[*].metadata.name}"),
    ("cm", "-o", "jsonpath-as-json={.items[0:2].data}"),
    ("cm", "-o", 'jsonpath-as-json={range .items[0:2]}{.metadata.name}{"\\n"}{end}'),
    # -o custom-columns
    ("cm", "-l", "tier=web", "-o", "custom-columns=NAME:.metadata.name,RANK:{.metadata.labels.rank},DATA:.data"),
    ("cm", "cm-07", "-o", "custom-columns=NAME:.metadata.name,TEXT:.data.text,K:.data.k"),  # a tab inside a cell
    ("svc", "-o", "custom-columns=NAME:metadata.name,PORTS:{.spec.ports[*].port},SELECTOR:.spec.selector"),
    ("cm", "-o", "custom-columns=NAME:.metadata.name,NOTE:.metadata.annotations.note", "--no-headers"),
    ("deploy", "-o", "custom-columns=NAME:.metadata.name,IMAGES:.spec.template.spec.containers[*].image"),
    # --sort-by
    ("cm", "--sort-by=.metadata.labels.rank", "-o", "name"),
    ("cm,svc", "--sort-by={.metadata.labels.tier}", "-o", "name"),
    ("cm", "--sort-by=.metadata.labels.tier", "-o", "custom-columns=NAME:.metadata.name,TIER:.metadata.labels.tier"),
    ("cm", "--sort-by=data.size", "-o", "jsonpath={.items[*].data.size}"),
    ("svc", "--sort-by=.spec.ports[0].port", "-o", "jsonpath={.items[*].metadata.name}"),
    ("cm", "--sort-by=.data.nope", "-o", "name"),
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) for c in CASES])
def test_output_formats_match_kubectl(kates: Runner, kubectl: Runner, objects_ns: str, args: tuple[str, ...]) -> None:
    assert_same_output(kates, kubectl, "get", *args, "-n", objects_ns)


def test_custom_columns_file_matches_kubectl(kates: Runner, kubectl: Runner, objects_ns: str, tmp_path: Path) -> None:
    template = tmp_path / "columns.txt"
    template.write_text("NAME   TIER\tSIZE\n.metadata.name  {.metadata.labels.tier} data.size\n")
    out = assert_same_output(kates, kubectl, "get", "cm", "-n", objects_ns, "-o", f"custom-columns-file={template}")
    assert out.out.splitlines()[0].split() == ["NAME", "TIER", "SIZE"]


@pytest.mark.parametrize(
    "args",
    [
        ("cm", "--sort-by=.data.size"),
        ("cm", "--sort-by=.metadata.labels.tier"),
        ("cm", "-L", "tier", "-L", "rank"),
        ("cm", "--show-labels", "-l", "tier=web", "--sort-by=.metadata.labels.rank"),
        ("svc", "--show-labels"),
        ("cm", "-L", "tier", "-L", "app.kubernetes.io/name", "--sort-by=.metadata.labels.rank"),
    ],
    ids=lambda a: " ".join(a),
)
def test_tables_with_sort_and_label_columns_match_kubectl(
    kates: Runner, kubectl: Runner, objects_ns: str, args: tuple[str, ...]
) -> None:
    assert_same_as_kubectl(kates, kubectl, "get", *args, "-n", objects_ns)
