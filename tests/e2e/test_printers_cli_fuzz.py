"""Fuzzing `kates get -o jsonpath=/jsonpath-as-json=/custom-columns=/custom-columns-file=` and `--sort-by` through the
CLI (issue 11, section 3) against real objects on the shared control plane: a few ConfigMaps and a custom object
nested 300 levels deep (600 levels of JSON). kates runs in-process through `cli.app.main()` (its one error
boundary, as the console script runs it) so that a few hundred invocations take seconds; each runs under a 20 s
alarm. For every input: exit 0 or USAGE (2), one `error:` line when it fails, never "internal error" or a traceback,
never a hang. The strategies are tests/unit/test_printers_fuzz.py's.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kates_cli.cli.app import main
from kates_cli.errors import ExitCode
from tests import figures
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import Runner, create, ensure_crd, schemaless_crd
from tests.unit.test_printers_fuzz import Hang, alarm, column_exprs, column_specs, nested, sort_paths, templates

CRD = schemaless_crd("fuzz.kates.test", "fuzzthings", "FuzzThing")
DEPTH = 300


@pytest.fixture
def fuzz_objects(cluster: ControlPlane, ns: str) -> str:
    ensure_crd(cluster, CRD)
    for i, data in enumerate([{"a": "1"}, {"a": "x", "b": "<&>"}, {}]):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"cm-{i}"}, "data": data})
    thing = {"apiVersion": "fuzz.kates.test/v1", "kind": "FuzzThing", "metadata": {"name": "deep"}}
    create(cluster, f"/apis/fuzz.kates.test/v1/namespaces/{ns}/fuzzthings", thing | {"spec": nested(DEPTH)})
    return ns


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), alarm(20.0):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


USAGE_ERRORS: dict[str, int] = {}


def documented(code: int, err: str, row: str = "") -> None:
    assert code in (ExitCode.SUCCESS, ExitCode.USAGE), (code, err)
    USAGE_ERRORS[row] = USAGE_ERRORS.get(row, 0) + (code == ExitCode.USAGE)
    assert "internal error" not in err and "Traceback" not in err, err
    if code:
        assert err.startswith("error: ") and err.strip(), err


def test_get_output_templates_fuzzed_through_the_cli(
    fuzz_objects: str, cluster: ControlPlane, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = fuzz_objects
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    monkeypatch.setenv("KATES_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("NO_COLOR", "1")
    for var in ("KATES_NAMESPACE", "KATES_CONTEXT"):
        monkeypatch.delenv(var, raising=False)
    columns_file = tmp_path / "columns"
    manifest = tmp_path / "cms.yaml"
    manifest.write_text(
        "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: {ns}\n" for i in (0, 2))
    )
    tried = {"jsonpath": 0, "custom-columns": 0, "sort-by": 0}

    # the deep object prints in every format
    for fmt in ("json", "yaml", "jsonpath={.spec}", "jsonpath-as-json={..a}", "custom-columns=S:.spec", "name"):
        code, out, err = run(["get", "fuzzthings", "deep", "-n", ns, "-o", fmt])
        assert code == 0 and err == "", (fmt, err)
        assert out.count("a") >= DEPTH or fmt == "name", fmt

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(templates, st.sampled_from(["cm cm-1", "cm", "fuzzthings deep", "cm,fuzzthings", "-f"]), st.booleans())
    def jsonpath(template: str, what: str, as_json: bool) -> None:
        tried["jsonpath"] += 1
        fmt = ("jsonpath-as-json=" if as_json else "jsonpath=") + template
        target = ["-f", str(manifest)] if what == "-f" else [*what.split(), "-n", ns]
        documented(*run(["get", *target, "-o", fmt])[::2], "jsonpath")

    @settings(max_examples=90, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(column_specs, st.lists(column_exprs, min_size=1, max_size=3), st.booleans(), st.booleans())
    def custom_columns(spec: str, exprs: list[str], from_file: bool, no_headers: bool) -> None:
        tried["custom-columns"] += 1
        if from_file:
            columns_file.write_text(" ".join(f"H{i}" for i in range(len(exprs))) + "\n" + " ".join(exprs) + "\n")
            fmt = f"custom-columns-file={columns_file}"
        else:
            fmt = f"custom-columns={spec}"
        argv = ["get", "cm,fuzzthings", "-n", ns, "-o", fmt] + (["--no-headers"] if no_headers else [])
        documented(*run(argv)[::2], "custom-columns")

    cm_paths = st.sampled_from([".metadata.name", "{.data.a}", ".data.b", "metadata.uid", ".metadata.resourceVersion"])

    @settings(max_examples=90, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(cm_paths | sort_paths, st.sampled_from(["", "json", "name", "wide", "jsonpath={.items[*].metadata.name}"]))
    def sort_by(path: str, fmt: str) -> None:
        tried["sort-by"] += 1
        argv = ["get", "cm", "-n", ns, f"--sort-by={path}"] + (["-o", fmt] if fmt else [])
        code, out, err = run(argv)
        documented(code, err, "sort-by")
        if code == 0 and fmt == "name":
            assert sorted(out.split()) == [f"configmap/cm-{i}" for i in range(3)] + ["configmap/kube-root-ca.crt"]

    try:
        jsonpath()
        custom_columns()
        sort_by()
    except Hang as exc:
        raise AssertionError(f"a kates run hung: {exc}") from None
    for row, n in tried.items():
        figures.record(
            "fuzz",
            f"{row} (kates get)",
            tried=n,
            calls=n,
            internal_errors=0,
            hangs=0,
            usage_errors=USAGE_ERRORS.get(row, 0),
        )


def test_objects_deeper_than_orjson_reads_print_and_are_watched(
    cluster: ControlPlane, ns: str, kates: Runner, tmp_path: Path
) -> None:
    """1,500 levels of map-in-list (3,000 of JSON): the API server stores it; orjson refuses to read past 1,024
    levels, which made `kates get` of it an internal error in every format and ended a `kates watch` of its kind
    ("watch of fuzzthings failed: JSONDecodeError: depth limit exceeded")."""
    ensure_crd(cluster, CRD)
    depth = 1500
    body = (
        '{"apiVersion":"fuzz.kates.test/v1","kind":"FuzzThing","metadata":{"name":"deeper"},"spec":'
        + '{"a":[' * depth
        + '"bottom"'
        + "]}" * depth
        + "}"
    )  # written by hand: the json module cannot encode it at its default recursion limit
    conn = http.client.HTTPSConnection("127.0.0.1", cluster.port, context=cluster._ssl(), timeout=30)
    conn.request(
        "POST",
        f"/apis/fuzz.kates.test/v1/namespaces/{ns}/fuzzthings",
        body=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    assert resp.status == 201, resp.read()[:300]
    conn.close()
    for fmt, check in [
        ("name", lambda out: out == "fuzzthing.fuzz.kates.test/deeper\n"),
        ("jsonpath={.spec}", lambda out: out == '{"a":[' * depth + '"bottom"' + "]}" * depth),
        ("json", lambda out: out.count('"a": [') == depth and out.endswith("\n        ]\n    }\n}\n")),
        ("yaml", lambda out: out.count("bottom") == 1),
    ]:
        r = kates("get", "fuzzthings", "deeper", "-n", ns, "-o", fmt)
        assert r.code == 0 and r.err == "", (fmt, r.code, r.err)
        assert check(r.out), (fmt, r.out[:200], r.out[-200:])
    r = kates("get", "fuzzthings", "-n", ns)
    assert r.code == 0 and r.out.split()[2:3] == ["deeper"], r
    hook = tmp_path / "hook.py"
    hook.write_text(
        "import sys\ndata = sys.stdin.buffer.read()\nprint(len(data), data.count(b'bottom'), data.count(b'\"a\":['))\n"
    )
    r = kates("watch", "-q", f"things=fuzzthings ns={ns}", "--once", "--exec", sys.executable, "--", str(hook))
    assert r.code == 0, r
    assert r.out.split()[1:] == ["1", str(depth)], r


def test_the_library_writes_objects_deeper_than_orjson_writes(cluster: ControlPlane, ns: str) -> None:
    """orjson refuses to encode past 255 levels: `Client.create`, `update` and `patch` of a deeper object failed
    with its JSONEncodeError before anything was sent. The object is written, read back and patched whole."""
    from kates_cli.core.client import Client

    ensure_crd(cluster, CRD)
    depth = 400
    spec: dict[str, object] = {"leaf": "bottom"}
    for _ in range(depth):
        spec = {"a": [spec]}
    obj = {"apiVersion": "fuzz.kates.test/v1", "kind": "FuzzThing", "metadata": {"name": "written"}, "spec": spec}
    with Client(str(cluster.kubeconfig), namespace=ns) as client:
        created = client.create(obj)
        assert created["spec"] == spec
        created["spec"] = {"a": [spec]}
        assert client.update(created)["spec"] == {"a": [spec]}
        patched = client.patch("fuzzthings", "written", {"spec": spec}, namespace=ns)
        assert patched["spec"] == spec
        assert client.get("fuzzthings", "written")["spec"] == spec
