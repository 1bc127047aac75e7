"""Completion of namespaces and object names from the real cluster, through every protocol: bash, zsh and fish as
their scripts call kates, the kubectl plugin as the real kubectl calls it, and a real interactive bash in a pty."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, create, kubectl_path
from .test_plugin import BIN, plugin_env


def shell_protocol(env: dict[str, str], shell: str, words: str) -> list[str]:
    """The values kates offers `shell` for the command line `words` (the last word is the one being completed)."""
    parts = words.split(" ")
    cword = parts[-1] if shell == "fish" else str(len(parts) - 1)  # fish passes the word, the others its index
    proc = subprocess.run(
        [str(BIN / "kates")],
        capture_output=True,
        text=True,
        env=dict(env, _KATES_COMPLETE=f"{shell}_complete", COMP_WORDS=words, COMP_CWORD=cword),
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc
    lines = proc.stdout.splitlines()
    if shell == "zsh":  # type, value, help: three lines each
        return lines[1::3]
    return [line.split(",", 1)[1] for line in lines if "," in line]


def via_kubectl(env: dict[str, str], *args: str) -> list[str]:
    """`kubectl kates ARGS<TAB>` as kubectl's own completion asks for it: `kubectl __complete kates ARGS`."""
    proc = subprocess.run([kubectl_path(), "__complete", "kates", *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc
    return proc.stdout.splitlines()


@pytest.fixture
def env(cluster: ControlPlane, cache_dir: Path, kates: Runner, ns: str) -> dict[str, str]:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "complete-me"}})
    assert kates("get", "ns", "default").code == 0  # warm the discovery cache
    # these tests complete what they have just created: no cached names (tests/e2e/test_completion_load.py has them)
    return dict(plugin_env(cluster, cache_dir), KATES_COMPLETION_TTL="0")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_namespace_values_are_namespaces_wherever_the_option_stands(env: dict[str, str], ns: str, shell: str) -> None:
    for words in ("kates get -n ", "kates get cm --namespace ", "kates -n ", "kates --context kates-admin logs -n "):
        offered = shell_protocol(env, shell, words)
        assert ns in offered and "default" in offered, (words, offered)
        assert "configmaps" not in offered and "cm" not in offered, (words, offered)  # not kinds
    assert shell_protocol(env, shell, f"kates get -n {ns[:-1]}") == [ns]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_names_are_listed_in_the_namespace_given_with_n(env: dict[str, str], ns: str, shell: str) -> None:
    for words in (f"kates get cm -n {ns} ", f"kates -n {ns} get cm comp", f"kates delete cm --namespace {ns} c"):
        assert "complete-me" in shell_protocol(env, shell, words), words
    assert "complete-me" not in shell_protocol(env, shell, "kates get cm -n default ")
    assert shell_protocol(env, shell, f"kates get -n {ns} cm/comp") == ["cm/complete-me"]
    # -n=NS is NS, as the command reads it (pflag), not "=NS"
    assert shell_protocol(env, shell, f"kates get cm -n={ns} comp") == ["complete-me"]
    assert shell_protocol(env, shell, f"kates get -n=default,{ns} cm comp") == ["complete-me"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_a_get_of_several_namespaces_completes_the_names_of_each(
    cluster: ControlPlane, env: dict[str, str], ns: str, shell: str
) -> None:
    other = f"{ns}-2"
    create(cluster, "/api/v1/namespaces", {"metadata": {"name": other}})
    try:
        create(cluster, f"/api/v1/namespaces/{other}/configmaps", {"metadata": {"name": "complete-me-there"}})
        # `get cm NAME -n a,b` looks NAME up in each namespace: names of both are offered, once each
        assert shell_protocol(env, shell, f"kates get cm -n {ns},{other} comp") == ["complete-me", "complete-me-there"]
        assert shell_protocol(env, shell, f"kates get cm -n {other} -n {ns} comp") == [
            "complete-me",
            "complete-me-there",
        ]
        # other commands use the last namespace
        assert shell_protocol(env, shell, f"kates delete cm -n {ns},{other} comp") == ["complete-me-there"]
        assert shell_protocol(env, shell, f"kates get -n {ns},{other[:-1]}") == [f"{ns},{other}"]
    finally:
        cluster.request("DELETE", f"/api/v1/namespaces/{other}")


def test_the_kubectl_plugin_completes_namespaces_and_names_in_the_given_namespace(env: dict[str, str], ns: str) -> None:
    offered = via_kubectl(env, "get", "-n", "")
    assert ns in offered and "configmaps" not in offered and offered[-1] == ":4", offered
    assert via_kubectl(env, "get", "cm", "-n", ns, "comp") == ["complete-me", ":4"]
    assert via_kubectl(env, "-n", ns, "get", "cm", "") == ["complete-me", "kube-root-ca.crt", ":4"]
    assert "complete-me" not in via_kubectl(env, "get", "cm", "-n", "default", "")
    assert via_kubectl(env, "get", "--context", "") == ["kates-admin", "kates-restricted", ":4"]
    assert via_kubectl(env, "get", "-o", "y") == ["yaml", ":4"]
    assert via_kubectl(env, "get", "-o", "k") == ["kyaml", ":4"]
    assert via_kubectl(env, "get", "cm", f"-n={ns}", "comp") == ["complete-me", ":4"]  # not the namespace "=NS"
    assert via_kubectl(env, "get", "cm", f"--namespace={ns[:-1]}") == [ns, ":4"]  # cobra's scripts keep the flag
    # -f: the same answer as kubectl's own -f, so kubectl's shell script offers the same files
    own = subprocess.run([kubectl_path(), "__complete", "create", "-f", ""], capture_output=True, text=True, env=env)
    assert via_kubectl(env, "create", "-f", "") == own.stdout.splitlines() == ["json", "yaml", "yml", ":8"]


class Terminal:
    """An interactive bash on a pty, with the committed completion script loaded."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        script = Path(__file__).resolve().parents[2] / "completions" / "kates.bash"
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a bash that reads no startup files, on a terminal wide enough for one line
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 1000, 0, 0))
            os.chdir(cwd)
            os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"], dict(env, PS1="$ ", TERM="dumb"))
        self.typed(f"source {script}\n", until="$ ")

    def typed(self, keys: str, until: str, timeout: float = 30) -> str:
        """Type `keys`; return what the terminal shows once its screen ends with `until` (or fail at the deadline)."""
        os.write(self.fd, keys.encode())
        seen, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                seen += os.read(self.fd, 65536)
                if seen.decode(errors="replace").endswith(until):
                    return seen.decode(errors="replace")
        raise AssertionError(f"the terminal never showed {until!r}; it showed {seen!r}")

    def completes(self, line: str, expected: str) -> None:
        """Type `line` and TAB: the line must become `expected`; then erase it."""
        self.typed(f"{line}\t", until=expected)
        self.typed("\x15", until="")  # Ctrl-U: erase the line

    def close(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.mark.skipif(sys.platform != "linux", reason="the pty test drives /bin/bash")
def test_a_real_bash_completes_names_namespaces_and_manifest_files(
    env: dict[str, str], ns: str, tmp_path: Path
) -> None:
    for name in ("app.yaml", "notes.txt", "sub/x.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    term = Terminal(env, tmp_path)
    try:
        term.completes(f"kates get cm -n {ns} comp", f"kates get cm -n {ns} complete-me ")
        term.completes(f"kates get -n {ns[:-1]}", f"kates get -n {ns} ")
        term.completes("kates create -f s", "kates create -f sub/")  # a directory: its slash and no space
        term.completes("kates create -f a", "kates create -f app.yaml ")  # notes.txt is not offered
        term.completes("kates get -o custom-columns-f", "kates get -o custom-columns-file ")
    finally:
        term.close()


@pytest.mark.skipif(sys.platform != "linux", reason="the pty test drives /bin/bash")
def test_a_real_bash_reads_a_value_after_equals_as_the_command_does(
    env: dict[str, str], ns: str, tmp_path: Path
) -> None:
    """bash cuts `--namespace=NS` into three words, `--namespace`, `=` and `NS`: kates joins them back."""
    term = Terminal(env, tmp_path)
    try:
        term.completes(f"kates get cm --namespace={ns} comp", f"kates get cm --namespace={ns} complete-me ")
        term.completes(f"kates get cm -n={ns} comp", f"kates get cm -n={ns} complete-me ")
        term.completes(
            f"kates --context=kates-admin get cm -n {ns} comp",
            f"kates --context=kates-admin get cm -n {ns} complete-me ",
        )
        term.completes(f"kates get --namespace={ns} cm comp", f"kates get --namespace={ns} cm complete-me ")
        # the value being completed: bash replaces only what follows the "="
        term.completes(f"kates get cm --namespace={ns[:-1]}", f"kates get cm --namespace={ns} ")
        term.completes("kates --context=kates-ad", "kates --context=kates-admin ")
    finally:
        term.close()


def raw_protocol(env: dict[str, str], shell: str, words: str, *, full: bool) -> str:
    """What kates prints for `shell`'s request on `words`, on the fast path (cli/fastcomplete.py) or the full one."""
    parts = words.split(" ")
    cword = parts[-1] if shell == "fish" else str(len(parts) - 1)
    proc = subprocess.run(
        [str(BIN / "kates")],
        capture_output=True,
        text=True,
        env=dict(
            env,
            _KATES_COMPLETE=f"{shell}_complete",
            COMP_WORDS=words,
            COMP_CWORD=cword,
            KATES_NO_FASTPATH="1" if full else "0",
        ),
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc
    return proc.stdout


NAMESPACE_LISTS = {"kates get ns ", "kates get namespaces def", "kates get -n "}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_names_after_get_are_the_same_on_the_fast_and_full_paths(
    cluster: ControlPlane, env: dict[str, str], ns: str, shell: str
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "complete-me-too"}})
    lines = [
        f"kates get cm -n {ns} ",
        f"kates get cm -n {ns} comp",
        f"kates get cm -n {ns} complete-me ",  # a name given already: the names again
        f"kates -n {ns} get cm complete-me-",
        f"kates get --namespace={ns} configmaps c",
        f"kates get cm,secrets -n{ns} k",
        f"kates get -n {ns} cm nothing-like-this",  # asked again on the server, then nothing
        "kates get ns ",
        "kates get namespaces def",
        f"kates --context kates-admin get cm -n {ns} ",
        f"kates --kubeconfig {env['KUBECONFIG']} get cm -n {ns} ",
        f"kates get nosuchkind -n {ns} ",  # an unknown kind: nothing
        # the full path's cases, answered through click by both
        f"kates get cm -n {ns} -l a ",
        "kates get -n ",
        "kates get ",
        "kates get c",
        f"kates get cm -n {ns} --",
        f"kates delete cm -n {ns} ",
        f"kates get cm -n= {ns} ",
        # bash's words for `--namespace=NS` and `--context=CTX` (cut at "="; no COMP_LINE here: taken to touch)
        f"kates get cm --namespace = {ns} ",
        f"kates get cm --namespace = {ns} comp",
        f"kates --context = kates-admin get cm -n {ns} c",
        f"kates get cm -n = {ns} ",
        f"kates get cm -n={ns} ",
        f"kates get cm -n {ns},default k",
    ]
    for words in lines:
        # Namespaces are cluster-wide: other tests running beside this one create and delete theirs between the two
        # requests, so a list of namespaces is compared again (until a deadline) until none changed in between.
        deadline = time.monotonic() + 60
        while True:
            fast, full = raw_protocol(env, shell, words, full=False), raw_protocol(env, shell, words, full=True)
            if fast == full or words not in NAMESPACE_LISTS or time.monotonic() > deadline:
                break
        assert fast == full, (words, fast, full)
    assert "complete-me-too" in raw_protocol(env, shell, f"kates get cm -n {ns} complete-me-", full=False)
