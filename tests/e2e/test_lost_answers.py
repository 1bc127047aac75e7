"""Writes whose answer was lost (the connection died after the request went through) are never repeated unless
repeating them is safe, and are reported as uncertain (issue 11, 1b "Retried writes"). The fault is exact, not
timed: `LoseAnswers` holds back whatever the server sends after a request larger than a threshold (so only the big
write under test is affected), the test waits until the server shows the write applied, then resets the
connection: the answer is lost, and the write certainly was applied."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from kates_cli.core.config import load
from kates_cli.core.transport import Transport
from kates_cli.errors import AlreadyExists, ExitCode, KatesError, Uncertain
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import _env
from tests.faultproxy import FaultProxy, _rst

pytestmark = pytest.mark.e2e

BIG = 64 * 1024  # requests above this lose their answer; kates's discovery and reads are far smaller


class LoseAnswers(FaultProxy):
    """A proxy that, on a connection that has sent more than `threshold` bytes since its last answer, holds back
    what the server sends (`held`) until `lose()` resets the connection; armed `times` times. Everything else,
    TLS handshakes included, passes through."""

    def __init__(self, target_port: int, threshold: int = BIG, times: int = 1) -> None:
        self.threshold = threshold
        self.times = times
        self.lost = 0
        self._sent: dict[socket.socket, int] = {}
        self._held: set[socket.socket] = set()
        self._state = threading.Lock()
        super().__init__(target_port)

    @property
    def held(self) -> int:
        with self._state:
            return len(self._held)

    def lose(self) -> None:
        """Reset every connection whose answer is held back: the client never sees it."""
        with self._state:
            held, self._held = self._held, set()
            self.lost += len(held)
        assert held, "no answer was held"
        for s in held:
            _rst(s)

    def _passes(self, src: socket.socket, dst: socket.socket, data: bytes) -> bool:
        upstream = src.getpeername() == self.target
        client = dst if upstream else src
        with self._state:
            if not upstream:
                self._sent[client] = self._sent.get(client, 0) + len(data)
            elif client in self._held or (
                self._sent.get(client, 0) > self.threshold and self.lost + len(self._held) < self.times
            ):
                self._held.add(client)  # an answer to the big request: never passed on
                return False
            else:
                self._sent[client] = 0  # an answer: the next request starts counting afresh
        return True


def lose_answer(proxy: LoseAnswers, call: Callable[[], Any], applied: Callable[[], bool]) -> Any:
    """Run `call` (a write) in a thread; once the server shows it `applied` and its answer is held, lose the answer.
    Returns what `call` returned or raised."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except KatesError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_for(applied, 30, "the write to be applied on the server")
    wait_for(lambda: proxy.held > 0, 30, "the server's answer, held back")
    proxy.lose()
    thread.join(60)
    assert outcome, "the write did not return"
    return outcome[0]


@pytest.fixture
def proxy(cluster: ControlPlane) -> Iterator[LoseAnswers]:
    with LoseAnswers(cluster.port) as p:
        yield p


@pytest.fixture
def transport(cluster: ControlPlane, proxy: LoseAnswers, tmp_path: Path) -> Iterator[Transport]:
    cfg = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
    t = Transport(load(str(cfg), env={}, home="/nonexistent"))
    t.request("GET", "/version")  # a pooled connection: the write below reuses it, as a real command's would
    yield t
    t.close()


def configmap(name: str | None = None, **meta: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"labels": {"lost": "answer"}, **meta}
    if name:
        metadata["name"] = name
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"big": "x" * (BIG + 1024)}}


def count(cluster: ControlPlane, ns: str) -> int:
    code, body = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps?labelSelector=lost%3Danswer")
    assert code == 200, body
    return len(body["items"])


def uncertain(outcome: Any) -> Uncertain:
    assert isinstance(outcome, Uncertain), outcome
    assert outcome.exit_code == ExitCode.UNREACHABLE
    assert outcome.message.startswith("the request may have been applied: the connection was lost before the answer"), (
        outcome.message
    )
    return outcome


def status(cluster: ControlPlane, path: str) -> int:
    return int(cluster.request("GET", path)[0])


def big(cluster: ControlPlane, path: str, char: str) -> bool:
    code, body = cluster.request("GET", path)
    return code == 200 and str((body.get("data") or {}).get("big", "")).startswith(char)


def test_a_create_whose_answer_was_lost_is_uncertain_and_not_retried(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    create = lambda: transport.request("POST", path, body=orjson.dumps(configmap("lost")))  # noqa: E731
    err = uncertain(lose_answer(proxy, create, lambda: status(cluster, f"{path}/lost") == 200))
    assert (err.method, err.path) == ("POST", path)
    assert proxy.lost == 1
    # the next request on the same transport works (the dead connection is not pooled)
    with pytest.raises(AlreadyExists):
        create()


def test_a_generate_name_create_never_makes_two_objects(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    body = orjson.dumps(configmap(generateName="gen-"))
    uncertain(lose_answer(proxy, lambda: transport.request("POST", path, body=body), lambda: count(cluster, ns) > 0))
    made = count(cluster, ns)
    assert made == 1 and proxy.lost == 1
    figures.record("fault matrix", "generateName create, answer lost", objects=made, duplicated=0, reported="uncertain")


def test_a_json_patch_whose_answer_was_lost_is_uncertain(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/p"
    assert cluster.request("POST", path.rsplit("/", 1)[0], {"metadata": {"name": "p"}})[0] == 201
    body = orjson.dumps([{"op": "add", "path": "/data", "value": {"big": "y" * (BIG + 1024)}}])
    patch = lambda: transport.request("PATCH", path, body=body, content_type="application/json-patch+json")  # noqa: E731
    uncertain(lose_answer(proxy, patch, lambda: big(cluster, path, "y")))
    assert proxy.lost == 1


def test_a_delete_whose_answer_was_lost_is_uncertain(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/d"
    assert cluster.request("POST", path.rsplit("/", 1)[0], {"metadata": {"name": "d"}})[0] == 201
    padded = orjson.dumps({"kind": "DeleteOptions", "apiVersion": "v1"}) + b" " * (BIG + 1024)  # big enough to hold
    delete = lambda: transport.request("DELETE", path, body=padded)  # noqa: E731
    uncertain(lose_answer(proxy, delete, lambda: status(cluster, path) == 404))
    assert proxy.lost == 1


def test_a_merge_patch_whose_answer_was_lost_is_repeated(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/m"
    assert cluster.request("POST", path.rsplit("/", 1)[0], {"metadata": {"name": "m"}})[0] == 201
    body = orjson.dumps({"data": {"big": "z" * (BIG + 1024)}})
    patch = lambda: transport.request_json("PATCH", path, body=body, content_type="application/merge-patch+json")  # noqa: E731
    out = lose_answer(proxy, patch, lambda: big(cluster, path, "z"))
    assert isinstance(out, dict) and out["data"]["big"].startswith("z"), out
    assert proxy.lost == 1


def test_a_conditional_replace_that_conflicts_with_itself_is_uncertain(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/r"
    code, created = cluster.request("POST", path.rsplit("/", 1)[0], {"metadata": {"name": "r"}})
    assert code == 201
    obj = configmap("r", resourceVersion=created["metadata"]["resourceVersion"])
    replace = lambda: transport.request("PUT", path, body=orjson.dumps(obj))  # noqa: E731
    uncertain(lose_answer(proxy, replace, lambda: big(cluster, path, "x")))
    assert proxy.lost == 1


def test_kates_create_reports_a_lost_answer_as_uncertain_with_exit_6(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, cache_dir: Path, tmp_path: Path
) -> None:
    cfg = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
    env = _env(cluster, cache_dir, {"KUBECONFIG": str(cfg)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "kates_cli", "create", "-n", ns, "-f", "-"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def run() -> tuple[int, str, str]:
        out, err = proc.communicate(orjson.dumps(configmap("cli")).decode(), timeout=120)
        return proc.returncode, out, err

    try:
        code, out, err = lose_answer(
            proxy, run, lambda: status(cluster, f"/api/v1/namespaces/{ns}/configmaps/cli") == 200
        )
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == ExitCode.UNREACHABLE, (out, err)
    assert "may have been applied" in err and "already exists" not in err, err
    assert proxy.lost == 1 and count(cluster, ns) == 1
