"""Manifests nested deep, through `create -f` and `get -f`, JSON and YAML, against the real kubectl.

Up to 1,000 levels both take them (kates hit a RecursionError, an internal error, from about 700 levels: write's
copy of each object recursed). Past 1,000 levels kates refuses them as libyaml does, exit 2, with a hint: deliberately
not kubectl, which reads up to 10,000 levels (manifests.py's docstring says why). Past 10,000 both refuse them.
"""

from __future__ import annotations

import json
from pathlib import Path

from kates_cli.errors import ExitCode
from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, ensure_crd, schemaless_crd

CRD = schemaless_crd("deep.kates.test", "deepthings", "DeepThing")


def nested(levels: int, flow_yaml: bool) -> str:
    """`spec` as JSON (or YAML flow) text making the document `levels` containers deep (the top object counts)."""
    text = "bottom" if flow_yaml else '"bottom"'
    for i in range(levels - 1):
        if i % 2:
            text = "[" + text + "]"
        else:
            text = ("{a: " + text + "}") if flow_yaml else ('{"a":' + text + "}")
    return text


def manifest(tmp_path: Path, name: str, levels: int, fmt: str) -> Path:
    path = tmp_path / f"{name}.{fmt}"
    if fmt == "json":
        head = json.dumps({"apiVersion": "deep.kates.test/v1", "kind": "DeepThing", "metadata": {"name": name}})
        path.write_text(head[:-1] + ',"spec":' + nested(levels, False) + "}\n")
    else:
        head = f"apiVersion: deep.kates.test/v1\nkind: DeepThing\nmetadata:\n  name: {name}\nspec: "
        path.write_text(head + nested(levels, True) + "\n")
    return path


def test_manifests_a_thousand_levels_deep_are_created_and_got_as_kubectl(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    ensure_crd(cluster, CRD)
    for fmt in ("json", "yaml"):
        mine, theirs = manifest(tmp_path, f"k-{fmt}", 1000, fmt), manifest(tmp_path, f"c-{fmt}", 1000, fmt)
        created = kates("create", "-f", str(mine), "-n", ns)
        assert (created.code, created.out, created.err) == (0, f"deepthing.deep.kates.test/k-{fmt} created\n", "")
        assert kubectl("create", "-f", str(theirs), "-n", ns).code == 0
        for output in ("json", "jsonpath={.spec}") if fmt == "json" else ("yaml",):
            ours = kates("get", "-f", str(mine), "-n", ns, "-o", output)
            want = kubectl("get", "-f", str(mine), "-n", ns, "-o", output)
            assert (ours.code, ours.err) == (0, ""), (fmt, output, ours)
            assert ours.out == want.out, (fmt, output)
        deleted = kates("delete", "-f", str(theirs), "-n", ns)
        assert deleted.code == 0, deleted


def test_manifests_past_a_thousand_levels_are_refused_with_the_limit_named(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    ensure_crd(cluster, CRD)
    for fmt, line in (("json", 1), ("yaml", 5)):
        path = manifest(tmp_path, f"d-{fmt}", 1001, fmt)
        for verb in ("create", "get"):
            ours = kates(verb, "-f", str(path), "-n", ns)
            assert (ours.code, ours.out) == (ExitCode.USAGE, ""), (fmt, verb, ours)
            assert ours.err == (
                f"error: {path}: document 1 (line {line}): invalid YAML: exceeded maximum nesting depth\n"
                "hint: kates reads manifests nested up to 1000 levels (libyaml's limit; kubectl's is 10000)\n"
            ), (fmt, verb, ours)
        # the deliberate difference: kubectl reads it
        theirs = kubectl("create", "--dry-run=server", "-f", str(path), "-n", ns)
        assert theirs.code == 0, theirs
        # past 10000 levels kubectl refuses it too
        deeper = manifest(tmp_path, f"e-{fmt}", 10001, fmt)
        theirs, ours = kubectl("create", "-f", str(deeper), "-n", ns), kates("create", "-f", str(deeper), "-n", ns)
        assert (theirs.code, theirs.out) == (1, ""), theirs
        assert "exceeded max depth" in theirs.err, theirs
        assert (ours.code, ours.out) == (ExitCode.USAGE, ""), ours
        assert "exceeded maximum nesting depth" in ours.err, ours
    assert kubectl("get", "deepthings", "-n", ns, "-o", "name").out == ""  # nothing was created
