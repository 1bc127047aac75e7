"""Start-up: what a new kates process imports on its fast paths (a plain `get`, cli/fastget.py, the completion of
names, cli/fastcomplete.py, and a `watch`, cli/fastwatch.py). Each module named here costs milliseconds of every
start, which is most of a small `kates get` (bench B0); a change that brings one back fails here rather than in a
benchmark nobody runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, create

# module (or package) -> why the fast paths must not import it
HEAVY = {
    "typer": "the command tree: the full path only",
    "click": "the command tree: the full path only",
    "rich": "typer's pretty output",
    "kubernetes": "the official client: kates speaks HTTP itself",
    "yaml": "PyYAML: a kubeconfig in kubectl's plain YAML is read by core/simpleyaml.py",
    "kates_cli.core.coherence": "the hook protocol: only inside a `kates watch` or `kates replay` hook",
    "kates_cli.cli.hookreads": "the hook's reads: only inside a `kates watch` hook",
    "tempfile": "only to write a cache file, or a list's spool past 1 MiB (cli/listout.py)",
    "encodings.idna": "the idna codec: core/transport.py names an ASCII host to socket and ssl as bytes",
    "typing": "annotations only (TYPE_CHECKING = False): a get's modules never import it, a list's included",
}

# what a plain get must not import either (a completion does: its cache key and paths)
GET_HEAVY = {
    **HEAVY,
    "hashlib": "discovery's cache key is a crc32 of zlib, loaded already (core/mapping.py)",
    "pathlib": "discovery's cache paths are strings (core/mapping.py)",
    "signal": "its enums: cli/app.py sets its handlers through _signal",
}

# what a watch must not import either (its hook protocol, coherence, it needs)
WATCH_HEAVY = {
    **{m: why for m, why in HEAVY.items() if m not in ("kates_cli.core.coherence", "tempfile")},
    "tempfile": "the run directory is made as mkdtemp makes one (cli/rundir.py): tempfile brings shutil and random",
    "shutil": "with bz2, lzma and fnmatch: the run directory is removed by hand (cli/rundir.py)",
    "ctypes": "only to tune the C heap of a long watch (core/heap.py): never for --once",
    "random": "only for a stream's backoff (core/watch.py), which a healthy watch never takes",
}

PROBE = (
    "import sys\n"
    "from kates_cli.cli.app import main\n"
    "code = main(sys.argv[1:])\n"
    "heavy = sys.argv[0]\n"
    "loaded = sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in {heavy}))\n"
    "print('LOADED', loaded, code, file=sys.stderr)\n"
)


def imported(env: dict[str, str], *args: str, heavy: dict[str, str] = HEAVY) -> tuple[list[str], str, str]:
    """The `heavy` modules (or packages) a kates process imported running `args`; its stdout and the rest of
    stderr."""
    code = PROBE.replace("{heavy}", repr(tuple(heavy)))
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60)
    lines = proc.stderr.splitlines()
    found = [line for line in lines if line.startswith("LOADED ")]
    assert found, proc
    modules = eval(found[-1].split(" ", 1)[1].rsplit(" ", 1)[0])  # our own repr of a list of names
    loaded = sorted(h for h in heavy if any(m == h or m.startswith(h + ".") for m in modules))
    return loaded, proc.stdout, "\n".join(line for line in lines if not line.startswith("LOADED "))


def environment(cluster: ControlPlane, cache_dir: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KATES_", "_KATES"))}
    return dict(env, KUBECONFIG=str(cluster.kubeconfig), KATES_CACHE_DIR=str(cache_dir), HOME=str(tmp_path))


def test_a_plain_get_imports_nothing_heavy(
    cluster: ControlPlane, cache_dir: Path, kates: Runner, tmp_path: Path
) -> None:
    assert kates("get", "ns", "default").code == 0  # the discovery cache is warm
    env = environment(cluster, cache_dir, tmp_path)
    lists = (["get", "ns", "-o", "name"], ["get", "ns", "-o", "json"])  # a list's JSON is spooled (cli/listout.py)
    for args in (["get", "ns", "default"], ["get", "ns", "default", "-o", "json"], *lists):
        loaded, out, err = imported(env, *args, heavy=GET_HEAVY)
        assert "default" in out and err == "", (args, out, err)
        assert loaded == [], {m: GET_HEAVY[m] for m in loaded}
    # the full path does import the command tree: the probe sees it
    loaded, out, _ = imported(dict(env, KATES_NO_FASTPATH="1"), "get", "ns", "default")
    assert "default" in out and "typer" in loaded and "click" in loaded, loaded


def test_completing_names_imports_nothing_heavy(
    cluster: ControlPlane, cache_dir: Path, kates: Runner, ns: str, tmp_path: Path
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "complete-me"}})
    assert kates("get", "ns", "default").code == 0
    env = dict(
        environment(cluster, cache_dir, tmp_path),
        _KATES_COMPLETE="bash_complete",
        COMP_WORDS=f"kates get cm -n {ns} comp",
        COMP_CWORD="5",
    )
    loaded, out, err = imported(dict(env, KATES_COMPLETION_TTL="0"))  # from the server, then into the cache
    assert out == "plain,complete-me\n" and err == "", (out, err)
    assert loaded == ["tempfile"], loaded  # for the write only
    loaded, out, _ = imported(dict(env, KATES_COMPLETION_TTL="600"))
    assert out == "plain,complete-me\n" and loaded == [], loaded  # a cache hit writes nothing


def test_a_watch_imports_nothing_heavy(
    cluster: ControlPlane, cache_dir: Path, kates: Runner, ns: str, tmp_path: Path
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "watched"}})
    assert kates("get", "ns", "default").code == 0
    env = environment(cluster, cache_dir, tmp_path)
    loaded, out, err = imported(
        env, "watch", "-q", f"cm ns={ns}", "-q", f"svc ns={ns}", "--once", "--exec", "cat", heavy=WATCH_HEAVY
    )
    assert '"watched"' in out and err == "", (out, err)
    assert loaded == [], {m: WATCH_HEAVY[m] for m in loaded}
