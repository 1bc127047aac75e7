"""`kates wait -o go-template=... / go-template-file= / template= / templatefile= / --template`, against the real
kubectl wait on the same objects: the same bytes on stdout and stderr, and kubectl's exit code (kates's USAGE, 2,
where kubectl exits 1 for a bad flag)."""

from __future__ import annotations

from pathlib import Path

from kates_cli.errors import ExitCode
from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, Runner, create, kubectl_path
from .test_wait import started


def test_wait_go_template_outputs_match_kubectl(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    for name in ("a", "b"):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}, "data": {"x": "1"}})
    tmpl = tmp_path / "t.tmpl"
    tmpl.write_text('{{.metadata.name}}:{{.data.x}} {{range $k, $v := .data}}{{$k}}={{$v}}{{end}}{{"\\n"}}')
    empty = tmp_path / "empty.tmpl"
    empty.write_text("")
    wait = ["wait", "cm/a", "cm/b", "--for=jsonpath={.data.x}=1", "-n", ns]
    cases: list[tuple[list[str], str]] = [
        (["-o", 'go-template={{.metadata.name}}{{"\\n"}}'], "a\nb\n"),
        (["-o", "template={{.metadata.name}}", "--timeout=0"], "ab"),  # nothing after a template's text, as kubectl
        (["-o", f"go-template-file={tmpl}"], "a:1 x=1\nb:1 x=1\n"),
        (["--template={{.data.x}}"], "11"),  # --template alone means go-template
        (["-o", "go-template-file", f"--template={tmpl}"], "a:1 x=1\nb:1 x=1\n"),
        (["-o", f"go-template-file={empty}"], ""),  # an empty file is an empty template
        (["-o", f"jsonpath-file={empty}"], ""),  # a JSONPath one too (kates refused it as "no template given")
        (["-o", "jsonpath-file", f"--template={empty}"], ""),
        (["-o", "jsonpath", "--template={.metadata.name}"], "ab"),
        (["--template={{.x}}", "-o", "name"], "configmap/a\nconfigmap/b\n"),  # --template only for templates
        # templates see managedFields (kubectl hides them from json and yaml only); a missing key is <no value>
        (["-o", "go-template={{len .metadata.managedFields}}{{.data.nope}}"], "1<no value>1<no value>"),
        (["-o", "jsonpath={.metadata.managedFields[0].operation} "], "Update Update "),
        # an execution error: kubectl prints the text before it and its debugging dump, ignores the error, goes on
        (["-o", "go-template={{.metadata.name}}{{.data.nope}}", "--allow-missing-template-keys=false"], ""),
        (["-o", "jsonpath={.data.nope}", "--allow-missing-template-keys=false"], ""),  # JSONPath: nothing at all
    ]
    outs = []
    for args, out in cases:
        theirs, ours = kubectl(*wait, *args), kates(*wait, *args)
        assert (theirs.code, theirs.err) == (0, ""), (args, theirs)
        if out:
            assert theirs.out == out, (args, theirs)
        assert (ours.code, ours.out, ours.err) == (0, theirs.out, ""), (args, ours, theirs)
        outs.append(ours.out)
    dumped = outs[-2]
    assert dumped.startswith('aError executing template: template: output:1:25: executing "output" at <.data.nope>'), (
        dumped
    )
    assert dumped.count("Printing more information for debugging the template:") == 2, dumped

    # refused before waiting (and by get, which parses -o the same way): kubectl's words, kates's usage exit code
    get = ["get", "cm", "a", "-n", ns]
    for args in (
        [*wait, "-o", "go-template"],
        [*wait, "-o", "go-template={{.bad"],
        [*wait, "-o", "go-template-file=/nonexistent/t.tmpl"],
        [*wait, "-o", f"templatefile={tmp_path}"],
        [*get, "-o", "jsonpath"],
        [*get, "-o", "jsonpath-file=/nonexistent/t.tmpl"],
    ):
        theirs, ours = kubectl(*args), kates(*args)
        assert theirs.code == 1 and theirs.out == "" and theirs.err.startswith("error: "), (args, theirs)
        assert (ours.code, ours.out, ours.err) == (ExitCode.USAGE, "", theirs.err), (args, ours, theirs)


def test_get_with_an_empty_jsonpath_file_prints_nothing_as_kubectl(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    """An empty `-o jsonpath-file=` is an empty template (kubectl prints nothing and succeeds); only an empty flag
    value is kubectl's "no template given"."""
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}, "data": {"x": "1"}})
    empty = tmp_path / "empty.jsonpath"
    empty.write_text("")
    for args in (
        ["get", "cm", "a", "-n", ns, "-o", f"jsonpath-file={empty}"],
        ["get", "cm", "-n", ns, "-o", f"jsonpath-file={empty}"],
        ["get", "cm", "-n", ns, "-o", "jsonpath-file", f"--template={empty}"],
        ["wait", "cm/a", "-n", ns, "--for=create", "--timeout=0", "-o", f"jsonpath-file={empty}"],
    ):
        theirs, ours = kubectl(*args), kates(*args)
        assert (theirs.code, theirs.out, theirs.err) == (0, "", ""), (args, theirs)
        assert (ours.code, ours.out, ours.err) == (0, "", ""), (args, ours)
    for args in (["get", "cm", "a", "-n", ns, "-o", "jsonpath-file="], ["get", "cm", "a", "-n", ns, "-o", "jsonpath="]):
        theirs, ours = kubectl(*args), kates(*args)
        assert (theirs.code, theirs.out) == (1, ""), (args, theirs)
        assert theirs.err == "error: template format specified but no template given\n", (args, theirs)
        assert (ours.code, ours.out, ours.err) == (ExitCode.USAGE, "", theirs.err), (args, ours)


def test_wait_show_managed_fields_keeps_them_in_json_and_yaml_as_kubectl(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner
) -> None:
    """kubectl wait shares get's --show-managed-fields (kates's wait lacked it: one declaration serves both now)."""
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}, "data": {"x": "1"}})
    for fmt in ("json", "yaml", "kyaml"):
        for flags in ([], ["--show-managed-fields"]):
            args = ["wait", "cm/a", "-n", ns, "--for=create", "-o", fmt, *flags]
            theirs, ours = kubectl(*args), kates(*args)
            assert (theirs.code, theirs.err) == (0, ""), (args, theirs)
            assert ("managedFields" in theirs.out) == bool(flags), (args, theirs)
            assert (ours.code, ours.out, ours.err) == (0, theirs.out, ""), (args, ours, theirs)


def test_wait_go_template_prints_a_deleted_object_as_last_seen_as_kubectl(
    cluster: ControlPlane, ns: str, cache_dir: Path
) -> None:
    """--for=delete: the template is run on the object as it was when it went, by both."""
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "gone"}, "data": {"x": "last"}})
    args = [
        "wait",
        "cm/gone",
        "--for=delete",
        "-n",
        ns,
        "--timeout=60s",
        "-o",
        "go-template={{.metadata.name}}:{{.data.x}}",
    ]
    theirs = started(cluster, cache_dir, [kubectl_path(), *args], "configmaps")
    ours = started(cluster, cache_dir, [*KATES, *args], "configmaps")
    code, body = cluster.request("DELETE", f"/api/v1/namespaces/{ns}/configmaps/gone")
    assert code == 200, body
    want, got = theirs.result(), ours.result()
    assert (want.code, want.out, want.err) == (0, "gone:last", ""), want
    assert (got.code, got.out, got.err) == (0, want.out, ""), got
