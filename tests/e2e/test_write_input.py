"""Bad input never reaches the server, and what a write reports is what the server holds (issue 11: 1b, 2, 3).

Against the real control plane: documents kates cannot send are refused before the first request, an oversize
object gets the server's own answer, a closed stdout pipe ends quietly, and a `create -f` cut by an API-server
kill reports exactly what the server holds afterwards."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kates_cli.errors import ExitCode
from tests import figures
from tests.badinput import HEADER, bomb
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, Runner, _env

DOCUMENTED = {int(c) for c in ExitCode}


def cm_doc(name: str, **data: str) -> str:
    return HEADER.format(name=name) + f"data: {json.dumps(data)}\n"  # JSON is YAML, and faster to write


def held(cluster: ControlPlane, ns: str, plural: str = "configmaps", group: str = "api/v1") -> list[str]:
    code, body = cluster.request("GET", f"/{group}/namespaces/{ns}/{plural}")
    assert code == 200, body
    return sorted(i["metadata"]["name"] for i in body["items"] if i["metadata"]["name"] != "kube-root-ca.crt")


def clean(result: Any) -> None:
    """No traceback and no internal error, whatever the input; a documented exit code."""
    assert "Traceback" not in result.err and "internal error" not in result.err, result
    assert result.code in DOCUMENTED, result


# -- refused before the first request ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("x: !!binary aGVsbG8=\n", "a !!binary value has no JSON form"),
        ("x: &r [*r]\n", "an anchor's value contains itself"),
        ("data: {a: .nan}\n", "json: unsupported value: NaN"),
    ],
)
def test_a_bad_document_at_position_1001_of_2000_sends_nothing(
    kates: Runner, cluster: ControlPlane, ns: str, tmp_path: Path, bad: str, words: str
) -> None:
    # the case at 5,001 of 10,000 left 5,000 objects created and the rest untried
    docs = [cm_doc(f"c{i}", a="1") for i in range(2000)]
    docs[1000] = HEADER.format(name="bad") + bad
    path = tmp_path / "many.yaml"
    path.write_text("---\n".join(docs))
    result = kates("create", "-n", ns, "-f", str(path))
    assert result.code == ExitCode.USAGE and result.out == "", result
    assert result.err.startswith(f"error: {path}: document 1001 (line ") and words in result.err, result
    assert held(cluster, ns) == []


def test_nan_in_a_patch_is_refused_and_the_data_kept(kates: Runner, cluster: ControlPlane, ns: str) -> None:
    # before: exit 0, and orjson sent NaN as null, which deleted data.a
    assert kates("create", "-n", ns, "-f", "-", input=cm_doc("p", a="keep")).code == 0
    for patch_type in ("strategic", "merge"):
        result = kates("patch", "-n", ns, "cm", "p", "--type", patch_type, "-p", '{"data":{"a":NaN}}')
        assert result.code == ExitCode.USAGE and result.out == "", result
        assert result.err == 'error: unable to parse "{\\"data\\":{\\"a\\":NaN}}": json: unsupported value: NaN\n'
    _, body = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps/p")
    assert body["data"] == {"a": "keep"}


def deployment(replicas: str) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
        f"spec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: d}}}}\n"
        "  template:\n    metadata: {labels: {app: d}}\n    spec: {containers: [{name: c, image: x}]}\n"
    )


def test_infinite_replicas_are_refused_before_sending(kates: Runner, cluster: ControlPlane, ns: str) -> None:
    # before: .inf was sent as null and the Deployment was created with 1 replica
    result = kates("create", "-n", ns, "-f", "-", input=deployment(".inf"))
    assert result.code == ExitCode.USAGE, result
    assert result.err == "error: <stdin>: document 1 (line 1): at spec.replicas: json: unsupported value: +Inf\n"
    assert held(cluster, ns, "deployments", "apis/apps/v1") == []


def test_a_huge_integer_gets_the_servers_answer_as_kubectl_does(kates: Runner, ns: str) -> None:
    # before: "internal error: TypeError: Integer exceeds 64-bit range"; kubectl sends 1e+23 (go-yaml's float)
    result = kates("create", "-n", ns, "-f", "-", input=deployment("99999999999999999999999"))
    clean(result)
    assert result.code == ExitCode.ERROR, result
    assert "cannot unmarshal number 1e+23 into Go struct field DeploymentSpec.spec.replicas of type int32" in result.err


def test_an_alias_bomb_is_refused_as_kubectl_refuses_it(kates: Runner, cluster: ControlPlane, ns: str) -> None:
    text = HEADER.format(name="bomb") + bomb(9, 9)  # under 500 bytes; 387 million values once expanded
    start = time.monotonic()
    result = kates("create", "-n", ns, "-f", "-", input=text)
    assert result.code == ExitCode.USAGE, result
    assert result.err.startswith("error: <stdin>: document 1 (line 1): yaml: document contains excessive aliasing\n"), (
        result
    )
    assert time.monotonic() - start < 10
    assert held(cluster, ns) == []


def test_invalid_utf8_on_stdin_is_a_usage_error(cluster: ControlPlane, cache_dir: Path, ns: str) -> None:
    raw = (cm_doc("u") + "  b: '").encode() + b"\xff\xfe'\n"
    proc = subprocess.run(
        [*KATES, "create", "-n", ns, "-f", "-"], input=raw, capture_output=True, env=_env(cluster, cache_dir, None)
    )
    assert proc.returncode == ExitCode.USAGE, proc
    assert re.fullmatch(rb"error: <stdin>: not UTF-8 text \(invalid byte at offset \d+\)\n", proc.stderr), proc
    assert held(cluster, ns) == []


def test_a_bad_duration_is_refused_in_pflags_words(kates: Runner, cluster: ControlPlane, ns: str) -> None:
    assert kates("create", "-n", ns, "-f", "-", input=cm_doc("keep")).code == 0
    for text, why in [("72s1", 'missing unit in duration "72s1"'), ("١٢s", 'invalid duration "\\xd9\\xa1\\xd9\\xa2s"')]:  # noqa: RUF001
        result = kates("delete", "-n", ns, "cm", "keep", "--timeout", text)
        assert result.code == ExitCode.USAGE, result
        assert result.err.startswith(f'error: invalid argument "{text}" for "--timeout" flag: time: {why}\n'), result
    assert held(cluster, ns) == ["keep"]


# -- the server's answer, per object ----------------------------------------------------------------------------


def test_an_oversize_object_gets_the_servers_413_and_the_rest_go_on(
    kates: Runner, cluster: ControlPlane, ns: str, tmp_path: Path
) -> None:
    # before: "unable to connect to the server ...: EOF occurred in violation of protocol", exit 6, rest skipped
    path = tmp_path / "big.yaml"
    huge = HEADER.format(name="huge") + f"data: {{x: {'x' * (12 << 20)}}}\n"  # 12 MiB: the server closes early
    path.write_text("---\n".join([cm_doc("a", x="1"), huge, cm_doc("b", x="1")]))
    result = kates("create", "-n", ns, "-f", str(path))
    assert result.code == ExitCode.ERROR, result
    assert result.out == "configmap/a created\nconfigmap/b created\n", result
    assert re.fullmatch(
        f"error: creating {re.escape(str(path))}: document 2 \\(line \\d+\\): Request entity too large: "
        "limit is 3145728\nerror: 1 of 3 objects failed\n",
        result.err,
    ), result
    assert held(cluster, ns) == ["a", "b"]


# -- a closed stdout pipe -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["get", "cm", "-A", "-o", "yaml"], ["get", "cm", "-n", "{ns}"], ["version"]])
def test_a_closed_stdout_pipe_ends_quietly_with_141(
    cluster: ControlPlane, cache_dir: Path, ns: str, args: list[str]
) -> None:
    # before: exit 1 and not a word (click's own EPIPE handling)
    read, write = os.pipe()
    os.close(read)  # no reader at all: the first write meets EPIPE, whatever the timing
    try:
        proc = subprocess.run(
            [*KATES, *(a.replace("{ns}", ns) for a in args)],
            stdout=write,
            stderr=subprocess.PIPE,
            env=_env(cluster, cache_dir, None),
            timeout=60,
        )
    finally:
        os.close(write)
    assert proc.returncode == ExitCode.BROKEN_PIPE == 141, proc
    assert proc.stderr == b"", proc


# -- fuzz through the real CLI ------------------------------------------------------------------------------------


def _contents(cluster: ControlPlane, ns: str) -> list[tuple[str, str]]:
    """The namespace's configmaps and deployments, each with its resourceVersion: any write changes it."""
    out = []
    for path in (f"/api/v1/namespaces/{ns}/configmaps", f"/apis/apps/v1/namespaces/{ns}/deployments"):
        code, body = cluster.request("GET", path)
        assert code == 200, body
        out += [(i["metadata"]["name"], i["metadata"]["resourceVersion"]) for i in body["items"]]
    return sorted(out)


@pytest.fixture
def in_process(cluster: ControlPlane, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """kates's main() in this process (the same entry point as the command, without a process's start-up cost);
    `run.writes` counts the write requests that left it (the transport is the only way out)."""
    from kates_cli.cli.app import main
    from kates_cli.core.transport import Transport

    real_open = Transport.open
    writes = [0]

    def counting_open(self: Transport, method: str, path: str, **kwargs: Any) -> Any:
        if method not in ("GET", "HEAD"):
            writes[0] += 1
        return real_open(self, method, path, **kwargs)

    monkeypatch.setattr(Transport, "open", counting_open)

    for key, value in _env(cluster, cache_dir, None).items():
        monkeypatch.setenv(key, value)

    def run(*args: str, stdin: bytes = b"") -> tuple[int, str]:
        import io

        err = io.StringIO()
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        monkeypatch.setattr(sys, "stdout", io.StringIO())
        monkeypatch.setattr(sys, "stderr", err)
        code = main(list(args))
        return code, err.getvalue()

    run.writes = writes  # type: ignore[attr-defined]
    yield run


def test_fuzzed_input_through_the_cli_sends_nothing_when_invalid(
    in_process: Any, cluster: ControlPlane, ns: str
) -> None:
    from hypothesis import HealthCheck, given, settings

    from kates_cli.cli.durations import parse_duration
    from kates_cli.cli.manifests import load
    from kates_cli.cli.write import _parse_patch, validate_json_patch
    from kates_cli.errors import UsageError
    from tests.badinput import DURATION_TEXTS, PATCH_TYPES, manifest_texts, patch_texts

    assert in_process("create", "-n", ns, "-f", "-", stdin=cm_doc("target", a="1").encode())[0] == 0
    counts = {"manifests": [0, 0], "patches": [0, 0], "durations": [0, 0]}  # [tried, sent when invalid]
    start = time.monotonic()

    def invalid(check: Any) -> bool:
        try:
            check()
        except UsageError:
            return True
        return False

    def one(cls: str, is_invalid: bool, *args: str, stdin: bytes = b"") -> None:
        before = (in_process.writes[0], _contents(cluster, ns) if is_invalid else None)
        code, err = in_process(*args, stdin=stdin)
        counts[cls][0] += 1
        assert "Traceback" not in err and "internal error" not in err, (args, err)
        assert code in DOCUMENTED, (args, code, err)
        if is_invalid:
            assert code == ExitCode.USAGE, (args, code, err)
            if (in_process.writes[0], _contents(cluster, ns)) != before:
                counts[cls][1] += 1

    settings_ = settings(
        max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
    )
    tmp = Path(cluster.workdir) / "fuzz-manifest.yaml"

    @settings_
    @given(manifest_texts())
    def manifests(text: bytes) -> None:
        tmp.write_bytes(text)
        one("manifests", invalid(lambda: load([str(tmp)])), "create", "-n", ns, "-f", "-", stdin=text)

    @settings_
    @given(patch_texts(), PATCH_TYPES)
    def patches(text: str, patch_type: str) -> None:
        def check() -> None:
            body = _parse_patch(text, "p")
            if patch_type == "json":
                validate_json_patch(body)
            elif not isinstance(body, dict):
                raise UsageError("not an object")

        one("patches", invalid(check), "patch", "-n", ns, "cm", "target", "--type", patch_type, "-p", text)

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    @given(DURATION_TEXTS)
    def durations(text: str) -> None:
        if "\x00" in text or text.startswith("-"):
            return  # not an argv word / read as a flag
        bad = invalid(lambda: parse_duration(text, "--timeout"))
        one("durations", bad, "delete", "-n", ns, "cm", "nothing-by-this-name", "--timeout", text)

    manifests()
    patches()
    durations()
    for cls, (tried, sent) in counts.items():
        figures.record(
            "fuzz", f"{cls} (CLI, control plane)", tried=tried, internal_errors=0, hangs=0, sent_when_invalid=sent
        )
        assert sent == 0, cls
    assert time.monotonic() - start < 120


# -- faults: the API server killed -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def killable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """One control plane of this module's own, for the two tests that kill its API server."""
    with ControlPlane(controller_manager=False) as cp:
        yield cp


def _ready(cp: ControlPlane) -> bool:
    return cp.request("GET", "/readyz")[0] == 200


def test_create_cut_by_an_apiserver_kill_reports_what_the_server_holds(
    killable: ControlPlane, cache_dir: Path, tmp_path: Path
) -> None:
    cp = killable
    assert cp.request("POST", "/api/v1/namespaces", {"metadata": {"name": "cut"}})[0] == 201
    names = [f"o{i:03d}" for i in range(200)]
    path = tmp_path / "200.yaml"
    big = "x" * 100_000  # big enough that 200 creates take a while to send
    path.write_text("---\n".join(HEADER.format(name=n) + f"data: {{x: {big}}}\n" for n in names))
    proc = subprocess.Popen(
        [*KATES, "create", "-n", "cut", "-f", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(cp, cache_dir, None),
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    thirty = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if len(lines) >= 30:
                thirty.set()
        thirty.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert thirty.wait(120), "kates did not create 30 objects"
        cp.kill_apiserver()
        killed_at = len(lines)
        err = proc.stderr.read()
        code = proc.wait(60)
        reader.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        cp.start_apiserver()
    wait_for(lambda: _ready(cp), 60, "kube-apiserver ready again")
    reported = {m.group(1) for line in lines if (m := re.fullmatch(r"configmap/(\S+) created\n", line))}
    uncertain = set(re.findall(r'configmaps "(\S+)": the request may have been applied', err))
    holds = set(held(cp, "cut"))
    assert killed_at < 200, "the kill came after the last create: nothing was tested"
    assert code == ExitCode.UNREACHABLE, (code, err)
    assert "Traceback" not in err and "already exists" not in err, err
    not_sent = re.search(r"error: (\d+) of 200 objects were not sent", err)
    assert not_sent, err
    mismatches = len(holds - reported - uncertain) + len(reported - holds)
    assert len(reported) + 1 + int(not_sent.group(1)) == 200, err  # created, the one cut, and those never sent
    figures.record(
        "fault matrix",
        "create -f 200, apiserver killed",
        reported_created=len(reported),
        uncertain=len(uncertain),
        server_holds=len(holds),
        mismatches=mismatches,
    )
    assert mismatches == 0, (sorted(holds - reported - uncertain), sorted(reported - holds), err)


def test_delete_wait_resumes_across_an_apiserver_restart(killable: ControlPlane, cache_dir: Path) -> None:
    cp = killable
    assert cp.request("POST", "/api/v1/namespaces", {"metadata": {"name": "wait"}})[0] == 201
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "finalizers": ["kates.test/hold"]}}
    assert cp.request("POST", "/api/v1/namespaces/wait/configmaps", obj)[0] == 201
    proc = subprocess.Popen(
        [*KATES, "delete", "-n", "wait", "cm", "held", "--timeout", "120s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(cp, cache_dir, None),
    )
    start = time.monotonic()
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == 'configmap "held" deleted from wait namespace\n'
        cp.kill_apiserver()
        cp.start_apiserver()
        wait_for(lambda: _ready(cp), 60, "kube-apiserver ready again")
        assert proc.poll() is None, "kates stopped waiting while the object was still there"
        code, _ = cp.request(
            "PATCH",
            "/api/v1/namespaces/wait/configmaps/held",
            {"metadata": {"finalizers": None}},
            content_type="application/merge-patch+json",
        )
        assert code == 200
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    figures.record(
        "fault matrix",
        "delete --wait, apiserver killed",
        exit_code=proc.returncode,
        seconds=round(time.monotonic() - start, 1),
        lost=0 if proc.returncode == 0 else 1,
    )
    assert proc.returncode == 0 and out == "", (proc.returncode, out, err)
    assert "Traceback" not in err, err


def test_a_reader_that_leaves_mid_output_ends_kates_quietly_with_141(
    cluster: ControlPlane, cache_dir: Path, ns: str, kates: Runner
) -> None:
    # before: CPython dropped what a partial write left over, and kates exited 0 (`kates get -o yaml | head -1`)
    docs = "---\n".join(cm_doc(f"b{i}", x="x" * 100_000) for i in range(3))  # more than a pipe holds
    assert kates("create", "-n", ns, "-f", "-", input=docs).code == 0
    read, write = os.pipe()
    proc = subprocess.Popen(
        [*KATES, "get", "cm", "-n", ns, "-o", "yaml"],
        stdout=write,
        stderr=subprocess.PIPE,
        env=_env(cluster, cache_dir, None),
    )
    os.close(write)
    try:
        assert os.read(read, 10)  # kates is now blocked on a full pipe: the reader leaves
    finally:
        os.close(read)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.BROKEN_PIPE, (proc.returncode, err)
    assert err == b""


@pytest.mark.parametrize("verb", ["create", "delete"])
def test_a_write_whose_answer_is_lost_is_reported_uncertain_not_retried(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, kates: Runner, verb: str
) -> None:
    # before: the request was sent again on a fresh connection, and the object this very command had created came
    # back "already exists" (exit 7), the one it had deleted "not found" (exit 4)
    from tests.faultproxy import FaultProxy

    path = tmp_path / "lost.yaml"
    path.write_text(cm_doc("lost", a="1"))
    if verb == "delete":
        assert kates("create", "-n", ns, "-f", str(path)).code == 0
        args, done, line = ["delete", "-n", ns, "cm", "lost", "--no-wait"], [], ""
    else:
        assert kates("get", "cm", "-n", ns).code == 0  # discovery cached: the run below sends only its POST
        args, done, line = ["create", "-n", ns, "-f", str(path)], ["lost"], f"creating {path}: document 1 (line 1): "
    with FaultProxy(cluster.port) as proxy:
        proxy.delay(1.0)  # every chunk, both ways: the server's answer waits in the proxy while we look
        cfg = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
        proc = subprocess.Popen(
            [*KATES, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(cluster, cache_dir, {"KUBECONFIG": str(cfg)}),
        )
        try:
            wait_for(lambda: held(cluster, ns) == done, 60, f"the {verb} to reach the server", interval=0.02)
            proxy.reset()  # the answer is still in the proxy's 1 s delay: it never arrives
            proxy.delay(0)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == ExitCode.UNREACHABLE, (proc.returncode, out, err)
    assert out == "", out
    assert err.startswith(
        f'error: {line}configmaps "lost": the request may have been applied; '
        "the connection was lost before the answer\n"
    ), err
    assert "already exists" not in err and "not found" not in err and "Traceback" not in err, err
    assert held(cluster, ns) == done
