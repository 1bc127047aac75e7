"""The fault tools themselves work: the proxy forwards, stalls silently and resets (tests/faultproxy.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import Runner
from tests.faultproxy import FaultProxy

pytestmark = pytest.mark.e2e


def test_proxy_forwards_stalls_and_resets(cluster: ControlPlane, kates: Runner, tmp_path: Path) -> None:
    with FaultProxy(cluster.port) as proxy:
        cfg = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
        r = kates("get", "ns", "default", "-o", "name", env={"KUBECONFIG": str(cfg)})
        assert r.code == 0 and r.out == "namespace/default\n", r
        assert proxy.accepted >= 1

        # stalled: a raw connection is accepted but no byte comes back
        proxy.stall()
        s = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        s.sendall(b"\x16\x03\x01\x00\x05hello")  # the start of a TLS record: the server would answer or close
        s.settimeout(1.0)
        with pytest.raises(TimeoutError):
            s.recv(1)
        wait_for(lambda: proxy.open_connections >= 1, 5, "the stalled connection to be held")
        assert proxy.reset() >= 1
        s.settimeout(5)
        with pytest.raises(ConnectionResetError):
            s.recv(1)
        s.close()
        proxy.resume()
        r = kates("get", "ns", "default", "-o", "name", env={"KUBECONFIG": str(cfg)})
        assert r.code == 0, r
