"""Starts and stops the local control plane (etcd, kube-apiserver, kube-controller-manager) on loopback.

Tier 2 (`ControlPlane(tier2=True)`) adds kube-scheduler and kwok, so that pods get scheduled onto a fake node
(`kwok-node-0`), become Running, and `pods/log` works through the real kube-apiserver: kwok's kubelet-like server
(HTTPS on loopback, serving certificate from the test CA, verified by kube-apiserver) answers
`/containerLogs/{ns}/{pod}/{container}` from files the tests write, found through one kwok `Logs` object per pod
(`log_file()` registers it). kwok reads those files with the kubelet's own CRI log reader (k8s.io/cri-client), so they
must be in CRI format -- `2024-01-01T00:00:00.000000000Z stdout F message` -- which `append_log()` writes; follow,
tailLines, sinceSeconds, sinceTime, timestamps, limitBytes and previous then behave as on a real kubelet, except that
a follow stream never ends by itself (kwok has no container that could stop; a real kubelet ends it when the
container exits): the client has to close it. `restart_container()` restarts a container as a kubelet reports it
(restartCount, lastState.terminated; through this repository's `pod-container-restart` kwok Stage) and makes its log
so far the previous instance's; kwok, unlike a kubelet, answers `previous` from the previous log file whatever the
pod's status says, and with a 400 of its own where there is no such file.

Invariants:
- Every process runs in its own process group and is stopped by signalling the whole group; each child also asks
  the kernel to kill it when its parent dies (PR_SET_PDEATHSIG), so an interrupted or killed test run leaves no
  orphans behind.
- Ports are free loopback ports; data lives in a temporary directory removed on stop.
- `start()` returns only once `/readyz` answers 200 with the admin credentials and the restricted user's RBAC exists;
  if a process dies first, it raises with the tail of that process's log.
- The kubeconfig has two contexts: `kates-admin` (client certificate, system:masters; current) and
  `kates-restricted` (bearer token; may only get/list/watch ConfigMaps in namespace `kates-restricted`).
- Tier 1 (the default) starts nothing of tier 2 and passes kube-apiserver no kubelet flags; with `tier2=True`,
  `start()` returns only once the fake node is Ready, untainted and managed by kwok.
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
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .build import ensure_binaries
from .certs import LocalPKI

ADMIN_CONTEXT = "kates-admin"
RESTRICTED_CONTEXT = "kates-restricted"
RESTRICTED_NAMESPACE = "kates-restricted"
RESTRICTED_TOKEN = "kates-restricted-token"

# Tier 2: the fake node kwok manages, and where kwok's configuration lives in this repository.
NODE_NAME = "kwok-node-0"
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
KWOK_DIR = Path(__file__).resolve().parent / "kwok"
KWOK_LOGS_API = "/apis/kwok.x-k8s.io/v1alpha1"

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


def cri_log_line(message: str, at: datetime | None = None, stream: str = "stdout") -> str:
    """One line of a container log file in CRI format, as kwok (and the kubelet) read it:
    `2024-01-01T00:00:00.000000000Z stdout F message`. `at` defaults to now (UTC)."""
    if stream not in ("stdout", "stderr"):
        raise ValueError(f"stream must be stdout or stderr, not {stream!r}")
    if "\n" in message:
        raise ValueError("one log line may not contain a newline")
    return f"{cri_timestamp(at or datetime.now(UTC))} {stream} F {message}\n"


def cri_timestamp(at: datetime) -> str:
    """RFC 3339 with exactly nine fractional digits in UTC: how CRI log files and `--timestamps` print time."""
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


class ControlPlane:
    """One local Kubernetes control plane. Use as a context manager, or call start() and stop()."""

    def __init__(self, *, workdir: Path | None = None, controller_manager: bool = True, tier2: bool = False):
        if tier2 and not controller_manager:
            raise ValueError("tier 2 needs the controller manager (Deployments, ReplicaSets, node lifecycle)")
        self.bin = ensure_binaries()
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kates-cp-"))
        self.with_controller_manager = controller_manager
        self.tier2 = tier2
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
        self.tier2_seconds = 0.0
        self.logs_dir = self.workdir / "logs"
        self._logs_lock = threading.Lock()
        if tier2:
            self.scheduler_port = free_port()
            # kwok's kubelet-like server: HTTPS (and plain HTTP, multiplexed) on one loopback port
            self.kubelet_port = free_port()
            self.scheduler = self.pki.issue("scheduler", "system:kube-scheduler", "system:masters")
            self.kwok = self.pki.issue("kwok", "system:kwok-controller", "system:masters")
            self.kwok_serving = self.pki.issue("kwok-serving", NODE_NAME, server=True)

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
            tier2_started = time.monotonic()
            if self.tier2:
                self._begin_tier2()
            tier2_seconds = time.monotonic() - tier2_started
            if self.with_controller_manager:
                self._start_controller_manager()
            if self.tier2:
                tier2_started = time.monotonic()
                self._finish_tier2()
                self.tier2_seconds = tier2_seconds + time.monotonic() - tier2_started
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
        steps = ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)) if grace > 0 else ((signal.SIGKILL, 10.0),)
        for sig, wait in steps:
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

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            [str(self.bin / name), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            cwd=self.workdir,
            env=None if env is None else dict(os.environ, **env),
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
        components = [("controller-manager", self.cm)]
        if self.tier2:
            components += [("scheduler", self.scheduler), ("kwok", self.kwok)]
        for name, (cert, key) in components:
            comp_cfg = json.loads(json.dumps(cfg))
            comp_cfg["users"] = [{"name": name, "user": {"client-certificate": str(cert), "client-key": str(key)}}]
            comp_cfg["contexts"] = [{"name": name, "context": {"cluster": "kates-local", "user": name}}]
            comp_cfg["current-context"] = name
            (self.workdir / f"{name}.kubeconfig").write_text(yaml.safe_dump(comp_cfg))

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
                *self._kubelet_flags(),
            ],
        )
        self._wait(lambda: self.request("GET", "/readyz")[0] == 200, "kube-apiserver", 120)

    def _kubelet_flags(self) -> list[str]:
        """How kube-apiserver reaches "kubelets" (kwok's server) for pods/log: tier 2 only."""
        if not self.tier2:
            return []
        return [
            # The fake node's addresses are InternalIP 127.0.0.1 and Hostname kwok-node-0 (not resolvable);
            # kube-apiserver's default order tries Hostname first.
            "--kubelet-preferred-address-types=InternalIP",
            # kwok serves a certificate from the test CA for 127.0.0.1: verify it as with a real kubelet.
            f"--kubelet-certificate-authority={self.pki.ca_cert}",
        ]

    def stop_apiserver(self) -> None:
        self._stop_proc("kube-apiserver")

    def restart_apiserver(self) -> None:
        self.stop_apiserver()
        self.start_apiserver()

    # -- faults ----------------------------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """SIGKILL one component's process group at once (no shutdown grace); start it again with its start_*."""
        self._stop_proc(name, grace=0.0)

    def kill_apiserver(self) -> None:
        self.kill("kube-apiserver")

    def stop_etcd(self) -> None:
        self.kill("etcd")

    def start_etcd(self) -> None:
        """Start etcd again on the same ports and data directory (after stop_etcd)."""
        self._start_etcd()

    def pause(self, name: str) -> None:
        """Freeze a component (SIGSTOP to its group): its sockets stay open and silent."""
        os.killpg(self.procs[name].pid, signal.SIGSTOP)

    def unpause(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGCONT)

    def restart_kwok(self) -> None:
        """Kill kwok (tier 2) and start it again: its kubelet-like log server goes away and comes back."""
        if not self.tier2:
            raise ControlPlaneError("kwok runs only in a tier 2 control plane")
        self.kill("kwok")
        # kwok holds the node's Lease under a random identity of its own: a new kwok would wait for the dead one's
        # Lease to expire (40s) before it manages pods again. A restarted kubelet renews its own Lease at once, so
        # drop the stale one and let the new kwok create it.
        code, body = self.request(
            "DELETE", f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{NODE_NAME}"
        )
        if code not in (200, 404):
            raise ControlPlaneError(f"deleting the node Lease -> {code}: {body}")
        self._start_kwok()

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

    # -- tier 2: scheduler, kwok, a fake node and container logs ----------------------------------------------

    def _begin_tier2(self) -> None:
        """Create kwok's `Logs` CRD, so that `log_file()` can map a pod's containers to files at run time: kwok's
        static `--config` can only name pods known in advance (ClusterLogs selects by exact namespace/name and has
        one fixed file per container name), and a Deployment's pod names are not known in advance."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        crd = yaml.safe_load((KWOK_DIR / "logs-crd.yaml").read_text())
        code, body = self.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        if code not in (201, 409):
            raise ControlPlaneError(f"creating kwok's Logs CRD -> {code}: {body}")
        # Created this early because kube-apiserver holds every create of a custom resource for 2s while its CRD
        # has been Established for less than 2s (apiextensions' customresource_handler.go, for HA clusters): only a
        # log_file() within that window, the first one of a quick test, pays it.

    def _finish_tier2(self) -> None:
        self._wait(self._logs_crd_established, "kube-apiserver", 60)
        self._start_scheduler()
        self._start_kwok()
        self._create_node()

    def _logs_crd_established(self) -> bool:
        code, body = self.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/logs.kwok.x-k8s.io")
        conds = ((body.get("status") or {}).get("conditions") or []) if code == 200 else []
        return any(c.get("type") == "Established" and c.get("status") == "True" for c in conds)

    def _start_scheduler(self) -> None:
        self._spawn(
            "kube-scheduler",
            [
                f"--kubeconfig={self.workdir / 'scheduler.kubeconfig'}",
                f"--authentication-kubeconfig={self.workdir / 'scheduler.kubeconfig'}",
                f"--authorization-kubeconfig={self.workdir / 'scheduler.kubeconfig'}",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.scheduler_port}",
                "--leader-elect=false",
                f"--cert-dir={self.workdir / 'scheduler-certs'}",
            ],
        )
        self._wait(lambda: self._https_ok(self.scheduler_port, "/healthz"), "kube-scheduler", 60)

    def _start_kwok(self) -> None:
        (self.workdir / "kwok-home").mkdir(exist_ok=True)
        self._spawn(
            "kwok",
            [
                f"--kubeconfig={self.workdir / 'kwok.kubeconfig'}",
                f"--config={KWOK_DIR / 'stages.yaml'}",
                f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
                # NodeIP/NodePort feed the node-initialize stage: status.addresses[InternalIP] and
                # status.daemonEndpoints.kubeletEndpoint.Port, which is where kube-apiserver sends pods/log.
                "--node-ip=127.0.0.1",
                f"--node-port={self.kubelet_port}",
                f"--server-address=127.0.0.1:{self.kubelet_port}",
                f"--tls-cert-file={self.kwok_serving[0]}",
                f"--tls-private-key-file={self.kwok_serving[1]}",
                # kwok renews the node's Lease every 10s, so the node lifecycle controller never marks it NotReady
                "--node-lease-duration-seconds=40",
                "--cidr=10.244.0.0/16",
                "--enable-crds=Logs",
            ],
            # kwok also loads $KWOK_WORKDIR/kwok.yaml (default ~/.kwok/kwok.yaml) if present: keep it to ours
            env={"KWOK_WORKDIR": str(self.workdir / "kwok-home")},
        )
        self._wait(lambda: self._https_ok(self.kubelet_port, "/healthz"), "kwok", 60)

    def _https_ok(self, port: int, path: str) -> bool:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=2)
            conn.request("GET", path)
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def _create_node(self) -> None:
        resources = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "1Ti"}
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                # kwok manages nodes carrying this annotation (--manage-nodes-with-annotation-selector)
                "annotations": {KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {
                    "type": "kwok",
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": NODE_NAME,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/role": "agent",
                    "node-role.kubernetes.io/agent": "",
                },
            },
            "status": {"allocatable": resources, "capacity": resources},
        }
        code, body = self.request("POST", "/api/v1/nodes", node)
        if code != 201:
            raise ControlPlaneError(f"creating node {NODE_NAME} -> {code}: {body}")

        def ready() -> bool:
            code, node = self.request("GET", f"/api/v1/nodes/{NODE_NAME}")
            if code != 200:
                return False
            status = node.get("status") or {}
            return (
                any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
                and {"type": "InternalIP", "address": "127.0.0.1"} in (status.get("addresses") or [])
                and (status.get("daemonEndpoints") or {}).get("kubeletEndpoint", {}).get("Port") == self.kubelet_port
                # the node lifecycle controller lifts node.kubernetes.io/not-ready once it has seen Ready
                and not (node.get("spec") or {}).get("taints")
            )

        self._wait(ready, "kwok", 60)

    def log_file(self, namespace: str, pod: str, container: str, *, previous: bool = False, wait: bool = True) -> Path:
        """The file kwok serves as `container`'s log in `pod`: `workdir/logs/{ns}/{pod}/{container}.log`
        (`{container}.previous.log` for `previous=True`, i.e. what `kubectl logs --previous` shows).

        Creates the current log files (empty) and registers both files in the pod's kwok `Logs` object (named after
        the pod), for `container` and, if the pod exists, every other container of it, so `kubectl logs` of any of
        them then answers (empty) like a silent container's. A previous log file exists only once a test asks for it
        (`previous=True`) or restarts the container (`restart_container`): until then `kubectl logs --previous`
        fails with kwok's 400 (it cannot open the file), where a kubelet fails with its own 400 (`previous terminated
        container "C" in pod "P" not found`). With `wait`, returns only once kube-apiserver's pods/log answers
        200 for this container, which needs the pod to be scheduled: from then on a line written to the file is
        served. Lines must be in CRI format (see `append_log` / `cri_log_line`): kwok answers 400 "unsupported log
        format" for a file whose first line to read is not. A pod that was never registered gets 400 "no logs found".
        """
        if not self.tier2:
            raise ControlPlaneError("container logs need a tier-2 control plane: ControlPlane(tier2=True)")
        for part in (namespace, pod, container):
            if not part or "/" in part or part.startswith("."):
                raise ValueError(f"not a valid name: {part!r}")
        names = [container]
        code, obj = self.request("GET", f"/api/v1/namespaces/{namespace}/pods/{pod}")
        if code == 200:
            spec = obj.get("spec") or {}
            for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
                if c["name"] not in names:
                    names.append(c["name"])
        directory = self.logs_dir / namespace / pod
        directory.mkdir(parents=True, exist_ok=True)
        entries = []
        for name in names:
            current, prev = directory / f"{name}.log", directory / f"{name}.previous.log"
            current.touch()
            if previous and name == container:
                prev.touch()
            entries.append({"containers": [name], "logsFile": str(current), "previousLogsFile": str(prev)})
        with self._logs_lock:
            self._register_logs(namespace, pod, entries)
        if wait:
            query = urllib.parse.urlencode({"container": container, "limitBytes": 1})
            path = f"/api/v1/namespaces/{namespace}/pods/{pod}/log?{query}"
            deadline = time.monotonic() + 60
            while (answer := self.request("GET", path))[0] != 200:
                self._check_alive("kwok")
                if time.monotonic() > deadline:
                    raise ControlPlaneError(f"GET {path} still answers {answer} after 60s (is the pod scheduled?)")
                time.sleep(0.05)
        return directory / (f"{container}.previous.log" if previous else f"{container}.log")

    def restart_container(self, namespace: str, pod: str, container: str, *, timeout: float = 60) -> dict[str, Any]:
        """Restart `container` of a Running pod as a kubelet would: its log so far becomes the previous instance's
        log (what `kubectl logs --previous` shows; an earlier previous log is gone, as the kubelet keeps one), the
        new instance's log starts empty, and the pod's status says so -- restartCount + 1, lastState.terminated --
        through the `pod-container-restart` kwok Stage (tests/controlplane/kwok/stages.yaml), which this drives with
        the pod's `restart.kates.test/*` annotations. Returns the container's new status once the API server has it."""
        current = self.log_file(namespace, pod, container)
        path = f"/api/v1/namespaces/{namespace}/pods/{pod}"

        def status() -> dict[str, Any]:
            code, obj = self.request("GET", path)
            if code != 200:
                raise ControlPlaneError(f"GET {path} -> {code}: {obj}")
            for st in (obj.get("status") or {}).get("containerStatuses") or []:
                if st.get("name") == container:
                    return dict(st)
            raise ControlPlaneError(f"pod {namespace}/{pod} has no status for container {container!r} (is it Running?)")

        count = int(status().get("restartCount") or 0) + 1
        # the kubelet's order: the old instance's log is complete before the new instance (and its status) exists
        os.replace(current, current.with_name(f"{container}.previous.log"))
        current.touch()
        annotations = {"restart.kates.test/container": container, "restart.kates.test/count": str(count)}
        code, body = self.request(
            "PATCH", path, {"metadata": {"annotations": annotations}}, content_type="application/merge-patch+json"
        )
        if code != 200:
            raise ControlPlaneError(f"PATCH {path} -> {code}: {body}")
        deadline = time.monotonic() + timeout
        while True:
            st = status()
            if int(st.get("restartCount") or 0) >= count and (st.get("lastState") or {}).get("terminated"):
                return st
            self._check_alive("kwok")
            if time.monotonic() > deadline:
                raise ControlPlaneError(
                    f"{namespace}/{pod} container {container} did not restart in {timeout:.0f}s: {st}"
                )
            time.sleep(0.05)

    def _register_logs(self, namespace: str, pod: str, entries: list[dict[str, Any]]) -> None:
        """Create or update the kwok `Logs` object `namespace/pod` so that it holds `entries` (one per container)."""
        base = f"{KWOK_LOGS_API}/namespaces/{namespace}/logs"
        for _ in range(20):
            code, obj = self.request("GET", f"{base}/{pod}")
            if code == 404:
                obj = {
                    "apiVersion": "kwok.x-k8s.io/v1alpha1",
                    "kind": "Logs",
                    "metadata": {"name": pod, "namespace": namespace},
                    "spec": {"logs": entries},
                }
                code, body = self.request("POST", base, obj)
            elif code == 200:
                current = obj["spec"].get("logs") or []
                missing = [e for e in entries if e not in current]
                if not missing:
                    return
                names = {n for e in missing for n in e["containers"]}
                keep = [e for e in current if not names & set(e.get("containers") or [])]
                obj["spec"]["logs"] = keep + missing
                code, body = self.request("PUT", f"{base}/{pod}", obj)
            else:
                raise ControlPlaneError(f"GET {base}/{pod} -> {code}: {obj}")
            if code in (200, 201):
                return
            if code != 409:
                raise ControlPlaneError(f"registering logs of {namespace}/{pod} -> {code}: {body}")
        raise ControlPlaneError(f"registering logs of {namespace}/{pod}: too many conflicts")

    def append_log(
        self,
        namespace: str,
        pod: str,
        container: str,
        *messages: str,
        stream: str = "stdout",
        at: datetime | None = None,
        previous: bool = False,
    ) -> list[str]:
        """Append `messages` as CRI log lines (timestamp `at`, default now) to a container's log file, registering
        it first (see `log_file`); one write, so a follower never sees half a line. Returns the lines written."""
        path = self.log_file(namespace, pod, container, previous=previous)
        lines = [cri_log_line(m, at, stream) for m in messages]
        with open(path, "a") as f:
            f.write("".join(lines))
        return lines

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
        # The RBAC authorizer learns of the new binding through its informers: wait until it applies, so that the
        # first request of a test as the restricted user is not refused by a binding still in flight.
        self._wait(self._restricted_can_list, "kube-apiserver", 30)

    def _restricted_can_list(self) -> bool:
        try:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", self.port, context=ssl.create_default_context(cafile=str(self.pki.ca_cert)), timeout=10
            )
            conn.request(
                "GET",
                f"/api/v1/namespaces/{RESTRICTED_NAMESPACE}/configmaps",
                headers={"Authorization": f"Bearer {RESTRICTED_TOKEN}"},
            )
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False
