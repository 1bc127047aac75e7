"""kates_cli.core.credentials: the exec plugin runs once per process and again only on expiry or a 401."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kates_cli.core.credentials import ExecAuthenticator, exec_authenticator
from kates_cli.errors import ConfigError

COUNTING_PLUGIN = """\
import json, os, sys
path = sys.argv[1]
n = (int(open(path).read()) if os.path.exists(path) else 0) + 1
open(path, "w").write(str(n))
if len(sys.argv) > 3 and n <= int(sys.argv[3]):
    sys.exit(1)
status = {"token": f"token-{n}"}
if sys.argv[2] != "-":
    status["expirationTimestamp"] = sys.argv[2]
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": status}))
"""

EXPIRY = "2030-01-02T03:04:05Z"
EXPIRES_AT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def counting_plugin(tmp_path: Path, expiry: str = "-", fail_first: int = 0) -> tuple[dict[str, Any], Path]:
    script, count = tmp_path / "plugin.py", tmp_path / "count"
    script.write_text(COUNTING_PLUGIN)
    args = [str(script), str(count), expiry, *([str(fail_first)] if fail_first else [])]
    stanza = {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable, "args": args}
    return stanza, count


def runs(count: Path) -> int:
    return int(count.read_text()) if count.exists() else 0


def test_a_credential_without_expiry_is_reused_for_the_life_of_the_process(tmp_path: Path) -> None:
    stanza, count = counting_plugin(tmp_path)
    auth = ExecAuthenticator(stanza, "https://one:6443", clock=Clock(4e9))
    assert [auth.get().token for _ in range(3)] == ["token-1"] * 3
    assert runs(count) == 1


def test_a_credential_is_reused_until_its_expiry_has_passed(tmp_path: Path) -> None:
    stanza, count = counting_plugin(tmp_path, EXPIRY)
    clock = Clock(EXPIRES_AT - 60)
    auth = ExecAuthenticator(stanza, "https://one:6443", clock=clock)
    assert auth.get().token == "token-1"
    clock.now = EXPIRES_AT  # client-go: expired only once now is after the expiry
    assert auth.get().token == "token-1" and runs(count) == 1
    clock.now = EXPIRES_AT + 0.001
    assert auth.get().token == "token-2" and runs(count) == 2  # expired: the plugin runs again
    assert auth.get().token == "token-3"  # its new credential has the same (past) expiry: each use reruns it


def test_a_401_reruns_the_plugin_once_however_many_requests_met_it(tmp_path: Path) -> None:
    stanza, count = counting_plugin(tmp_path)
    auth = ExecAuthenticator(stanza, "https://one:6443")
    stale = auth.get()
    assert auth.refresh(stale).token == "token-2"
    assert auth.refresh(stale).token == "token-2"  # another request with the same stale token: already refreshed
    assert runs(count) == 2
    assert auth.refresh(auth.get()).token == "token-3"  # the new one met a 401 too: run again


def test_a_failed_run_caches_nothing(tmp_path: Path) -> None:
    stanza, count = counting_plugin(tmp_path, fail_first=1)
    auth = ExecAuthenticator(stanza, "https://one:6443")
    with pytest.raises(ConfigError, match="exited with code 1"):
        auth.get()
    assert auth.get().token == "token-2" and runs(count) == 2


def test_one_authenticator_per_stanza_and_cluster_per_process(tmp_path: Path) -> None:
    stanza, _ = counting_plugin(tmp_path)
    first = exec_authenticator(stanza, "https://one:6443")
    assert exec_authenticator(dict(stanza), "https://one:6443") is first  # an equal stanza from another load
    assert exec_authenticator(stanza, "https://two:6443") is not first
    assert exec_authenticator({**stanza, "args": [*stanza["args"], "x"]}, "https://one:6443") is not first


def test_every_transport_of_a_process_shares_one_run(tmp_path: Path) -> None:
    """The bug of issue 10: the token and the TLS context each ran the plugin, so every command ran it twice."""
    from kates_cli.core.config import ConnectionSettings
    from kates_cli.core.transport import Transport

    stanza, count = counting_plugin(tmp_path, "-")
    settings = ConnectionSettings(server="https://127.0.0.1:1", context="c", namespace="default", exec_config=stanza)
    for transport in (Transport(settings), Transport(settings)):
        transport._context()  # what a new connection does
        assert transport._bearer(transport._exec_credential()) == "token-1"  # what each request does
    assert runs(count) == 1


class _Stdin:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_the_plugin_is_interactive_exactly_when_stdin_is_a_terminal(monkeypatch: pytest.MonkeyPatch, tty: bool) -> None:
    """client-go's isInteractive: a login plugin at a terminal may prompt (interactiveMode Always worked nowhere:
    kates never passed a terminal on); under a hook or in CI it gets no stdin."""
    from kates_cli.core.config import ExecCredential

    asked: list[bool] = []

    def run(exec_config: dict[str, Any], *, cluster_server: str, interactive: bool = False) -> ExecCredential:
        asked.append(interactive)
        return ExecCredential(f"t{len(asked)}", None, None, None)

    monkeypatch.setattr(sys, "stdin", _Stdin(tty))
    auth = ExecAuthenticator({"command": "p"}, "https://one:6443", run=run)
    used = auth.get()
    auth.refresh(used)
    assert asked == [tty, tty]
