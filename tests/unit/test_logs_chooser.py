"""cli/logs.py's Chooser with --follow, on a recording multiplexer (pure logic: which streams start and end as pods
change): a pod made again under its name is followed anew, a terminating pod's streams go on until it is gone, a
container in CrashLoopBackOff is followed (its last instance's log), and a restart starts a new stream."""

from __future__ import annotations

from typing import Any

import pytest

from kates_cli.cli.logs import Chooser, _since_seconds, parse_since_time
from kates_cli.core.logs import LogSource
from kates_cli.errors import UsageError


class Mux:
    """Records add/end/forget as LogMux would be asked them; `add` refuses a source already added, as LogMux's."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.started: set[LogSource] = set()

    def add(self, src: LogSource) -> bool:
        if src in self.started:
            return False
        self.started.add(src)
        self.calls.append(("add", str(src)))
        return True

    def end(self, src: LogSource) -> None:
        self.calls.append(("end", str(src)))

    def forget(self, src: LogSource) -> None:
        self.started.discard(src)
        self.calls.append(("forget", str(src)))


def pod(
    name: str, uid: str, *, state: str = "running", restarts: int = 0, crashed: bool = False, **meta: Any
) -> dict[str, Any]:
    status: dict[str, Any] = {"name": "c", "state": {state: {}}, "restartCount": restarts}
    if crashed:
        status["lastState"] = {"terminated": {"containerID": "containerd://old", "exitCode": 1}}
    return {
        "metadata": {"name": name, "namespace": "ns", "uid": uid, **meta},
        "spec": {"containers": [{"name": "c"}]},
        "status": {"containerStatuses": [status]},
    }


def chooser() -> tuple[Chooser, Mux]:
    mux = Mux()
    return Chooser(mux, [], None, None, False, None, True), mux  # type: ignore[arg-type]


def test_a_pod_made_again_under_its_name_is_followed_anew() -> None:
    """A StatefulSet's db-0 deleted and made again (a new uid, restartCount 0 again) was never streamed again."""
    c, mux = chooser()
    c.consider(pod("db-0", "u1", restarts=3))
    c.consider(pod("db-0", "u2"))
    assert mux.calls == [("add", "db-0/c"), ("end", "db-0/c"), ("forget", "db-0/c"), ("add", "db-0/c")]


def test_a_pod_gone_from_the_watch_is_ended_and_forgotten() -> None:
    c, mux = chooser()
    c.consider(pod("web-1", "u1"))
    c.drop_pod("ns", "web-1")
    assert mux.calls[-2:] == [("end", "web-1/c"), ("forget", "web-1/c")] and not c.sources
    c.consider(pod("web-1", "u1"))  # back (the same uid: a watch that lost it for a moment)
    assert mux.calls[-1] == ("add", "web-1/c")


def test_a_terminating_pod_is_still_followed() -> None:
    """Its shutdown logs (the grace period) are what one watches a rollout for: the stream ends with the pod."""
    c, mux = chooser()
    c.consider(pod("web-1", "u1", deletionTimestamp="2026-01-01T00:00:00Z"))
    assert mux.calls == [("add", "web-1/c")]


def test_a_crash_looping_container_is_followed_and_each_restart_anew() -> None:
    """kubectl logs -f shows a CrashLoopBackOff container's last instance (the kubelet serves it); kates showed
    nothing until the next start."""
    c, mux = chooser()
    c.consider(pod("web-1", "u1", state="waiting"))  # not started yet: nothing to read
    assert mux.calls == []
    c.consider(pod("web-1", "u1", state="waiting", restarts=1, crashed=True))
    assert mux.calls == [("add", "web-1/c")]
    c.consider(pod("web-1", "u1", state="running", restarts=2, crashed=True))
    assert mux.calls[1:] == [("end", "web-1/c"), ("forget", "web-1/c"), ("add", "web-1/c")]


@pytest.mark.parametrize(
    ("init", "ephemeral", "chosen"),
    [
        (False, False, ["p/c"]),  # kates's default: the regular containers
        (True, False, ["p/i", "p/c"]),  # --init-containers
        (True, True, ["p/i", "p/c", "p/debugger"]),  # --all-containers: kubectl's three lists, in its order
    ],
)
def test_which_kinds_of_container_are_read(init: bool, ephemeral: bool, chosen: list[str]) -> None:
    mux = Mux()
    c = Chooser(mux, [], None, None, init, None, False)  # type: ignore[arg-type]
    c.ephemeral = ephemeral
    running = {"state": {"running": {}}}
    c.consider(
        {
            "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
            "spec": {
                "initContainers": [{"name": "i"}],
                "containers": [{"name": "c"}],
                "ephemeralContainers": [{"name": "debugger"}],
            },
            "status": {
                "initContainerStatuses": [{"name": "i", "state": {"terminated": {}}}],
                "containerStatuses": [{"name": "c", **running}],
                "ephemeralContainerStatuses": [{"name": "debugger", **running}],
            },
        }
    )
    assert [src for verb, src in mux.calls if verb == "add"] == chosen


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2024-01-02T15:04:05Z", True),
        ("2024-01-02T15:04:05.123456789Z", True),
        ("2024-01-02T15:04:05+02:00", True),
        ("2024-01-02T15:04:05", False),  # no zone: Go's RFC 3339 refuses it, the server answered 400 forever
        ("2024-01-02", False),
        ("2024-01-02 15:04:05Z", False),
        ("2024-13-02T15:04:05Z", False),
    ],
)
def test_since_time_is_rfc3339_as_go_reads_it(text: str, ok: bool) -> None:
    if ok:
        assert parse_since_time(text) == text
    else:
        with pytest.raises(UsageError, match="invalid --since-time"):
            parse_since_time(text)


@pytest.mark.parametrize(("since", "seconds"), [(None, None), ("0s", None), ("1.4s", 1), ("1.6s", 2), ("0.2s", 1)])
def test_since_rounds_as_kubectl_and_zero_means_no_limit(since: str | None, seconds: int | None) -> None:
    assert _since_seconds(since) == seconds


class _Pods:
    def __init__(self, pod: dict[str, Any] | None) -> None:
        self.pod = pod

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        if self.pod is None:
            from kates_cli.errors import NotFound

            raise NotFound("pods not found", code=404)
        return self.pod


@pytest.mark.parametrize(
    ("pod", "running"),
    [
        (pod("web-1", "u1"), True),
        (pod("web-1", "u1", deletionTimestamp="2026-01-01T00:00:00Z"), True),  # terminating: it still runs
        (pod("web-1", "u1", state="terminated"), False),
        (None, False),  # gone
    ],
)
def test_a_stream_goes_on_while_its_container_runs_terminating_or_not(
    pod: dict[str, Any] | None, running: bool
) -> None:
    """A terminating pod's stream that dropped was ended (its shutdown logs lost): now it is retried while the
    container runs; init and ephemeral containers are looked up too."""
    from kates_cli.core.logs import _still_running

    assert _still_running(_Pods(pod), LogSource("ns", "web-1", "c")) is running  # type: ignore[arg-type]
    init = {"metadata": {"name": "p"}, "status": {"initContainerStatuses": [{"name": "c", "state": {"running": {}}}]}}
    assert _still_running(_Pods(init), LogSource("ns", "p", "c")) is True  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["initContainers", "ephemeralContainers"])
def test_c_names_an_init_or_ephemeral_container_as_kubectl_takes_it(key: str) -> None:
    """`kates logs POD -c init-db` (kubectl's common debugging step) found no such container without
    --init-containers; an ephemeral one (kubectl debug's) was never found. A regex still matches only the pod's
    own containers."""
    import re

    status_key = {"initContainers": "initContainerStatuses", "ephemeralContainers": "ephemeralContainerStatuses"}[key]
    p = pod("web-1", "u1")
    p["spec"][key] = [{"name": "init-db"}]
    p["status"][status_key] = [{"name": "init-db", "state": {"terminated": {"exitCode": 0}}}]
    for pattern, added in (("init-db", ["web-1/init-db"]), ("db", []), ("c", ["web-1/c"])):
        mux = Mux()
        Chooser(mux, [], re.compile(pattern), None, False, None, True).consider(p)  # type: ignore[arg-type]
        assert [name for verb, name in mux.calls if verb == "add"] == added, pattern
