"""The CLI's argument handling and its one error boundary, run in-process (no cluster needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kates_cli.cli.app import main, parse_duration
from kates_cli.cli.get import Target, parse_targets
from kates_cli.errors import (
    AlreadyExists,
    Conflict,
    ExitCode,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    Unauthorized,
    UsageError,
    from_status,
)


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("30s", 30), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "-1s", "30", "72s1", "\u0661\u0662s"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


def test_targets() -> None:
    # kubectl expands a category (`all`) only where it stands alone or without names
    assert parse_targets(["po,svc", "a", "b"]) == [Target("po", ["a", "b"], False), Target("svc", ["a", "b"], False)]
    assert parse_targets(["po/a", "po/b", "svc/c"]) == [Target("po", ["a", "b"], False), Target("svc", ["c"], False)]
    assert parse_targets(["all,cm"]) == [Target("all"), Target("cm")]
    assert parse_targets(["all", "x"]) == [Target("all", ["x"])]
    for bad in ([], ["po", "svc/x"], ["po/"], [","], ["cm", ""], ["cm", "a", ""]):
        with pytest.raises(UsageError):
            parse_targets(bad)


def test_an_empty_name_never_makes_a_collection_path() -> None:
    """The path without a name is the collection's: a DELETE of it deletes every object of the kind."""
    from kates_cli.core.mapping import ResourceRef

    ref = ResourceRef("", "v1", "configmaps", "ConfigMap", True)
    assert ref.path("ns") == "/api/v1/namespaces/ns/configmaps"
    assert ref.path("ns", "a b") == "/api/v1/namespaces/ns/configmaps/a%20b"
    assert ref.path("ns", "\udcff") == "/api/v1/namespaces/ns/configmaps/%FF"  # argv's undecodable byte
    for bad in ("", 123):
        with pytest.raises(UsageError, match="resource name"):
            ref.path("ns", bad)  # type: ignore[arg-type]


def test_a_patch_file_that_is_not_utf8_is_a_usage_error(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "bad.patch"
    path.write_bytes(b"data: {a: \xff}")
    assert main(["--kubeconfig", "/nonexistent", "patch", "cm", "x", "--patch-file", str(path)]) == 2
    assert capsys.readouterr().err == f"error: cannot read {path}: not UTF-8 (byte 10)\n"


def test_status_codes_map_to_error_classes() -> None:
    status = {"kind": "Status", "reason": "AlreadyExists", "message": 'configmaps "a" already exists'}
    err = from_status(409, status)
    assert isinstance(err, AlreadyExists) and err.message == 'configmaps "a" already exists'
    assert err.exit_code == ExitCode.CONFLICT
    assert isinstance(from_status(409, {"reason": "Conflict"}), Conflict)
    assert type(from_status(404, None)) is NotFound and from_status(404, None).exit_code == ExitCode.NOT_FOUND
    assert isinstance(from_status(401, None), Unauthorized) and from_status(401, None).exit_code == ExitCode.FORBIDDEN
    assert type(from_status(403, None)) is Forbidden
    assert isinstance(from_status(410, None), Gone) and isinstance(from_status(422, None), Invalid)
    assert from_status(500, None, "boom").message == "boom"


def test_usage_errors_are_one_line_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["get", "pods", "--no-such-flag"]) == ExitCode.USAGE
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: ") and "--no-such-flag" in err[0]
    assert err[1] == "hint: see 'kates get --help'"
    assert main(["get", "pods", "--request-timeout", "soon"]) == ExitCode.USAGE
    assert capsys.readouterr().err.startswith("error: Invalid timeout value.")


def test_config_error_without_any_kubeconfig(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("KUBECONFIG", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert main(["get", "pods"]) == ExitCode.CONFIG
    assert capsys.readouterr().err.startswith("error: no kubeconfig found")


@pytest.mark.parametrize("args", [["--help"], ["version", "--client"], ["get", "--help"]])
def test_help_and_client_version_do_not_import_kubernetes(args: list[str]) -> None:
    code = (
        "import sys, runpy; sys.argv=['kates', *sys.argv[1:]];\n"
        "from kates_cli.cli.app import main\n"
        "rc = main()\n"
        "bad = sorted(m for m in sys.modules if m == 'kubernetes' or m.startswith('kubernetes.'))\n"
        "assert not bad, bad\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


def test_logs_tail_below_minus_one_is_refused_in_kubectls_words(capsys: pytest.CaptureFixture[str]) -> None:
    """It silently meant "all"."""
    assert main(["--kubeconfig", "/nonexistent", "logs", "web", "--tail", "-5"]) == 2
    assert capsys.readouterr().err == "error: --tail must be greater than or equal to -1\n"


def test_patch_local_names_as_kubectl_and_refuses_an_object_the_patch_broke(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """No cluster: kubectl's own --local output is the reference (deployment.apps/x; kates printed deployment/x), and a
    patch that removes the kind is refused (a KeyError before: an internal error)."""
    from pathlib import Path

    path = Path(str(tmp_path)) / "dep.yaml"
    path.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n")
    args = ["patch", "--local", "-f", str(path), "--type", "merge", "-p", '{"spec":{"replicas":2}}', "-o", "name"]
    kubectl = subprocess.run(
        [str(Path(sys.executable).parent / "kubectl"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "KUBECONFIG": str(path.parent / "none"), "HOME": str(path.parent)},
    )
    assert kubectl.returncode == 0 and kubectl.stdout == "deployment.apps/x\n", kubectl
    assert main(["--kubeconfig", "/nonexistent", *args]) == 0
    assert capsys.readouterr().out == kubectl.stdout
    broken = [*args[:-4], "-p", '{"kind":null}', "-o", "name"]
    assert main(["--kubeconfig", "/nonexistent", *broken]) == 2
    assert capsys.readouterr().err == f"error: {path}: document 1 (line 1), patched: kind not set\n"
