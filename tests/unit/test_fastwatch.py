"""The fast path of `kates watch` (cli/fastwatch.py): it reads a command line as the click command does, or not at all.

`watchrun.run` is replaced by a recorder, so each command line runs through `main()` twice, once on each path (the
full one forced by KATES_NO_FASTPATH=1), and the two records -- the State and every value `watchrun.run` receives,
defaults filled in -- must be equal. No cluster is needed: the recorder stands in for the watch, not for the API
server.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kates_cli.cli import fastwatch, watchrun
from kates_cli.cli.app import main
from kates_cli.cli.state import State

SIGNATURE = inspect.signature(watchrun.run)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every call of `watchrun.run`, as (path, values): "fast" through cli/fastwatch.py, "full" through click."""
    for var in ("KUBERC", "KUBECTL_KUBERC", "KATES_NO_FASTPATH", "KATES_NAMESPACE", "KATES_CONTEXT", "KATES_RUN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("KATES_WRITE_SOCKET", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/kuberc
    seen: list[tuple[str, dict[str, Any]]] = []

    def recorder(*args: Any, **kwargs: Any) -> int:
        bound = SIGNATURE.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        state: State = values.pop("state")
        fields = {f.name: getattr(state, f.name) for f in dataclasses.fields(state) if f.name not in ("env", "_client")}
        values["queries"] = list(values["queries"] or [])
        values["hook_args"] = list(values["hook_args"] or [])
        callers = [f.frame.f_globals["__name__"] for f in inspect.stack()]
        path = "fast" if "kates_cli.cli.fastwatch" in callers else "full"
        seen.append((path, {"state": fields, **values}))
        return 7

    monkeypatch.setattr(watchrun, "run", recorder)
    return seen


def both(argv: list[str], calls: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(exit code, record) of `argv` on the path main() chooses, then on the full path."""
    calls.clear()
    first = main(argv), (calls[-1] if calls else None)
    monkeypatch.setenv("KATES_NO_FASTPATH", "1")
    calls.clear()
    full = main(argv), (calls[-1] if calls else None)
    monkeypatch.delenv("KATES_NO_FASTPATH")
    return first, full


ACCEPTED = [
    ["watch", "-q", "cm"],
    ["watch", "-q", "cm ns=x", "-q", "web=deploy l=app=web", "--once", "--exec", "cat"],
    ["watch", "-qsvc", "-q=cm", "--query", "secrets", "--query=web=deploy ns=prod"],
    ["watch", "-q", "cm", "-n", "a", "--namespace=b,c", "-nd", "-n=e"],
    ["-n", "x", "watch", "-q", "cm"],
    ["--context", "c", "--kubeconfig=/k", "watch", "-q", "cm", "-A"],
    ["watch", "--all-namespaces", "-q", "cm", "--output-deltas", "--wait-for-kinds"],
    ["watch", "-q", "cm", "--exec=./hook.sh", "--debounce", "500ms", "--debounce-max=2s", "--hook-timeout", "5m"],
    ["watch", "-q", "cm", "--max-backoff", "1m", "--grace-period=3s", "--bootstrap-timeout", "30s"],
    ["watch", "-q", "cm", "--stall-timeout=10s", "--log-format", "json", "--metrics-addr", ":9090"],
    ["watch", "-q", "cm", "--resync", "2s", "--once", "--once"],
    ["watch", "-q", "cm jq={name: .metadata.name}", "--exec", "cat"],
    ["watch", "-q", "cm", "--log-format=bogus"],  # the same UsageError on both paths, from watchrun.run
    ["watch"],  # no query: the same UsageError on both paths
]

REFUSED = [
    [],
    ["watch", "-q", "cm", "--exec", "cat", "--", "a"],
    ["watch", "-q", "cm", "extra"],
    ["watch", "-q"],
    ["watch", "-q", "-x"],
    ["watch", "-q="],
    ["watch", "-q", "cm", "--once=true"],
    ["watch", "-q", "cm", "-Aq", "x"],
    ["watch", "-q", "cm", "--debug"],
    ["watch", "-q", "cm", "--max-failures", "3"],
    ["watch", "-q", "cm", "--max-dependencies=5"],
    ["watch", "-q", "cm", "--record", "/tmp/r"],
    ["watch", "-q", "cm", "--leader-elect", "--lease", "l"],
    ["watch", "-q", "cm", "--request-timeout", "5s"],
    ["watch", "-q", "cm", "-h"],
    ["watch", "--help"],
    ["watch", "-q", "cm", "-"],
    ["get", "cm"],
    ["x", "watch", "-q", "cm"],
    ["--once", "watch", "-q", "cm"],  # the full path finds no command: a leading unknown option takes a value
    ["-A", "watch", "-q", "cm"],
    ["-q", "cm", "--output-deltas", "watch"],
    ["--exec=cat", "watch", "-q", "cm"],
]


@pytest.mark.parametrize("argv", ACCEPTED, ids=" ".join)
def test_fast_path_reads_a_command_line_as_click_does(
    argv: list[str], calls: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert fastwatch.parse(argv) is not None
    (code, fast), (full_code, full) = both(argv, calls, monkeypatch)
    assert fast is not None and fast[0] == "fast", "the fast path was not taken"
    assert full is not None and full[0] == "full"
    assert code == full_code == 7
    assert fast[1] == full[1]


@pytest.mark.parametrize("argv", REFUSED, ids=" ".join)
def test_anything_else_takes_the_full_path(argv: list[str]) -> None:
    assert fastwatch.parse(argv) is None


def test_every_option_the_fast_path_reads_is_one_of_watchruns_parameters() -> None:
    names = set(SIGNATURE.parameters) | {"namespace", "context", "kubeconfig"}
    assert set(fastwatch._VALUES.values()) | set(fastwatch._FLAGS.values()) <= names


def test_inside_a_hook_or_with_a_kuberc_the_full_path_reads(
    calls: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KATES_RUN", "3")
    assert main(["watch", "-q", "cm"]) == 7
    monkeypatch.delenv("KATES_RUN")
    kuberc = tmp_path / "kuberc"
    kuberc.write_text("apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\n")
    monkeypatch.setenv("KUBERC", str(kuberc))
    assert main(["watch", "-q", "cm"]) == 7
    assert [path for path, _ in calls] == ["full", "full"]


WORDS = [
    "-q", "cm", "svc ns=a", "-qcm", "-q=secrets", "--query", "--query=x=deploy", "-n", "ns1", "-nns2", "-n=ns3",
    "--namespace=n4,n5", "-A", "--all-namespaces", "--once", "--output-deltas", "--wait-for-kinds", "--exec", "cat",
    "--exec=./h", "--debounce", "1s", "--debounce-max=3s", "--hook-timeout=1m", "--max-backoff", "--grace-period=2s",
    "--stall-timeout", "--log-format=json", "--resync=5s", "--metrics-addr", ":0", "--context=c", "--kubeconfig",
    "/k", "--", "-", "", "x", "--max-failures", "2",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    argv=st.tuples(st.lists(st.sampled_from(WORDS), max_size=3), st.lists(st.sampled_from(WORDS), max_size=8)).map(
        lambda words: [*words[0], "watch", *words[1]]
    )
)
def test_fast_and_full_paths_agree_on_any_command_line(
    argv: list[str], calls: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the words, a command line the fast path takes gives `watchrun.run` what the full path gives it."""
    if fastwatch.parse(argv) is None:
        return
    (code, fast), (full_code, full) = both(argv, calls, monkeypatch)
    assert fast is not None and fast[0] == "fast"
    assert (code, fast[1]) == (full_code, full[1] if full else None)


def test_the_fast_path_imports_neither_typer_nor_click(tmp_path: Path) -> None:
    """The point of the fast path: a plain `watch` never imports typer or click (it fails on a missing kubeconfig
    here, which is enough to know which modules it imported), and says what the full path says."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KATES_", "KUBE"))}
    env.update(HOME=str(tmp_path), KUBECONFIG=str(tmp_path / "none"))
    code = (
        "import sys; from kates_cli.cli.app import main; code = main(sys.argv[1:]); "
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click')))"
    )
    argv = [sys.executable, "-c", code, "watch", "-q", "cm", "--once", "--exec", "cat"]
    fast = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert fast.stdout.strip().endswith(" []"), fast
    assert "error:" in fast.stderr
    full = subprocess.run(argv, capture_output=True, text=True, env={**env, "KATES_NO_FASTPATH": "1"})
    assert "'typer'" in full.stdout, full
    assert (full.stderr, full.stdout.split()[0]) == (fast.stderr, fast.stdout.split()[0])
