"""Fenced writes end to end (issue 12, fencing): the real `kates` CLI, run as a leader's hook runs it
(KATES_WRITE_SOCKET + KATES_FENCED_WRITES=1), against the shared control plane, with a real WriteServer whose permit
this test decides. A write is sent only with a valid permit; refused, unanswered (the watcher frozen by SIGSTOP) or
expired, it exits FENCED (10) and the object never reaches the server. Without KATES_FENCED_WRITES nothing changes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kates_cli.core import coherence
from kates_cli.core.coherence import FENCE_ENV, PERMIT_TIMEOUT, WriteServer, cluster_id
from kates_cli.core.config import load
from kates_cli.errors import ExitCode
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, Runner, _env

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


class Permit:
    """The watcher's permit callable, as the test wants it: a deadline, or None (lease not held)."""

    def __init__(self) -> None:
        self.answer: Any = None  # a float, None, or a callable giving one
        self.calls = 0

    def __call__(self) -> float | None:
        self.calls += 1
        return self.answer() if callable(self.answer) else self.answer


@pytest.fixture
def watcher(cluster: ControlPlane, tmp_path: Path) -> Iterator[tuple[WriteServer, Permit, list[Any]]]:
    directory = tmp_path / "kates-watch-test"
    directory.mkdir(mode=0o700)
    permit = Permit()
    recorded: list[Any] = []
    me = cluster_id(load(str(cluster.kubeconfig), env={}, home="/nonexistent"))
    server = WriteServer(
        str(directory), lambda *w: recorded.append(w), cluster=me, permit=permit, lease="kube-system/fence-test"
    )
    yield server, permit, recorded
    server.close()


def cm(ns: str, name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {ns}}}\ndata: {{a: b}}\n"


def exists(cluster: ControlPlane, ns: str, name: str) -> bool:
    code, body = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps/{name}")
    assert code in (200, 404), body
    return code == 200


def hook_env(socket_path: str, fenced: bool = True) -> dict[str, str]:
    env = {coherence.ENV_VAR: socket_path}
    if fenced:
        env[FENCE_ENV] = "1"
    return env


def test_a_permitted_write_is_sent_and_a_refused_one_exits_fenced_and_never_reaches_the_server(
    cluster: ControlPlane, kates: Runner, ns: str, watcher: tuple[WriteServer, Permit, list[Any]]
) -> None:
    server, permit, recorded = watcher
    env = hook_env(server.path)

    permit.answer = lambda: time.monotonic() + 30  # leading
    r = kates("create", "-f", "-", input=cm(ns, "granted"), env=env)
    assert (r.code, r.out) == (0, "configmap/granted created\n"), r
    assert exists(cluster, ns, "granted") and permit.calls == 1
    assert [w[0] for w in recorded] == ["create"]  # and reported, as any hook write

    permit.answer = None  # the lease is lost
    docs = "---\n".join(cm(ns, n) for n in ("lost-1", "lost-2", "lost-3"))
    r = kates("create", "-f", "-", input=docs, env=env)
    assert r.code == ExitCode.FENCED == 10, r
    assert r.out == ""
    refusal = "write fenced: this hook's watcher does not hold lease kube-system/fence-test"
    assert r.err.splitlines() == [
        f"error: creating <stdin>: document 1 (line 1): {refusal}",
        'error: 2 of 3 objects were not sent: configmaps "lost-2", configmaps "lost-3"',
        f"error: {refusal} (0 of 3 objects written)",
        "hint: another replica may lead: this write was not sent",
    ], r
    assert not any(exists(cluster, ns, n) for n in ("lost-1", "lost-2", "lost-3"))

    # a delete and a patch are fenced too: the object stays as it was
    patch = ("patch", "cm", "granted", "-n", ns, "-p", '{"data":{"a":"x"}}')
    for args in (("delete", "cm", "granted", "-n", ns), patch):
        r = kates(*args, env=env)
        assert r.code == ExitCode.FENCED and refusal in r.err, r
    code, body = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps/granted")
    assert code == 200 and body["data"] == {"a": "b"} and "deletionTimestamp" not in body["metadata"]

    # a server dry run changes nothing: no permit needed
    calls = permit.calls
    r = kates("create", "--dry-run=server", "-f", "-", input=cm(ns, "dry"), env=env)
    assert (r.code, r.out) == (0, "configmap/dry created (server dry run)\n"), r
    assert permit.calls == calls and not exists(cluster, ns, "dry")


def test_leadership_lost_in_the_middle_of_create_f_writes_nothing_more_and_names_the_objects_not_sent(
    cluster: ControlPlane, cache_dir: Path, ns: str, watcher: tuple[WriteServer, Permit, list[Any]], tmp_path: Path
) -> None:
    server, permit, _ = watcher
    leading = threading.Event()
    leading.set()
    # short permits, as a leader's: each is reused while valid, then asked for again
    permit.answer = lambda: time.monotonic() + 0.05 if leading.is_set() else None
    total = 100
    path = tmp_path / "many.yaml"
    path.write_text("---\n".join(cm(ns, f"m{i:03d}") for i in range(total)))
    proc = subprocess.Popen(
        [*KATES, "create", "-f", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(cluster, cache_dir, hook_env(server.path)),
    )
    assert proc.stdout is not None and proc.stderr is not None
    created: list[str] = []
    for line in proc.stdout:
        created.append(line)
        if len(created) == 20:
            leading.clear()  # the lease is lost while kates is writing
    err = proc.stderr.read()
    code = proc.wait(60)
    assert code == ExitCode.FENCED, (code, err)
    reported = {m.group(1) for line in created if (m := re.fullmatch(r"configmap/(\S+) created\n", line))}
    assert 20 <= len(reported) < total, err
    n = len(reported)
    refusal = "write fenced: this hook's watcher does not hold lease kube-system/fence-test"
    not_sent = total - n - 1
    lines = err.splitlines()
    assert lines[0] == f"error: creating {path}: document {n + 1} (line {5 * n + 1}): {refusal}", err
    assert lines[1].startswith(f'error: {not_sent} of {total} objects were not sent: configmaps "m{n + 1:03d}"'), err
    assert lines[2] == f"error: {refusal} ({n} of {total} objects written)", err
    status, body = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps")
    assert status == 200, body
    held = {i["metadata"]["name"] for i in body["items"]} - {"kube-root-ca.crt"}
    assert held == reported and f"m{n:03d}" not in held  # every write reported, none from the refusal on
    figures.record("fencing", "create -f 100, lease lost after 20", created=len(reported), not_sent=not_sent + 1)


def test_a_permit_that_expires_before_the_request_leaves_is_fenced(
    cluster: ControlPlane, kates: Runner, ns: str, watcher: tuple[WriteServer, Permit, list[Any]]
) -> None:
    server, permit, _ = watcher
    permit.answer = time.monotonic  # a permit that ends the moment it is granted: expired when checked, after
    r = kates("create", "-f", "-", input=cm(ns, "late"), env=hook_env(server.path))
    assert r.code == ExitCode.FENCED, r
    assert r.err.splitlines() == [
        "error: creating <stdin>: document 1 (line 1): write fenced: the permit expired before the request was sent",
        "error: write fenced: the permit expired before the request was sent (0 of 1 objects written)",
        "hint: the watcher's lease was not renewed in time: this write was not sent",
    ], r
    assert permit.calls == 1 and not exists(cluster, ns, "late")


WATCHER = """
import sys, time
from kates_cli.core.coherence import WriteServer
server = WriteServer(sys.argv[1], lambda *w: None, cluster=sys.argv[2], permit=lambda: time.monotonic() + 300)
print(server.path, flush=True)
time.sleep(600)
"""


def test_a_frozen_watcher_gives_no_permit_and_the_write_is_fenced_within_the_permit_timeout(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    directory = tmp_path / "kates-watch-frozen"
    directory.mkdir(mode=0o700)
    me = cluster_id(load(str(cluster.kubeconfig), env={}, home="/nonexistent"))
    proc = subprocess.Popen(
        [sys.executable, "-c", WATCHER, str(directory), me],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        assert proc.stdout is not None
        env = hook_env(proc.stdout.readline().strip())
        r = kates("create", "-f", "-", input=cm(ns, "before"), env=env)
        assert r.code == 0 and exists(cluster, ns, "before"), r  # the watcher grants while it runs

        os.kill(proc.pid, signal.SIGSTOP)  # frozen: the socket still accepts (the kernel's backlog), nobody answers
        wait_for(lambda: Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T", 5, "frozen")
        started = time.monotonic()
        r = kates("create", "-f", "-", input=cm(ns, "frozen"), env=env)
        seconds = time.monotonic() - started
        assert r.code == ExitCode.FENCED, r
        assert (
            "error: creating <stdin>: document 1 (line 1): write fenced: the watcher did not answer (stopped or gone): "
            f"no answer within {PERMIT_TIMEOUT:g}s\n" in r.err
        ), r
        assert PERMIT_TIMEOUT <= seconds < PERMIT_TIMEOUT + 5, seconds
        assert not exists(cluster, ns, "frozen")
        figures.record("fencing", "write with the watcher frozen (SIGSTOP)", exit_code=r.code, seconds=seconds)

        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()
        r = kates("create", "-f", "-", input=cm(ns, "gone"), env=env)  # the watcher gone: refused at once
        assert r.code == ExitCode.FENCED and "the watcher did not answer (stopped or gone)" in r.err, r
        assert not exists(cluster, ns, "gone")
    finally:
        proc.kill()
        proc.wait()


def test_without_fenced_writes_a_refusing_watcher_never_blocks_a_write(
    cluster: ControlPlane, kates: Runner, ns: str, watcher: tuple[WriteServer, Permit, list[Any]]
) -> None:
    server, permit, recorded = watcher
    permit.answer = None
    r = kates("create", "-f", "-", input=cm(ns, "plain"), env=hook_env(server.path, fenced=False))
    assert (r.code, r.out, r.err) == (0, "configmap/plain created\n", ""), r
    assert exists(cluster, ns, "plain") and permit.calls == 0 and len(recorded) == 1
