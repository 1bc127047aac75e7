"""`kates get` beside kubectl 1.37 where a review found them apart: Go's JSON bytes (`<`, `>`, `&`, U+2028, U+2029
escaped; floats in Go's notation) on every -o json path, a name with -A, names with --watch, --output-watch-events
with templates, kubectl's printer-flag checks, "No resources found" for kinds of both scopes, -o spellings kubectl
takes, the List of `get -f` from stdin or a directory, and Go's %v in table cells.

Each test runs kates and the real kubectl against the same objects (created as admin, without kates). kubectl exits
1 on every failure; kates exits with its documented code (2 for a usage error, 4 for a missing object), so failures
compare by class and by kubectl's words. A plain `get` runs on both of kates's paths (`kates_both_paths`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, Result, Runner, create, ensure_crd, kubectl_path, schemaless_crd
from .test_get import assert_same_as_kubectl
from .test_get_edges import first_lines

GROUP = "review.kates.example.com"
FLOATS_CRD: dict[str, Any] = schemaless_crd(GROUP, "floaters", "Floater")
FLOATS_CRD["spec"]["versions"][0]["additionalPrinterColumns"] = [  # no Age: the table compares byte for byte
    {"name": "Num", "type": "number", "jsonPath": ".spec.num"},
    {"name": "Big", "type": "number", "jsonPath": ".spec.big"},
    {"name": "Small", "type": "number", "jsonPath": ".spec.small"},
    {"name": "Note", "type": "string", "jsonPath": ".spec.note"},
]
# floats where orjson and Go write different text (0.000001 / 1e-6, 100000000000000000000 / 1e+20), and where they
# agree; strings with every character Go's encoding/json escapes
FLOATER_SPEC = {
    "num": 1234567.5,
    "big": 1e20,
    "small": 1e-6,
    "tiny": 1.5e-7,
    "huge": 1e21,
    "micro": 9.99e-6,
    "half": 0.5,
    "list": [1e-6, 2, None],
    "note": "a<b>&c \u2028 \u2029",
}
SCRIPT = "#!/bin/sh\nmake && ./run <in.txt >out.txt\n"


@pytest.fixture
def floater(cluster: ControlPlane, ns: str) -> str:
    ensure_crd(cluster, FLOATS_CRD)
    floater = {"apiVersion": f"{GROUP}/v1", "kind": "Floater", "metadata": {"name": "f"}, "spec": FLOATER_SPEC}
    create(cluster, f"/apis/{GROUP}/v1/namespaces/{ns}/floaters", floater)
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "script"}, "data": {"run.sh": SCRIPT}})
    return ns


def same(kates: Runner, kubectl: Runner, *args: str, input: str | None = None) -> tuple[Result, Result]:
    """Both tools' runs of `args`: the same stdout, and both succeed or both fail."""
    mine, theirs = kates(*args, input=input), kubectl(*args, input=input)
    assert mine.out == theirs.out, f"kates:\n{mine.out}\nkubectl:\n{theirs.out}"
    assert (mine.code == 0) == (theirs.code == 0), (mine, theirs)
    return mine, theirs


def test_json_is_gos_on_every_get_path(kates_both_paths: Runner, kubectl: Runner, floater: str) -> None:
    """A shell script's `&&` and `<`, a CR's floats: one object, a List (written page by page), several kinds."""
    ns = floater
    for args in (
        ("get", "cm", "script", "-o", "json"),
        ("get", "cm", "-o", "json"),
        ("get", "cm", "-o", "json", "--chunk-size", "1"),
        ("get", "floaters", "f", "-o", "json"),
        ("get", "floaters,cm", "-o", "json"),
    ):
        mine, _ = same(kates_both_paths, kubectl, *args, "-n", ns)
        assert mine.code == 0, mine
    assert "make \\u0026\\u0026 ./run \\u003cin.txt \\u003eout.txt" in mine.out, mine.out
    assert '"small": 0.000001,' in mine.out and '"big": 100000000000000000000,' in mine.out, mine.out


def test_json_of_writes_is_gos(kates: Runner, kubectl: Runner, floater: str) -> None:
    """create (a server dry run) prints the server's answer as -o json: the same escapes and floats as get's (only
    the uid and creation time the dry run makes up differ)."""
    doc = {"apiVersion": f"{GROUP}/v1", "kind": "Floater", "metadata": {"name": "g"}, "spec": FLOATER_SPEC}
    made = re.compile(r'"(uid|creationTimestamp)": "[^"]*"')
    args = ("create", "-f", "-", "-n", floater, "--dry-run=server", "-o", "json")
    mine, theirs = kates(*args, input=json.dumps(doc)), kubectl(*args, input=json.dumps(doc))
    assert mine.code == theirs.code == 0, (mine, theirs)
    assert made.sub("", mine.out) == made.sub("", theirs.out), f"kates:\n{mine.out}\nkubectl:\n{theirs.out}"
    assert '"small": 0.000001,' in mine.out and "a\\u003cb\\u003e\\u0026c \\u2028 \\u2029" in mine.out, mine.out


@pytest.mark.parametrize("events", [False, True], ids=["objects", "events"])
def test_json_of_a_watch_is_gos(
    cluster: ControlPlane, cache_dir: Path, kubectl: Runner, floater: str, events: bool
) -> None:
    """`get -w -o json`: the first object indented as get prints it; with --output-watch-events, kubectl's compact
    event line."""
    args = ["get", "floaters", "f", "-n", floater, "-o", "json"]
    count = 1 if events else len(kubectl(*args).out.splitlines())
    args += ["-w", *(["--output-watch-events"] if events else [])]
    mine = first_lines(cluster, cache_dir, [*KATES, *args], count)
    theirs = first_lines(cluster, cache_dir, [kubectl_path(), *args], count)
    assert mine == theirs, (mine, theirs)
    assert any("0.000001" in line for line in mine) and any("\\u0026" in line for line in mine), mine


def test_table_cells_are_gos_v(kates_both_paths: Runner, kubectl: Runner, floater: str) -> None:
    """Number cells as Go's fmt.Sprint prints a float64: `1.2345675e+06`, `1e+20`, `1e-06`."""
    mine, _ = same(kates_both_paths, kubectl, "get", "floaters", "-n", floater)
    assert mine.out.splitlines()[1].split()[:4] == ["f", "1.2345675e+06", "1e+20", "1e-06"], mine.out


@pytest.mark.parametrize(
    "args",
    [("cm", "kube-root-ca.crt", "-A"), ("cm,ns", "default", "-A"), ("cm/kube-root-ca.crt", "-A", "-o", "name")],
    ids=["name", "two-kinds", "type-name"],
)
def test_a_name_of_a_namespaced_kind_with_all_namespaces_is_refused(
    kates_both_paths: Runner, kubectl: Runner, args: tuple[str, ...]
) -> None:
    mine, theirs = same(kates_both_paths, kubectl, "get", *args)
    words = "a resource cannot be retrieved by name across all namespaces"
    assert (mine.code, mine.err) == (2, f"error: {words}\n"), mine
    assert words in theirs.err, theirs


def test_a_name_of_a_cluster_scoped_kind_with_all_namespaces_is_got(kates_both_paths: Runner, kubectl: Runner) -> None:
    assert "default" in assert_same_as_kubectl(kates_both_paths, kubectl, "get", "ns", "default", "-A")


def test_watch_names_a_missing_object(kates: Runner, kubectl: Runner, ns: str) -> None:
    """kubectl gets the named object before watching: a missing one is NotFound at once (kates: exit 4), and with
    --ignore-not-found the command ends at once, printing nothing."""
    for extra in ((), ("--watch-only",), ("-o", "json")):
        mine, theirs = same(kates, kubectl, "get", "cm", "nosuch", "-n", ns, "-w", *extra)
        assert (mine.code, mine.out, mine.err) == (4, "", 'error: configmaps "nosuch" not found\n'), mine
        assert 'configmaps "nosuch" not found' in theirs.err, theirs
    mine, theirs = same(kates, kubectl, "get", "cm", "nosuch", "-n", ns, "-w", "--ignore-not-found")
    assert (mine.code, mine.out, mine.err) == (0, "", ""), mine


def test_watch_of_several_names_prints_them_then_refuses(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str
) -> None:
    """kubectl prints the named objects, then cannot watch them (cli-runtime's Result.Watch): nothing with
    --watch-only; a missing one among them is NotFound first."""
    for name in ("a", "b"):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}})
    words = "you may only watch a single resource or type of resource at a time"
    for extra, printed in ((("-o", "name"), "configmap/a\nconfigmap/b\n"), (("--watch-only",), "")):
        mine, theirs = same(kates, kubectl, "get", "cm", "a", "b", "-n", ns, "-w", *extra)
        assert (mine.code, mine.out, mine.err) == (2, printed, f"error: {words}\n"), mine
        assert words in theirs.err, theirs
    mine, theirs = kates("get", "cm", "a", "b", "-n", ns, "-w"), kubectl("get", "cm", "a", "b", "-n", ns, "-w")
    assert mine.code == 2 and theirs.code == 1 and words in mine.err and words in theirs.err, (mine, theirs)
    assert [line.split()[:2] for line in mine.out.splitlines()] == [["NAME", "DATA"], ["a", "0"], ["b", "0"]], mine
    mine, theirs = same(kates, kubectl, "get", "cm", "a", "nosuch", "-n", ns, "-w")
    assert mine.code == 4 and 'configmaps "nosuch" not found' in mine.err and "nosuch" in theirs.err, mine


WATCH_EVENT_TEMPLATES = [
    'jsonpath={.type} {.object.metadata.name}{"\\n"}',
    'go-template={{.type}} {{.object.metadata.name}}{{"\\n"}}',
    "jsonpath-as-json={.type}",
]


@pytest.mark.parametrize("template", WATCH_EVENT_TEMPLATES, ids=["jsonpath", "go-template", "jsonpath-as-json"])
def test_watch_event_templates_read_the_event(cluster: ControlPlane, cache_dir: Path, ns: str, template: str) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
    args = ["get", "cm", "a", "-n", ns, "-w", "--output-watch-events", "-o", template]
    count = 3 if template.startswith("jsonpath-as-json") else 1
    mine = first_lines(cluster, cache_dir, [*KATES, *args], count)
    theirs = first_lines(cluster, cache_dir, [kubectl_path(), *args], count)
    assert mine == theirs, (mine, theirs)
    assert "ADDED" in "".join(mine), mine


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--show-labels", "-o", "json"), "--show-labels option cannot be used with json printer"),
        (("--show-labels", "-o", "JSON"), "--show-labels option cannot be used with JSON printer"),
        (("--show-labels", "-o", "name"), "--show-labels option cannot be used with name printer"),
        (("--show-labels", "-o", "jsonpath={.a}"), "--show-labels option cannot be used with jsonpath={.a} printer"),
        (("-L", "app", "-o", "custom-columns=A:.a"), "--label-columns option cannot be used with custom-columns=A:.a"),
        (
            ("-L", "app", "-o", "custom-columns-file=/x"),
            "--label-columns option cannot be used with custom-columns-file",
        ),
    ],
    ids=["json", "JSON", "name", "jsonpath", "custom-columns", "custom-columns-file"],
)
def test_printer_flags_kubectl_refuses(
    kates_both_paths: Runner, kubectl: Runner, ns: str, tmp_path: Path, flags: tuple[str, ...], words: str
) -> None:
    """Refused before the server is asked anything: the same words from a kubeconfig whose server is not there."""
    mine, theirs = same(kates_both_paths, kubectl, "get", "cm", "-n", ns, *flags)
    assert mine.code == 2 and mine.err.startswith(f"error: {words}"), mine
    assert words in theirs.err, theirs
    dead = tmp_path / "dead.kubeconfig"
    dead.write_text(DEAD_KUBECONFIG)
    offline = kates_both_paths("get", "cm", *flags, env={"KUBECONFIG": str(dead)})
    assert offline.code == 2 and offline.err.startswith(f"error: {words}"), offline


DEAD_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- {name: dead, cluster: {server: "https://127.0.0.1:1"}}
contexts:
- {name: dead, context: {cluster: dead, user: u, namespace: default}}
current-context: dead
users:
- {name: u, user: {token: x}}
"""


@pytest.mark.parametrize(
    ("flag", "warning"),
    [
        ("-w", "warning: --watch requested, --sort-by will be ignored for watch events received\n"),
        ("--watch-only", "warning: --watch-only requested, --sort-by will be ignored\n"),
    ],
)
def test_sort_by_with_a_watch_is_a_warning(kates: Runner, kubectl: Runner, ns: str, flag: str, warning: str) -> None:
    mine, theirs = same(kates, kubectl, "get", "cm", "nosuch", "-n", ns, flag, "--sort-by", ".metadata.name")
    assert mine.err.startswith(warning) and theirs.err.startswith(warning), (mine, theirs)


@pytest.mark.parametrize(
    ("kinds", "scoped"), [("pvc,pv", False), ("pv,pvc", False), ("pvc,secrets", True), ("pv,priorityclasses", False)]
)
def test_no_resources_found_names_a_namespace_only_when_every_kind_has_one(
    kates_both_paths: Runner, kubectl: Runner, ns: str, kinds: str, scoped: bool
) -> None:
    mine, theirs = same(kates_both_paths, kubectl, "get", kinds, "-n", ns, "-l", "kates-review=none")
    assert mine.err == theirs.err == (f"No resources found in {ns} namespace.\n" if scoped else "No resources found\n")


@pytest.mark.parametrize("spelling", ["JSON", "Yaml", "NAME", "KYAML"])
def test_output_formats_kubectl_lowercases(kates_both_paths: Runner, kubectl: Runner, ns: str, spelling: str) -> None:
    for args in (("cm", "kube-root-ca.crt"), ("cm",)):
        mine, _ = same(kates_both_paths, kubectl, "get", *args, "-n", ns, "-o", spelling)
        assert mine.code == 0 and mine.out, mine


def test_custom_columns_spec_from_template(kates_both_paths: Runner, kubectl: Runner, ns: str, tmp_path: Path) -> None:
    """`-o custom-columns --template SPEC` (and -file with the file as --template) takes the spec from --template;
    without one it is kubectl's error."""
    spec = tmp_path / "columns.txt"
    spec.write_text("NAME KIND\n.metadata.name .kind\n")
    for args in (
        ("-o", "custom-columns", "--template", "N:.metadata.name,K:.kind"),
        ("-o", "custom-columns-file", "--template", str(spec)),
    ):
        mine, _ = same(kates_both_paths, kubectl, "get", "cm", "kube-root-ca.crt", "-n", ns, *args)
        assert mine.code == 0 and "kube-root-ca.crt" in mine.out, mine
    for fmt in ("custom-columns", "custom-columns-file", "custom-columns="):
        mine, theirs = same(kates_both_paths, kubectl, "get", "cm", "-n", ns, "-o", fmt)
        words = "custom-columns format specified but no custom columns given"
        assert mine.code == 2 and mine.err == f"error: {words}\n" and words in theirs.err, (mine, theirs)


@pytest.mark.parametrize(
    ("output", "template"),
    [
        ("WIDE", ()),
        ("Jsonpath={.kind}", ()),
        ("jsonpath={.kind}", ("--template", "{.metadata.name}")),
        ("go-template={{.kind}}", ("--template", "{{.metadata.name}}")),
        ("custom-columns=K:.kind", ("--template", "N:.metadata.name")),
    ],
    ids=["WIDE", "Jsonpath", "jsonpath-and-template", "go-template-and-template", "custom-columns-and-template"],
)
def test_formats_no_printer_matches(
    kates_both_paths: Runner, kubectl: Runner, ns: str, output: str, template: tuple[str, ...]
) -> None:
    """kubectl lowercases only json, yaml, kyaml and name; with --template, a format given with `=` matches no
    printer. kates's hint lists every format it takes."""
    mine, theirs = same(kates_both_paths, kubectl, "get", "cm", "kube-root-ca.crt", "-n", ns, "-o", output, *template)
    words = f'unable to match a printer suitable for the output format "{output}"'
    assert mine.code == 2 and mine.err.startswith(f"error: {words}\n") and words in theirs.err, (mine, theirs)
    hint = mine.err.splitlines()[1]
    for fmt in ("jsonpath-file", "templatefile", "custom-columns-file", "go-template-file", "kyaml", "wide"):
        assert fmt in hint, hint


def test_get_f_prints_a_list_unless_one_file_implies_one_item(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    """cli-runtime's builder: only one file to visit implies a single item. stdin never does; a directory holding
    one manifest file does; one holding two (one of them without objects) does not."""
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
    manifest = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: {ns}\n"
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "a.yaml").write_text(manifest)
    (two / "a.yaml").write_text(manifest)
    (two / "b.yaml").write_text("# nothing here\n")
    for source, kind in (
        ("-", "List"),
        (str(one), "ConfigMap"),
        (str(two), "List"),
        (str(one / "a.yaml"), "ConfigMap"),
    ):
        for fmt in ("json", "yaml", "jsonpath={.kind}"):
            mine, _ = same(kates, kubectl, "get", "-f", source, "-o", fmt, input=manifest)
            assert mine.code == 0 and kind in mine.out, (source, fmt, mine)


def test_a_missing_object_from_stdin_prints_an_empty_list(kates: Runner, kubectl: Runner, ns: str) -> None:
    manifest = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nosuch\n  namespace: {ns}\n"
    mine, theirs = same(kates, kubectl, "get", "-f", "-", "-o", "json", input=manifest)
    assert mine.code == 4 and '"items": []' in mine.out and 'configmaps "nosuch" not found' in theirs.err, mine


def test_watch_with_a_name_still_prints_and_watches_it(cluster: ControlPlane, cache_dir: Path, ns: str) -> None:
    """A single name prints and watches as before: the read before the watch only decides NotFound."""
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
    args = ["get", "cm", "a", "-n", ns, "-w", "-o", "name"]
    assert (
        first_lines(cluster, cache_dir, [*KATES, *args], 1)
        == first_lines(cluster, cache_dir, [kubectl_path(), *args], 1)
        == ["configmap/a\n"]
    )
