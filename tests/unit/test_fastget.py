"""The fast path of `kates get` (cli/fastget.py): it reads a command line as the click command does, or not at all.

`get.run` is replaced by a recorder, so each command line runs through `main()` twice, once on each path (the full
one forced by KATES_NO_FASTPATH=1), and the two records -- the State and every value `get.run` receives -- must be
equal. No cluster is needed: the recorder stands in for the command's work, not for the API server.
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

from kates_cli.cli import fastget, get, getcommand
from kates_cli.cli.app import main
from kates_cli.cli.state import State

DEFAULTS = {
    name: p.default
    for name, p in inspect.signature(get.run).parameters.items()
    if p.default is not inspect.Parameter.empty
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every call of `get.run`, as (path, values): "fast" through cli/fastget.py, "full" through click."""
    for var in ("KUBERC", "KUBECTL_KUBERC", "KATES_NO_FASTPATH", "KATES_NAMESPACE", "KATES_CONTEXT", "KATES_RUN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("KATES_WRITE_SOCKET", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/kuberc
    seen: list[tuple[str, dict[str, Any]]] = []

    def recorder(path: str) -> Any:
        def run(state: State, args: list[str] | None, **options: Any) -> None:
            fields = {
                f.name: getattr(state, f.name) for f in dataclasses.fields(state) if f.name not in ("env", "_client")
            }
            seen.append((path, {"state": fields, "args": list(args or []), **{**DEFAULTS, **options}}))

        return run

    monkeypatch.setattr(get, "run", recorder("fast"))
    monkeypatch.setattr(getcommand, "run", recorder("full"))
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
    ["get", "ns", "default"],
    ["get", "cm"],
    ["get", "cm", "-o", "json"],
    ["get", "cm", "-oyaml"],
    ["get", "cm", "-o=name"],
    ["get", "cm", "--output=wide"],
    ["get", "cm", "--output", "json"],
    ["get", "cm", "a", "b", "-n", "x"],
    ["get", "cm/a", "secret/b", "-nfoo"],
    ["get", "cm", "-n=foo", "--namespace", "bar", "--namespace=a,b"],
    ["-n", "x", "get", "cm"],
    ["-o", "name", "--context", "c", "get", "cm,secrets"],
    ["get", "cm", "-A"],
    ["get", "cm", "--all-namespaces", "-l", "app=web"],
    ["get", "cm", "-lapp=web,tier!=db", "--field-selector", "metadata.name=a"],
    ["get", "cm", "-l=a=b", "--selector=x"],
    ["get", "cm", "--selector="],
    ["get", "cm", "--field-selector=metadata.name!=a"],
    ["get", "cm", "--kubeconfig", "/k", "--context=c"],
    ["get", "cm", "--namespace="],
    ["get"],
]

REFUSED = [
    [],
    ["get", "cm", "--debug"],
    ["get", "cm", "-o", "jsonpath={.items}"],
    ["get", "cm", "-o", "kyaml"],
    ["get", "cm", "-o"],
    ["get", "cm", "-o="],
    ["get", "cm", "-l="],  # pflag: the value "="
    ["get", "cm", "-n"],
    ["get", "cm", "-n", "-x"],
    ["get", "cm", "-A=true"],
    ["get", "cm", "--all-namespaces=false"],
    ["get", "cm", "-Ao", "name"],
    ["get", "cm", "--show-labels"],
    ["get", "cm", "-w"],
    ["get", "cm", "--", "x"],
    ["get", "cm", "-"],
    ["get", "-h"],
    ["get", "cm", "--help"],
    ["get", "cm", "--request-timeout", "5s"],
    ["get", "cm", "--kuberc", "/k"],
    ["logs", "x"],
    ["x", "get", "cm"],
    ["--context", "c"],
    ["-A", "get", "pods"],  # the full path finds no command: a leading unknown option takes a value
    ["--all-namespaces", "get", "cm"],
]


@pytest.mark.parametrize("argv", ACCEPTED, ids=" ".join)
def test_fast_path_reads_a_command_line_as_click_does(
    argv: list[str], calls: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert fastget.parse(argv) is not None
    (code, fast), (full_code, full) = both(argv, calls, monkeypatch)
    assert fast is not None and fast[0] == "fast", "the fast path was not taken"
    assert full is not None and full[0] == "full"
    assert code == full_code == 0
    assert fast[1] == full[1]


@pytest.mark.parametrize("argv", REFUSED, ids=" ".join)
def test_anything_else_takes_the_full_path(argv: list[str]) -> None:
    assert fastget.parse(argv) is None


def test_environment_turns_the_fast_path_off() -> None:
    assert fastget.enabled({})
    assert fastget.enabled({"KATES_NO_FASTPATH": "0"})
    assert not fastget.enabled({"KATES_NO_FASTPATH": "1"})
    assert not fastget.enabled({"KATES_WRITE_SOCKET": "/run/kates.sock"})  # inside a hook: the watcher answers reads
    assert not fastget.enabled({"KATES_RUN": "3"})


def test_a_kuberc_means_the_full_path(
    calls: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kuberc = tmp_path / "kuberc"
    kuberc.write_text("apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\n")
    monkeypatch.setenv("KUBERC", str(kuberc))
    assert main(["get", "cm"]) == 0
    assert [path for path, _ in calls] == ["full"]


def test_inside_a_hook_the_full_path_reads(
    calls: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KATES_WRITE_SOCKET", "/nonexistent/kates.sock")
    monkeypatch.setenv("KATES_NAMESPACE", "hooked")
    assert main(["get", "cm"]) == 0
    assert [path for path, _ in calls] == ["full"]
    assert calls[0][1]["state"]["namespace"] == "hooked"


WORDS = [
    "get", "cm", "ns", "a", "b,c", "x/y", "-n", "ns1", "-nns2", "-n=ns3", "--namespace", "--namespace=n4,n5",
    "-A", "--all-namespaces", "-o", "json", "yaml", "name", "wide", "kyaml", "-ojson", "-o=yaml", "--output=name",
    "--output", "-l", "app=web", "-lk=v", "-l=a=b", "--selector=t!=d", "--selector", "--field-selector",
    "metadata.name=a", "--field-selector=f=1", "--context", "ctx", "--context=c2", "--kubeconfig=/nowhere",
    "--kubeconfig", "-w", "--show-kind", "-A=1", "--", "-", "",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    argv=st.tuples(st.lists(st.sampled_from(WORDS), max_size=3), st.lists(st.sampled_from(WORDS), max_size=8)).map(
        lambda words: [*words[0], "get", *words[1]]
    )
)
def test_fast_and_full_paths_agree_on_any_command_line(
    argv: list[str], calls: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the words, a command line the fast path takes gives `get.run` what the full path gives it."""
    if fastget.parse(argv) is None:
        return
    (code, fast), (full_code, full) = both(argv, calls, monkeypatch)
    assert fast is not None and fast[0] == "fast"
    assert (code, fast[1]) == (full_code, full[1] if full else None)


def test_the_fast_path_imports_neither_typer_nor_click(tmp_path: Path) -> None:
    """The point of the fast path: a plain `get` never imports typer or click (it fails on a missing kubeconfig
    here, which is enough to know which modules it imported)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KATES_", "KUBE"))}
    env.update(HOME=str(tmp_path), KUBECONFIG=str(tmp_path / "none"))
    code = (
        "import sys; from kates_cli.cli.app import main; main(sys.argv[1:]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click')))"
    )
    fast = subprocess.run([sys.executable, "-c", code, "get", "ns"], capture_output=True, text=True, env=env)
    assert fast.stdout.strip() == "[]", fast
    assert "error:" in fast.stderr
    full = subprocess.run(
        [sys.executable, "-c", code, "get", "ns"], capture_output=True, text=True, env={**env, "KATES_NO_FASTPATH": "1"}
    )
    assert "'typer'" in full.stdout, full
    assert full.stderr == fast.stderr


def test_kuberc_off_leaves_the_fast_path_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test suite runs with KUBECTL_KUBERC=false (isolation from the machine's kuberc): that must not send every
    plain `get` down the full path, or the e2e tests of the fast path would test the full one twice."""
    from kates_cli.cli import app

    monkeypatch.setenv("KUBECTL_KUBERC", "false")
    monkeypatch.delenv("KUBERC", raising=False)
    assert not app._kuberc_may_apply(["get", "ns"])
    assert app._kuberc_may_apply(["get", "ns", "--kuberc", "x"])  # kuberc.apply refuses the flag, as kubectl
    monkeypatch.setenv("KUBECTL_KUBERC", "true")
    assert app._kuberc_may_apply(["get", "ns"])
