"""Starts and stops the local control plane (etcd, kube-apiserver, kube-controller-manager) on loopback.

Invariants:
- Every process runs in its own process group and is stopped by signalling the whole group; each child also asks
  the kernel to kill it when its parent dies (PR_SET_PDEATHSIG), so an interrupted or killed test run leaves no
  orphans behind.
- Ports are free loopback ports; data lives in a temporary directory removed on stop.
- `start()` returns only once `/readyz` answers 200 with the admin credentials and the restricted user's RBAC exists;
  if a process dies first, it raises with the tail of that process's log.
- The kubeconfig has two contexts: `kates-admin` (client certificate, system:masters; current) and
  `kates-restricted` (bearer token; may only get/list/watch ConfigMaps in namespace `kates-restricted`).
"""

from __future__ import annotations

import base64
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from .build import ensure_binaries
from .certs import LocalPKI

ADMIN_CONTEXT = "kates-admin"
RESTRICTED_CONTEXT = "kates-restricted"
RESTRICTED_NAMESPACE = "kates-restricted"
RESTRICTED_TOKEN = "kates-restricted-token"

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ControlPlaneError(RuntimeError):
    pass


class ControlPlane:
    """One local Kubernetes control plane. Use as a context manager, or call start() and stop()."""

    def __init__(self, *, workdir: Path | None = None, controller_manager: bool = True):
        self.bin = ensure_binaries()
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kates-cp-"))
        self.with_controller_manager = controller_manager
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self.port = free_port()
        self.cm_port = free_port()
        self.server = f"https://127.0.0.1:{self.port}"
        self.etcd_url = f"http://127.0.0.1:{self.etcd_port}"
        self.kubeconfig = self.workdir / "kubeconfig"
        self.pki = LocalPKI(self.workdir / "pki")
        self.serving = self.pki.issue("apiserver", "kube-apiserver", server=True)
        self.admin = self.pki.issue("admin", "kates-admin", "system:masters")
        # system:masters: a test cluster need not model per-controller RBAC (use-service-account-credentials)
        self.cm = self.pki.issue("controller-manager", "system:kube-controller-manager", "system:masters")
        self.startup_seconds = 0.0

    # -- lifecycle -------------------------------------------------------------------------------------------

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> ControlPlane:
        started = time.monotonic()
        try:
            self._write_files()
            self._start_etcd()
            self.start_apiserver()
            self._setup_rbac()
            if self.with_controller_manager:
                self._start_controller_manager()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            self._stop_proc(name)
        if self._own_workdir and not os.environ.get("KATES_KEEP_CLUSTER_DIR"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _stop_proc(self, name: str, grace: float = 10.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # reap anything left in the group
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            [str(self.bin / name), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            cwd=self.workdir,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            text = (self.workdir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _check_alive(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is not None:
            raise ControlPlaneError(f"{name} exited with code {proc.returncode}:\n{self.log_tail(name)}")

    # -- processes -------------------------------------------------------------------------------------------

    def _write_files(self) -> None:
        (self.workdir / "tokens.csv").write_text(f"{RESTRICTED_TOKEN},kates-restricted,1001\n")
        ca = base64.b64encode(self.pki.ca_cert.read_bytes()).decode()
        cfg: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kates-local", "cluster": {"server": self.server, "certificate-authority-data": ca}}],
            "users": [
                {
                    "name": ADMIN_CONTEXT,
                    "user": {
                        "client-certificate-data": base64.b64encode(self.admin[0].read_bytes()).decode(),
                        "client-key-data": base64.b64encode(self.admin[1].read_bytes()).decode(),
                    },
                },
                {"name": RESTRICTED_CONTEXT, "user": {"token": RESTRICTED_TOKEN}},
            ],
            "contexts": [
                {"name": ADMIN_CONTEXT, "context": {"cluster": "kates-local", "user": ADMIN_CONTEXT}},
                {
                    "name": RESTRICTED_CONTEXT,
                    "context": {
                        "cluster": "kates-local",
                        "user": RESTRICTED_CONTEXT,
                        "namespace": RESTRICTED_NAMESPACE,
                    },
                },
            ],
            "current-context": ADMIN_CONTEXT,
        }
        self.kubeconfig.write_text(yaml.safe_dump(cfg))
        self.kubeconfig.chmod(0o600)
        cm_cfg = json.loads(json.dumps(cfg))
        cm_cfg["users"] = [
            {"name": "cm", "user": {"client-certificate": str(self.cm[0]), "client-key": str(self.cm[1])}}
        ]
        cm_cfg["contexts"] = [{"name": "cm", "context": {"cluster": "kates-local", "user": "cm"}}]
        cm_cfg["current-context"] = "cm"
        (self.workdir / "controller-manager.kubeconfig").write_text(yaml.safe_dump(cm_cfg))

    def _start_etcd(self) -> None:
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        self._spawn(
            "etcd",
            [
                f"--data-dir={self.workdir / 'etcd-data'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=default={peer}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        self._wait(lambda: self._etcd_healthy(), "etcd", 60)

    def _etcd_healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.etcd_port, timeout=2)
            conn.request("GET", "/health")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def start_apiserver(self) -> None:
        """Start (or restart after stop_apiserver) kube-apiserver on the same port, and wait for /readyz."""
        self._spawn(
            "kube-apiserver",
            [
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.port}",
                f"--tls-cert-file={self.serving[0]}",
                f"--tls-private-key-file={self.serving[1]}",
                f"--client-ca-file={self.pki.ca_cert}",
                f"--token-auth-file={self.workdir / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={self.pki.sa_pub}",
                f"--service-account-signing-key-file={self.pki.sa_key}",
                "--service-cluster-ip-range=10.0.0.0/24",
                # Pods need no token volume on fake nodes, and a fresh namespace need not wait for its
                # default ServiceAccount.
                "--disable-admission-plugins=ServiceAccount",
                f"--cert-dir={self.workdir / 'apiserver-certs'}",
                "--allow-privileged=true",
                "--profiling=false",
                "--endpoint-reconciler-type=none",
            ],
        )
        self._wait(lambda: self.request("GET", "/readyz")[0] == 200, "kube-apiserver", 120)

    def stop_apiserver(self) -> None:
        self._stop_proc("kube-apiserver")

    def restart_apiserver(self) -> None:
        self.stop_apiserver()
        self.start_apiserver()

    def _start_controller_manager(self) -> None:
        self._spawn(
            "kube-controller-manager",
            [
                f"--kubeconfig={self.workdir / 'controller-manager.kubeconfig'}",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.cm_port}",
                "--leader-elect=false",
                f"--service-account-private-key-file={self.pki.sa_key}",
                f"--root-ca-file={self.pki.ca_cert}",
                "--use-service-account-credentials=false",
                f"--cert-dir={self.workdir / 'cm-certs'}",
            ],
        )
        # The controller manager has no readiness endpoint we can reach without delegated auth; it is ready
        # enough once it has stayed up for a moment and written its first lines.
        self._wait(
            lambda: (
                self.procs["kube-controller-manager"].poll() is None
                and (self.workdir / "kube-controller-manager.log").stat().st_size > 0
            ),
            "kube-controller-manager",
            60,
        )

    def _wait(self, ready: Any, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(name)
            if ready():
                return
            time.sleep(0.1)
        raise ControlPlaneError(f"{name} was not ready within {timeout:.0f}s:\n{self.log_tail(name)}")

    # -- admin access independent of kates -------------------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        ctx.load_cert_chain(str(self.admin[0]), str(self.admin[1]))
        return ctx

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json", accept: str = "*/*"
    ) -> tuple[int, Any]:
        """One request as the admin user, without kates. Returns (HTTP status, parsed JSON or text)."""
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self._ssl(), timeout=30)
            data = None if body is None else json.dumps(body).encode()
            headers = {"Accept": accept}
            if data is not None:
                headers["Content-Type"] = content_type
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            conn.close()
        except OSError:
            return 0, None
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode(errors="replace")

    def bulk(
        self, method: str, requests: list[tuple[str, Any]], threads: int = 4, content_type: str = "application/json"
    ) -> None:
        """Many admin requests over a few kept-alive connections (fast fixture set-up); raises on any failure."""
        import concurrent.futures

        def worker(part: list[tuple[str, Any]]) -> None:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self._ssl(), timeout=30)
            try:
                for path, body in part:
                    conn.request(method, path, body=json.dumps(body).encode(), headers={"Content-Type": content_type})
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status >= 300:
                        raise ControlPlaneError(f"{method} {path} -> {resp.status}: {data[:300]!r}")
            finally:
                conn.close()

        parts = [requests[i::threads] for i in range(threads)]
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(worker, p) for p in parts if p]:
                future.result()

    def compact_etcd(self) -> int:
        """Compact etcd at its current revision (so older resourceVersions are gone); returns that revision."""
        conn = http.client.HTTPConnection("127.0.0.1", self.etcd_port, timeout=10)
        conn.request("POST", "/v3/kv/range", body=json.dumps({"key": base64.b64encode(b"/").decode()}))
        revision = int(json.loads(conn.getresponse().read())["header"]["revision"])
        conn.request("POST", "/v3/kv/compaction", body=json.dumps({"revision": revision, "physical": True}))
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        if resp.status != 200:
            raise ControlPlaneError(f"etcd compaction failed: {resp.status} {body!r}")
        return revision

    def _setup_rbac(self) -> None:
        ns = RESTRICTED_NAMESPACE
        for path, obj in [
            ("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            (
                f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": {"name": "configmap-reader", "namespace": ns},
                    "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
                },
            ),
            (
                f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": "configmap-reader", "namespace": ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmap-reader"},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "kates-restricted"}],
                },
            ),
        ]:
            code, resp = self.request("POST", path, obj)
            if code not in (201, 409):
                raise ControlPlaneError(f"setting up RBAC: POST {path} -> {code}: {resp}")
