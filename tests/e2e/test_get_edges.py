"""`kates get` edges that the parity table (tests/e2e/parity_cases/get.py) cannot pin down: what --ignore-not-found
leaves unsaid on stderr, how failures of several kinds or objects are reported and exit, and `--watch` output (the
table harness runs commands to their end)."""

from __future__ import annotations

import itertools
import subprocess
import threading
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.controlplane.launcher import RESTRICTED_CONTEXT, ControlPlane

from .conftest import KATES, Runner, _env, create, kubectl_path

FORBIDDEN_SECRETS = (
    'error: secrets is forbidden: User "kates-restricted" cannot list resource "secrets" in API group "" in the '
    'namespace "kates-restricted"\n'
)


def test_ignore_not_found_says_nothing_at_all(kates: Runner, ns: str) -> None:
    for args in (("cm", "nosuch"), ("cm", "-l", "no-such=label"), ("secrets,cm", "-l", "no-such=label")):
        out = kates("get", *args, "-n", ns, "--ignore-not-found")
        assert (out.code, out.out, out.err) == (0, "", ""), (args, out)
    # without it, an empty list still says so
    out = kates("get", "cm", "-n", ns, "-l", "no-such=label")
    assert (out.code, out.out, out.err) == (0, "", f"No resources found in {ns} namespace.\n"), out


def test_a_forbidden_kind_does_not_hide_the_others(kates: Runner) -> None:
    out = kates("--context", RESTRICTED_CONTEXT, "get", "secrets,cm")
    assert out.code == 5, out
    # only one kind answered, so names carry no kind prefix (kubectl's rule)
    assert out.out.splitlines()[0].split() == ["NAME", "DATA", "AGE"], out
    assert "kube-root-ca.crt" in out.out.splitlines()[1], out
    assert out.err == FORBIDDEN_SECRETS, out
    three = kates("--context", RESTRICTED_CONTEXT, "get", "secrets,cm,pods", "-o", "name")
    assert three.code == 5 and three.out == "configmap/kube-root-ca.crt\n", three
    assert three.err.splitlines() == [FORBIDDEN_SECRETS.strip(), FORBIDDEN_SECRETS.strip().replace("secrets", "pods")]


def test_failures_that_disagree_exit_1(kates: Runner) -> None:
    out = kates("--context", RESTRICTED_CONTEXT, "get", "cm,secrets", "kube-root-ca.crt", "nosuch")
    assert out.code == 1, out  # 4 (not found) and 5 (forbidden): no one code fits
    assert out.out.splitlines()[1].startswith("kube-root-ca.crt "), out
    assert out.err.splitlines()[0] == 'error: configmaps "nosuch" not found', out
    assert len(out.err.splitlines()) == 3 and out.err.count("secrets") == 4, out  # each name reported once


def test_a_missing_object_of_one_kind_does_not_hide_the_others(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
    out = kates("get", "secrets,cm", "a", "-n", ns, "-o", "name")
    assert (out.code, out.out, out.err) == (4, "configmap/a\n", 'error: secrets "a" not found\n'), out


def test_output_watch_events_without_watch_is_a_usage_error(kates: Runner, ns: str) -> None:
    out = kates("get", "cm", "-n", ns, "--output-watch-events")
    assert out.code == 2 and out.out == "", out
    assert out.err == "error: --output-watch-events option can only be used with --watch or --watch-only\n", out


def first_lines(cluster: ControlPlane, cache_dir: Path, command: list[str], count: int) -> list[str]:
    """The first `count` lines a never-ending command (`get -w`) prints, then it is stopped."""
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(cluster, cache_dir, None)
    )
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(itertools.islice(proc.stdout or [], count)), daemon=True)
    reader.start()
    try:
        wait_for(lambda: len(got) >= count, 60, f"{count} lines from {command[-6:]}")
    finally:
        proc.kill()
        proc.wait()
    return got


def test_watch_events_column_is_as_wide_as_kubectls(cluster: ControlPlane, cache_dir: Path, ns: str) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
    args = ["get", "cm", "-n", ns, "--watch", "--output-watch-events"]
    mine = first_lines(cluster, cache_dir, [*KATES, *args], 3)
    theirs = first_lines(cluster, cache_dir, [kubectl_path(), *args], 3)
    assert mine[0] == theirs[0] == "EVENT      NAME               DATA   AGE\n", (mine, theirs)
    assert [line.split()[:3] for line in mine] == [line.split()[:3] for line in theirs]
    assert mine[1].startswith("ADDED      a "), mine


WATCH_FORMATS = [
    ["-o", "json"],
    ["-o", "json", "--output-watch-events"],
    ["-o", "jsonpath={.metadata.labels.x}"],
    ["-o", "jsonpath-as-json={.metadata.labels.x}"],
    ["-o", "go-template={{.metadata.labels.x}}"],
    ["-o", "name", "--output-watch-events"],
    ["-o", "yaml", "--output-watch-events"],
]


@pytest.mark.parametrize("fmt", WATCH_FORMATS, ids=[" ".join(f) for f in WATCH_FORMATS])
def test_get_watch_prints_each_format_as_kubectl_does(
    cluster: ControlPlane, cache_dir: Path, ns: str, fmt: list[str]
) -> None:
    """Indented sorted JSON per object, compact event wrappers (type first), jsonpath with nothing added between
    objects, names without their event: byte for byte what kubectl 1.37 prints for an add and a change."""
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a", "labels": {"x": "first"}}})
    args = ["get", "cm", "a", "-n", ns, "-w", *fmt]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env(cluster, cache_dir, None))
        for cmd in ([*KATES, *args], [kubectl_path(), *args])
    ]
    outs: list[list[bytes]] = [[], []]

    def pump(proc: subprocess.Popen[bytes], out: list[bytes]) -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(65536):
            out.append(chunk)

    readers = [threading.Thread(target=pump, args=po, daemon=True) for po in zip(procs, outs, strict=True)]
    for r in readers:
        r.start()

    def printed(value: str, lines: int) -> bool:
        texts = [b"".join(o).decode() for o in outs]
        if fmt[1] == "name":
            return all(t.count("\n") >= lines for t in texts)
        return all(value in t for t in texts)

    try:
        wait_for(lambda: printed("first", 1), 30, "the first object from both")
        cluster.request(
            "PATCH",
            f"/api/v1/namespaces/{ns}/configmaps/a",
            {"metadata": {"labels": {"x": "second"}}},
            content_type="application/merge-patch+json",
        )
        wait_for(lambda: printed("second", 2), 30, "the change from both")
    finally:
        for p in procs:
            p.kill()
            p.wait()
    for r in readers:
        r.join(5)
    mine, theirs = (b"".join(o).decode() for o in outs)
    assert mine == theirs, (mine, theirs)
