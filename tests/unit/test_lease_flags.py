"""`kates watch --leader-elect` flags (cli/leadership.py): defaults, identity, and refusals before any request."""

from __future__ import annotations

import socket

import pytest

from kates_cli.cli.leadership import parse_options
from kates_cli.core.lease import Timing
from kates_cli.errors import UsageError

NONE: dict[str, str | None] = {"--lease-duration": None, "--renew-deadline": None, "--retry-period": None}


def test_defaults_are_client_gos_and_the_current_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POD_NAME", "web-7f9c-abcde")
    got = parse_options(True, "hooks", None, None, NONE, "prod")
    assert got is not None
    assert (got.namespace, got.name, got.identity, got.timing) == ("prod", "hooks", "web-7f9c-abcde", Timing())
    assert got.where == "prod/hooks"


def test_without_pod_name_the_identity_is_the_hostname_and_a_random_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POD_NAME", raising=False)
    first = parse_options(True, "l", "ns", None, NONE, "default")
    second = parse_options(True, "l", "ns", None, NONE, "default")
    assert first is not None and second is not None
    assert first.identity.startswith(socket.gethostname() + "_") and first.identity != second.identity
    assert first.namespace == "ns"


def test_durations_are_go_durations() -> None:
    got = parse_options(
        True,
        "l",
        None,
        "me",
        {"--lease-duration": "1m", "--renew-deadline": "30s", "--retry-period": "1500ms"},
        "default",
    )
    assert got is not None and got.timing == Timing(60.0, 30.0, 1.5) and got.identity == "me"


def test_without_leader_elect_nothing_is_set_up() -> None:
    assert parse_options(False, None, None, None, NONE, "default") is None


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"--lease-namespace": "x"}, "--lease-namespace needs --leader-elect"),
        ({"--identity": "x"}, "--identity needs --leader-elect"),
        ({"--renew-deadline": "5s"}, "--renew-deadline needs --leader-elect"),
    ],
)
def test_leader_flags_without_leader_elect_are_refused(flags: dict[str, str], message: str) -> None:
    durations = {k: flags.get(k) for k in NONE}
    with pytest.raises(UsageError, match=f"^{message}$"):
        parse_options(False, None, flags.get("--lease-namespace"), flags.get("--identity"), durations, "default")


def test_an_empty_identity_is_refused() -> None:
    with pytest.raises(UsageError, match=r"^--identity must not be empty$"):
        parse_options(True, "l", None, "", NONE, "default")
