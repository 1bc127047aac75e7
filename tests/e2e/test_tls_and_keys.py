"""TLS against the real API server: verification is never silently off, a wrong CA or a server name the
certificate does not hold is a clear UNREACHABLE error naming the failure, and the client key never lies on disk,
not even after a SIGKILL (issue 11, 1b and section 4)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.certs import LocalPKI
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import Runner

pytestmark = pytest.mark.e2e


def edited(cluster: ControlPlane, dest: Path, **fields: Any) -> Path:
    """The cluster's kubeconfig with `fields` set on its cluster entry."""
    cfg = yaml.safe_load(cluster.kubeconfig.read_text())
    for entry in cfg["clusters"]:
        entry["cluster"].update(fields)
    dest.write_text(yaml.safe_dump(cfg))
    return dest


def test_a_wrong_ca_is_an_unreachable_error_naming_the_verification_failure(
    cluster: ControlPlane, kates: Runner, tmp_path: Path
) -> None:
    other_ca = LocalPKI(tmp_path / "pki").ca_cert.read_bytes()
    cfg = edited(cluster, tmp_path / "kc", **{"certificate-authority-data": base64.b64encode(other_ca).decode()})
    r = kates("get", "ns", env={"KUBECONFIG": str(cfg)})
    assert r.code == ExitCode.UNREACHABLE, r
    # another CA of the same name: OpenSSL finds the issuer and reports the signature it cannot verify
    assert r.err.startswith(
        f"error: unable to connect to the server {cluster.server}: TLS verification failed: certificate signature"
    ), r
    assert "Traceback" not in r.err


def test_a_server_name_the_certificate_does_not_hold_is_an_unreachable_error(
    cluster: ControlPlane, kates: Runner, tmp_path: Path
) -> None:
    cfg = edited(cluster, tmp_path / "kc", **{"tls-server-name": "not-in-the-certificate.example"})
    r = kates("get", "ns", env={"KUBECONFIG": str(cfg)})
    assert r.code == ExitCode.UNREACHABLE, r
    assert "TLS verification failed: Hostname mismatch" in r.err and "not-in-the-certificate.example" in r.err, r


def test_insecure_with_the_ca_is_refused_not_silently_unverified(
    cluster: ControlPlane, kates: Runner, tmp_path: Path
) -> None:
    cfg = edited(cluster, tmp_path / "kc", **{"insecure-skip-tls-verify": True})
    r = kates("get", "ns", env={"KUBECONFIG": str(cfg)})
    assert r.code == ExitCode.CONFIG, r
    assert "specifying a root certificates file with the insecure flag is not allowed" in r.err, r


# -- the client key --------------------------------------------------------------------------------------------

AUDITED = """\
import os, runpy, sys
log = open(os.environ["KATES_TEST_WRITES_LOG"], "a", buffering=1)
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT

def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        mode, flags = args[1], args[2]
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & WRITE):
            log.write(os.fsdecode(args[0]) + "\\n")

sys.addaudithook(hook)
sys.argv = ["kates", *sys.argv[1:]]
runpy.run_module("kates_cli", run_name="__main__", alter_sys=True)
"""


def key_material(cluster: ControlPlane) -> list[bytes]:
    """The admin client key as PEM and its base64 body, as a leak would show either."""
    pem = cluster.admin[1].read_bytes()
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    return [pem, body[:40]]


def files_holding(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(n in data for n in needles):
                found.append(str(path))
    return found


def test_the_client_key_is_never_written_to_a_file(cluster: ControlPlane, tmp_path: Path, cache_dir: Path) -> None:
    tmp, log = tmp_path / "tmp", tmp_path / "writes.log"
    tmp.mkdir()
    script = tmp_path / "audited.py"
    script.write_text(AUDITED)
    env = dict(
        os.environ,
        KUBECONFIG=str(cluster.kubeconfig),
        KATES_CACHE_DIR=str(tmp_path / "cache"),
        TMPDIR=str(tmp),
        KATES_TEST_WRITES_LOG=str(log),
    )
    for args in (["get", "ns", "default", "-o", "name"], ["get", "cm", "-A", "-o", "name"]):
        r = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r
    written = log.read_text().split()
    assert not [p for p in written if p.startswith(str(tmp)) or "kates-" in os.path.basename(os.path.dirname(p))], (
        f"kates wrote files for its key: {written}"
    )
    needles = key_material(cluster)
    assert files_holding(tmp, needles) == []
    assert [p for p in written if Path(p).is_file() and any(n in Path(p).read_bytes() for n in needles)] == []


def test_a_sigkilled_kates_leaves_no_key_behind(cluster: ControlPlane, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), KATES_CACHE_DIR=str(tmp_path / "cache"), TMPDIR=str(tmp))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kates_cli", "get", "ns", "-w", "-o", "name"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b"namespace/"), "the watch printed nothing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wait_for(lambda: proc.returncode == -signal.SIGKILL, 5, "kates to die of SIGKILL")
    assert files_holding(tmp, key_material(cluster)) == []
    assert list(tmp.iterdir()) == []
