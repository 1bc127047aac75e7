"""Writes whose answer was lost (the connection died after the request went through) are never repeated unless
repeating them is safe, and are reported as uncertain (issue 11, 1b "Retried writes"). The fault is exact, not
timed: `LoseAnswers` passes every request on and drops the answer to the first one larger than a threshold, so
only the big write under test loses its answer."""

from __future__ import annotations

import select
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from kates_cli.core.config import load
from kates_cli.core.transport import Transport
from kates_cli.errors import AlreadyExists, ExitCode, Uncertain
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import Runner
from tests.faultproxy import FaultProxy, _rst

pytestmark = pytest.mark.e2e

BIG = 64 * 1024  # requests above this lose their answer; kates's discovery and reads are far smaller


class LoseAnswers(FaultProxy):
    """A proxy that resets a connection instead of passing on the answer to a request of more than `threshold`
    bytes (client to server, counted per connection), `times` times; everything else passes through."""

    def __init__(self, target_port: int, threshold: int = BIG, times: int = 1) -> None:
        self.threshold = threshold
        self.times = times
        self.lost = 0
        self._sent: dict[int, int] = {}
        super().__init__(target_port)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        upstream = src.getpeername() == self.target
        client = dst if upstream else src
        try:
            while True:
                ready, _, _ = select.select([src], [], [], 0.1)  # not a blocking recv: a close must end the loop
                if not ready:
                    continue
                data = src.recv(65536)
                if not data:
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                key = client.fileno()
                if not upstream:
                    self._sent[key] = self._sent.get(key, 0) + len(data)
                elif self._sent.get(key, 0) > self.threshold and self.lost < self.times:
                    self.lost += 1  # the server has answered the big request: lose the answer
                    raise ConnectionResetError
                else:
                    self._sent[key] = 0  # an answer: the next request starts counting afresh
                dst.sendall(data)
        except (OSError, ValueError):
            for s in (src, dst):
                _rst(s)
        finally:
            with self._lock:
                self._conns = [p for p in self._conns if src not in p]


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


def uncertain(call: Callable[[], Any]) -> Uncertain:
    with pytest.raises(Uncertain) as err:
        call()
    assert err.value.exit_code == ExitCode.UNREACHABLE
    assert err.value.message.startswith(
        "the request may have been applied: the connection was lost before the answer"
    ), err.value.message
    return err.value


def test_a_create_whose_answer_was_lost_is_uncertain_and_not_retried(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    err = uncertain(lambda: transport.request("POST", path, body=orjson.dumps(configmap("lost"))))
    assert (err.method, err.path) == ("POST", path)
    assert proxy.lost == 1
    assert cluster.request("GET", f"{path}/lost")[0] == 200  # it was applied, once
    # the next request on the same transport works (the dead connection is not pooled)
    with pytest.raises(AlreadyExists):
        transport.request("POST", path, body=orjson.dumps(configmap("lost")))


def test_a_generate_name_create_never_makes_two_objects(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    uncertain(lambda: transport.request("POST", path, body=orjson.dumps(configmap(generateName="gen-"))))
    assert proxy.lost == 1
    assert count(cluster, ns) == 1


def test_a_delete_and_a_json_patch_whose_answers_were_lost_are_uncertain(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    assert cluster.request("POST", path, {"metadata": {"name": "p", "labels": {"lost": "answer"}}})[0] == 201
    patch = [{"op": "add", "path": "/data", "value": {"big": "y" * (BIG + 1024)}}]
    uncertain(
        lambda: transport.request(
            "PATCH", f"{path}/p", body=orjson.dumps(patch), content_type="application/json-patch+json"
        )
    )
    assert proxy.lost == 1
    assert cluster.request("GET", f"{path}/p")[1]["data"]["big"].startswith("y")
    proxy.times = 2
    padded = orjson.dumps({"kind": "DeleteOptions", "apiVersion": "v1"}) + b" " * (BIG + 1024)
    uncertain(lambda: transport.request("DELETE", f"{path}/p", body=padded))
    assert proxy.lost == 2
    assert cluster.request("GET", f"{path}/p")[0] == 404


def test_a_merge_patch_whose_answer_was_lost_is_repeated(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    assert cluster.request("POST", path, {"metadata": {"name": "m"}})[0] == 201
    body = orjson.dumps({"data": {"big": "z" * (BIG + 1024)}})
    out = transport.request_json("PATCH", f"{path}/m", body=body, content_type="application/merge-patch+json")
    assert proxy.lost == 1 and out["data"]["big"].startswith("z")


def test_a_conditional_replace_that_conflicts_with_itself_is_uncertain(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, transport: Transport
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    code, created = cluster.request("POST", path, {"metadata": {"name": "r"}})
    assert code == 201
    obj = configmap("r", resourceVersion=created["metadata"]["resourceVersion"])
    uncertain(lambda: transport.request("PUT", f"{path}/r", body=orjson.dumps(obj)))
    assert proxy.lost == 1
    assert cluster.request("GET", f"{path}/r")[1]["data"]["big"].startswith("x")


def test_kates_create_reports_a_lost_answer_as_uncertain_with_exit_6(
    cluster: ControlPlane, ns: str, proxy: LoseAnswers, kates: Runner, tmp_path: Path
) -> None:
    cfg = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
    # a cache of its own: discovery's reads go first on the connection the create then reuses
    env = {"KUBECONFIG": str(cfg), "KATES_CACHE_DIR": str(tmp_path / "cache")}
    r = kates("create", "-n", ns, "-f", "-", input=orjson.dumps(configmap("cli")).decode(), env=env)
    assert r.code == ExitCode.UNREACHABLE, r
    assert "may have been applied" in r.err and "already exists" not in r.err, r
    assert proxy.lost == 1
    assert count(cluster, ns) == 1
