"""The printers' last edges (issue 15, section 2) against the real kubectl on the live control plane, byte for byte:
custom-columns with no objects, with an error midway, with cells holding a line break, `\\v` or `\\f`, and from a
file with --no-headers; --sort-by where kubectl fails (a field no object has, even a single one) and where it does
not (a template that is not a relaxed path, in table output), quantities such as `Pi` and `e-10`; and objects
nested hundreds of levels deep in every printer, sorted, and written back with `create -f`.

Objects are created as admin, without kates, in one namespace per module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kates_cli.cli import render
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, create, ensure_crd, schemaless_crd
from .test_get import assert_same_as_kubectl
from .test_get_formats import assert_same_output

CRD = schemaless_crd("edges.kates.test", "edgethings", "EdgeThing")
COLUMNS_CRD = schemaless_crd("edges.kates.test", "edgecolumns", "EdgeColumn")
COLUMNS_CRD["spec"]["versions"][0]["additionalPrinterColumns"] = [
    {"name": "V", "type": "string", "jsonPath": ".spec.v"},
    {"name": "W", "type": "string", "jsonPath": ".spec.w"},
]
DEPTH = 300
EDGES = {  # name: (data.v, data.q)
    "a-nl": ("one\ntwo", "1Pi"),
    "b-vt": ("x\vy", "2e-10"),
    "c-ff": ("p\fq", "1e-10"),
    "d-plain": ("plain", "100m"),
    "e-wide": ("é日本\tt", "1Ei"),
    "f-big": ("a much longer value than the others", "1.5Pi"),
}


def deep(depth: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"leaf": "bottom", "n": 1}
    for i in range(depth):
        spec = {"a": [spec]} if i % 2 else {"b": spec}
    return spec


@pytest.fixture(scope="module")
def edges_ns(cluster: ControlPlane) -> Iterator[str]:
    name = f"edges-{uuid.uuid4().hex[:6]}"
    code, body = cluster.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert code == 201, body
    wait_for(
        lambda: cluster.request("GET", f"/api/v1/namespaces/{name}/configmaps/kube-root-ca.crt")[0] == 200,
        30,
        "kube-root-ca.crt in the new namespace",
    )
    for cm, (v, q) in EDGES.items():
        meta = {"name": cm, "labels": {"edge": "1"}}
        create(cluster, f"/api/v1/namespaces/{name}/configmaps", {"metadata": meta, "data": {"v": v, "q": q}})
    create(cluster, f"/api/v1/namespaces/{name}/configmaps", {"metadata": {"name": "only", "labels": {"only": "1"}}})
    ensure_crd(cluster, CRD)
    things = f"/apis/edges.kates.test/v1/namespaces/{name}/edgethings"
    for thing, items in (("t1", [1, 2]), ("t2", [1]), ("t3", [1, 2, 3])):
        obj = {"apiVersion": "edges.kates.test/v1", "kind": "EdgeThing", "metadata": {"name": thing}}
        create(cluster, things, obj | {"spec": {"items": items}})
    ensure_crd(cluster, COLUMNS_CRD)
    columns = f"/apis/edges.kates.test/v1/namespaces/{name}/edgecolumns"
    for i, v in enumerate(["x\vy", "p\fq", "a\nb", "tab\there", "\x1b[31mred", "plain", "\vlead"]):
        obj = {"apiVersion": "edges.kates.test/v1", "kind": "EdgeColumn", "metadata": {"name": f"c{i}"}}
        create(cluster, columns, obj | {"spec": {"v": v, "w": "w" * i}})
    deep_obj = {"apiVersion": "edges.kates.test/v1", "kind": "EdgeThing", "metadata": {"name": "t4-deep"}}
    create(cluster, things, deep_obj | {"spec": deep(DEPTH)})
    yield name
    cluster.request("DELETE", f"/api/v1/namespaces/{name}")


CASES: list[tuple[str, ...]] = [
    # custom-columns: no objects (the header alone), an error midway (the header and the rows before it, then the
    # error), a template that does not parse (the header, then the error)
    ("cm", "-l", "none=here", "-o", "custom-columns=NAME:.metadata.name,V:.data.v"),
    ("edgethings", "-o", "custom-columns=NAME:.metadata.name,SECOND:.spec.items[1]"),
    ("edgethings", "-o", "custom-columns=NAME:.metadata.name,BAD:.spec.items["),
    # a spec kubectl refuses as it reads it (nothing printed): no header:path pair, a path that is no relaxed path
    ("cm", "-o", "custom-columns=NAME"),
    ("cm", "-o", "custom-columns=NAME:.metadata.name,X:{range .items[*]}x{end}"),
    # cells holding a line break, \v, \f, a tab and wide characters: kubectl's tabwriter splits and realigns them
    ("cm", "-l", "edge=1", "-o", "custom-columns=NAME:.metadata.name,V:.data.v,Q:.data.q"),
    ("cm", "-l", "edge=1", "-o", "custom-columns=V:.data.v,NAME:.metadata.name", "--no-headers"),
    ("cm", "-l", "edge=1", "-o", "custom-columns=V:.data.v"),
    # --sort-by: quantities (Pi, Ei, e-10, m) by value
    ("cm", "-l", "edge=1", "--sort-by=.data.q", "-o", "name"),
    ("cm", "-l", "edge=1", "--sort-by=.data.q", "-o", "custom-columns=NAME:.metadata.name,Q:.data.q"),
    # --sort-by where kubectl fails: a field no object has, even when the list holds one object, also in a table
    ("cm", "-l", "only=1", "--sort-by=.nope", "-o", "name"),
    ("cm", "-l", "edge=1", "--sort-by={.data.q}{.metadata.name}", "-o", "name"),
    # ... and where it does not: one named object is not sorted
    ("cm", "only", "--sort-by=.nope", "-o", "name"),
    ("cm", "only", "--sort-by=.nope", "-o", "json"),
    # objects nested hundreds of levels deep: every printer, and sorting by them
    ("edgethings", "t4-deep", "-o", "json"),
    ("edgethings", "t4-deep", "-o", "yaml"),
    ("edgethings", "t4-deep", "-o", "kyaml"),
    ("edgethings", "t4-deep", "-o", "jsonpath={.spec}"),
    ("edgethings", "-o", "custom-columns=NAME:.metadata.name,SPEC:.spec.b"),
    ("edgethings", "--sort-by=.spec.b.a[0].b.a[0].b", "-o", "name"),
    # several objects named, or several kinds, are Tables of their own, which kubectl sorts by the field read on
    # the Tables: it finds none
    ("cm", "only", "d-plain", "--sort-by=.metadata.name"),
    ("cm,edgethings", "--sort-by=.metadata.name"),
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c).replace("\n", "\\n") for c in CASES])
def test_printer_edges_match_kubectl(kates: Runner, kubectl: Runner, edges_ns: str, args: tuple[str, ...]) -> None:
    assert_same_output(kates, kubectl, "get", *args, "-n", edges_ns)


def test_custom_columns_file_ignores_no_headers_as_kubectl_does(
    kates: Runner, kubectl: Runner, edges_ns: str, tmp_path: Path
) -> None:
    template = tmp_path / "columns.txt"
    template.write_text("NAME V\n.metadata.name .data.v\n")
    args = ("get", "cm", "-l", "edge=1", "-n", edges_ns, "-o", f"custom-columns-file={template}", "--no-headers")
    out = assert_same_output(kates, kubectl, *args)
    assert out.out.startswith("NAME "), out


@pytest.mark.parametrize(
    "args",
    [
        ("cm", "-l", "edge=1", "--sort-by={.data.q}{.metadata.name}"),  # not a relaxed path: a table sorts by it
        ("cm", "-l", "edge=1", "--sort-by=.data.q"),
        ("cm", "--sort-by=.data.q"),  # kube-root-ca.crt and `only` lack the field: moved as kubectl moves them
        ("edgecolumns",),  # printer columns holding \v, \f, a line break, a tab, ESC: kubectl's cut and tabwriter
        ("cm", "only", "--sort-by=.nope"),  # one object named: not sorted
        ("cm", "-l", "only=1", "--sort-by=.nope"),  # a table of one row is not sorted, so not checked either
    ],
    ids=lambda a: " ".join(a),
)
def test_sorted_tables_match_kubectl(kates: Runner, kubectl: Runner, edges_ns: str, args: tuple[str, ...]) -> None:
    assert_same_as_kubectl(kates, kubectl, "get", *args, "-n", edges_ns)


def test_a_deep_object_round_trips_through_create(kates: Runner, kubectl: Runner, edges_ns: str) -> None:
    """An object nested 300 levels deep, as `get -o json` prints it, renamed and given back to `create -f` as JSON
    and as YAML (kates's own -o yaml printer): the new objects are the old one (kates refused a manifest deeper
    than 250 levels; kubectl takes them)."""
    r = kates("get", "edgethings", "t4-deep", "-n", edges_ns, "-o", "json")
    assert r.code == 0, r
    obj = json.loads(r.out)
    for fmt, name in (("json", "t5-json"), ("yaml", "t6-yaml")):
        obj["metadata"] = {"name": name}
        manifest = json.dumps(obj) if fmt == "json" else render.to_yaml(obj)
        created = kates("create", "-f", "-", "-n", edges_ns, input=manifest)
        assert created.code == 0 and created.out == f"edgething.edges.kates.test/{name} created\n", (fmt, created)
        theirs = kubectl("get", "edgethings", name, "-n", edges_ns, "-o", "jsonpath={.spec}")
        assert theirs.code == 0 and json.loads(theirs.out) == deep(DEPTH), (fmt, theirs.err)


def test_an_unsortable_field_stops_with_kubectls_message(kates: Runner, kubectl: Runner, edges_ns: str) -> None:
    """kubectl ends the process from its comparator (klog: `F1204 12:00:00.000000 123 sorter.go:329] Field ...`,
    exit 1); kates prints the same message as its one error line (exit 2, a usage error)."""
    args = ("get", "edgethings", "--sort-by=.spec", "-o", "name", "-n", edges_ns)
    mine, theirs = kates(*args), kubectl(*args)
    assert (mine.code, mine.out, theirs.code, theirs.out) == (2, "", 1, ""), (mine, theirs)
    message = theirs.err.splitlines()[0].split("] ", 1)[1]
    assert message.startswith("Field {.spec} in *unstructured.Unstructured is an unsortable type"), theirs
    assert mine.err.splitlines()[0] == f"error: {message}", mine


def test_watch_with_a_columns_file_prints_its_header_despite_no_headers(
    cluster: ControlPlane, ns: str, cache_dir: Path, tmp_path: Path
) -> None:
    """kubectl's template-file columns printer takes no --no-headers, under -w too."""
    template = tmp_path / "columns.txt"
    template.write_text("NAME A\n.metadata.name .data.a\n")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "cm-0"}, "data": {"a": "0"}})
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), KATES_CACHE_DIR=str(cache_dir), NO_COLOR="1")
    argv = [sys.executable, "-m", "kates_cli", "get", "cm", "cm-0", "-n", ns, "-w", "--no-headers"]
    argv += ["-o", f"custom-columns-file={template}"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    assert proc.stdout is not None
    threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True).start()
    try:
        wait_for(lambda: len(lines) >= 2, 30, "the header and the ConfigMap")
    finally:
        proc.send_signal(signal.SIGTERM)  # not SIGINT: a backgrounded run (CI) starts us with SIGINT ignored
        _, err = proc.communicate(timeout=30)
    assert lines == ["NAME   A\n", "cm-0   0\n"], (lines, err)
