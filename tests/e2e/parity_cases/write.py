"""Parity rows for the write area of issue 10: create/update/patch/delete against kubectl 1.37 on the same objects.

Both tools run on the same objects (kubectl first), so rows that would change an object use --dry-run=server, or are
no-ops, or fail before sending anything; each row runs once (see CASES), so a row whose first run changed the object
cannot pass on a rerun where both tools fail alike. Where kates spells a verb differently (update for replace),
`kates_args` says so. Known, documented differences are not rows: kates patch refuses unknown fields by default
(kubectl patch sends no fieldValidation, so the server only warns); a CRD with its instance in one file is not a row,
because kubectl's single discovery refetch loses the race on a loaded machine (test_write_edges.py covers kates);
kubectl patch --dry-run=server prints no "(server dry run)" (its create, replace and delete do), kates always does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import create, ensure_crd
from tests.e2e.parity import Case
from tests.e2e.test_write_edges import STRICT_CRD

UNKNOWN_FIELD = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\nfoo: bar\ndata:\n  a: "1"\n'
GENERATE_NAME = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\n"
FORCE_WARNING = (
    "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated"
)


def configmap(name: str, *, labelled: bool = False) -> Any:
    """Set-up: a ConfigMap `name` (data a=1), labelled parity=<the namespace> if `labelled` (unique per row)."""

    def setup(cluster: ControlPlane, ns: str) -> None:
        meta: dict[str, Any] = {"name": name, "labels": {"parity": ns} if labelled else {}}
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": meta, "data": {"a": "1"}})

    return setup


def deprecated_things(cluster: ControlPlane, ns: str) -> None:
    ensure_crd(cluster, STRICT_CRD)
    for name in ("t1", "t2"):
        body = {"apiVersion": "example.com/v1", "kind": "StrictThing", "metadata": {"name": name}, "spec": {"size": 1}}
        create(cluster, f"/apis/example.com/v1/namespaces/{ns}/strictthings", body)


F = {"u.yaml": UNKNOWN_FIELD}
G = {"g.yaml": GENERATE_NAME}

_CASES = [
    # 1. fieldValidation: Strict by default, --validate as kubectl spells it
    Case(
        "write-create-unknown-field-strict",
        ("create", "-f", "{dir}/u.yaml", "-n", "{ns}"),
        files=F,
        stderr_words=("creating", "strict decoding error", 'unknown field "foo"'),
    ),
    Case(
        "write-create-bare-validate-is-strict",
        ("create", "--validate", "-f", "{dir}/u.yaml", "-n", "{ns}"),
        files=F,
        stderr_words=('unknown field "foo"',),
    ),
    Case(
        "write-create-validate-warn",
        ("create", "-f", "{dir}/u.yaml", "-n", "{ns}", "--validate=warn", "--dry-run=server"),
        files=F,
        stderr_words=('Warning: unknown field "foo"',),
    ),
    Case(
        "write-create-validate-false",
        ("create", "-f", "{dir}/u.yaml", "-n", "{ns}", "--validate=false", "--dry-run=server"),
        files=F,
    ),
    Case(
        "write-create-validate-ignore",
        ("create", "-f", "{dir}/u.yaml", "-n", "{ns}", "--validate=ignore", "--dry-run=server"),
        files=F,
    ),
    Case(
        "write-create-validate-bogus",
        ("create", "-f", "{dir}/u.yaml", "-n", "{ns}", "--validate=bogus"),
        files=F,
        stderr_words=('validate option "bogus"', "must be one of: strict (or true), warn, ignore (or false)"),
    ),
    Case(
        "write-update-unknown-field-strict",
        ("replace", "-f", "{dir}/u.yaml", "-n", "{ns}"),
        kates_args=("update", "-f", "{dir}/u.yaml", "-n", "{ns}"),
        setup=configmap("u"),
        files=F,
        stderr_words=("strict decoding error", 'unknown field "foo"'),
    ),
    # 2. server warnings, reads included
    Case(
        "write-warning-deprecated-version-on-get",
        ("get", "strictthings.v1beta1.example.com", "-n", "{ns}", "-o", "name", "--chunk-size", "1"),
        setup=deprecated_things,
        stderr_words=("Warning: example.com/v1beta1 StrictThing is old; use example.com/v1",),
    ),
    # 3. generateName without a name, outside create
    Case(
        "write-update-generate-name",
        ("replace", "-f", "{dir}/g.yaml", "-n", "{ns}"),
        kates_args=("update", "-f", "{dir}/g.yaml", "-n", "{ns}"),
        files=G,
        stderr_words=("resource name may not be empty",),
    ),
    Case(
        "write-patch-generate-name",
        ("patch", "-f", "{dir}/g.yaml", "-n", "{ns}", "-p", "{}"),
        files=G,
        stderr_words=("resource name may not be empty",),
    ),
    Case(
        "write-delete-generate-name",
        ("delete", "-f", "{dir}/g.yaml", "-n", "{ns}"),
        files=G,
        stderr_words=("resource name may not be empty",),
    ),
    # 5. -f URL: kubectl fetches it (here: refused connection), kates refuses to fetch
    Case(
        "write-create-url",
        ("create", "-f", "http://127.0.0.1:9/cm.yaml", "-n", "{ns}"),
        stderr_words=("127.0.0.1:9",),
        kates_stderr_words=("kates does not fetch manifests over the network",),
    ),
    # 6. wording
    Case(
        "write-delete-from-namespace",
        ("delete", "cm", "x", "-n", "{ns}", "--dry-run=server"),
        setup=configmap("x"),
    ),
    Case("write-delete-no-match", ("delete", "cm", "-l", "nothing=here", "-n", "{ns}")),
    Case(
        "write-delete-no-arguments",
        ("delete", "-n", "{ns}"),
        stderr_words=("You must provide one or more resources by argument or filename.",),
    ),
    Case(
        "write-delete-kind-without-name",
        ("delete", "cm", "-n", "{ns}"),
        stderr_words=("resource(s) were provided, but no name was specified",),
    ),
    Case("write-patch-no-change", ("patch", "cm", "x", "-n", "{ns}", "-p", '{"data":{"a":"1"}}'), setup=configmap("x")),
    Case(  # each tool changes the object (kubectl first), so kates writes another value
        "write-patch-change",
        ("patch", "cm", "x", "-n", "{ns}", "-p", '{"data":{"a":"2"}}'),
        kates_args=("patch", "cm", "x", "-n", "{ns}", "-p", '{"data":{"a":"3"}}'),
        setup=configmap("x"),
    ),
    Case(
        "write-patch-bad-yaml",
        ("patch", "cm", "x", "-n", "{ns}", "-p", "a: ["),
        setup=configmap("x"),
        stderr_words=('unable to parse "a: ["',),
    ),
    Case(
        "write-patch-missing-object",
        ("patch", "cm", "nope", "-n", "{ns}", "-p", "{}"),
        stderr_words=('configmaps "nope" not found',),
    ),
    # 7. delete flags
    Case(
        "write-delete-output-name-now",
        ("delete", "cm", "x", "-n", "{ns}", "--now", "-o", "name", "--dry-run=server"),
        setup=configmap("x"),
    ),
    Case(
        "write-delete-force",
        ("delete", "cm", "x", "-n", "{ns}", "--force", "--dry-run=server"),
        setup=configmap("x"),
        stderr_words=(FORCE_WARNING,),
    ),
    Case(
        "write-delete-field-selector",
        ("delete", "cm", "-n", "{ns}", "--field-selector", "metadata.name=y", "--dry-run=server"),
        setup=configmap("y"),
    ),
    Case(
        "write-delete-all-namespaces-selector",
        ("delete", "cm", "-A", "-l", "parity={ns}", "--dry-run=server"),
        setup=configmap("z", labelled=True),
    ),
    Case(
        "write-delete-name-across-namespaces",
        ("delete", "cm", "x", "-A"),
        stderr_words=("a resource cannot be retrieved by name across all namespaces",),
    ),
    Case(
        "write-delete-now-and-grace-period",
        ("delete", "cm", "x", "-n", "{ns}", "--now", "--grace-period=5"),
        stderr_words=("--now and --grace-period cannot be specified together",),
    ),
    Case(
        "write-delete-force-and-grace-period",
        ("delete", "cm", "x", "-n", "{ns}", "--force", "--grace-period=5"),
        stderr_words=("--force and --grace-period greater than 0 cannot be specified together",),
    ),
    Case(
        "write-delete-output-json",
        ("delete", "cm", "x", "-n", "{ns}", "-o", "json"),
        stderr_words=("unexpected -o output mode: json. We only support '-o name'",),
    ),
    Case(
        "write-delete-all-with-field-selector",
        ("delete", "cm", "--all", "--field-selector", "metadata.name=x", "-n", "{ns}"),
        stderr_words=("setting 'all' parameter but found a non empty selector.",),
    ),
]
# no ages in these rows: one run each, so a row that changes its object cannot pass on a rerun where both fail
CASES = [dataclasses.replace(c, retries=1) for c in _CASES]
