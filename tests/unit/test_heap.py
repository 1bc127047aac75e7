"""core/heap.py: glibc's malloc gives freed memory back to the system (the cause of bench B6's RSS growth).

Each case runs in a fresh interpreter, so that the heap it measures is its own and not the test run's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kates_cli.core import heap

GLIBC = heap._glibc() is not None
needs_glibc = pytest.mark.skipif(not GLIBC, reason="the C library is not glibc: heap.py does nothing there")

# What a watch under churn does to the heap: long-lived objects' bytes (about a kilobyte each, too large for
# Python's own allocator) replaced one by one, and between them large temporaries (a take's) freed again.
PROBE = r"""
import json, sys
from kates_cli.core import heap

def rss():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024

mode = sys.argv[1]
if mode != "plain":
    heap.tune()
held = [bytes(1000) + b"%d" % i for i in range(20000)]
for rnd in range(20):
    temp = [bytes(2000) + b"%d" % i for i in range(10000)]  # a take's temporaries (20 MB), freed below
    for i in range(rnd, len(held), 20):  # churn: some long-lived objects replaced
        held[i] = bytes(1000) + b"%d" % (i + rnd)
    big = bytes(8 << 20)  # a snapshot: with a sliding threshold, later ones come from the heap
    del temp, big
before = rss()
trimmed = heap.trim() if mode == "trim" else False
print(json.dumps({"before": before, "after": rss(), "trimmed": trimmed}))
"""


def probe(mode: str) -> dict[str, float]:
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, cwd=root, timeout=60
    )
    return dict(json.loads(out.stdout))


@needs_glibc
def test_trim_returns_the_memory_freed_inside_the_heap() -> None:
    untrimmed = probe("plain")
    trimmed = probe("trim")
    assert trimmed["trimmed"]
    # the temporaries' memory freed between long-lived bytes stays in the process without a trim, and goes with one
    # (at least 4 MiB of the 20 MB of temporaries: measured 5.4 to 14.6 MiB, as what the interpreter had allocated
    # before moves the heap's layout, and 5.5 MiB below the untrimmed process's RSS)
    assert trimmed["before"] - trimmed["after"] > 4, trimmed
    assert trimmed["after"] < untrimmed["after"] - 4, (untrimmed, trimmed)


@needs_glibc
def test_tune_fixes_the_mmap_threshold() -> None:
    assert heap.tune() is True


# Threads that allocate after (or without) a tune: glibc's malloc_stats (on stderr) lists one "Arena N:" per heap.
ARENAS = r"""
import ctypes, sys, threading
from kates_cli.core import heap

if sys.argv[1] == "tuned":
    heap.tune()
kept = []
def work():
    kept.append([bytes(2000) + b"%d" % i for i in range(2000)])
threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ctypes.CDLL(None).malloc_stats()
"""


@needs_glibc
def test_after_a_tune_threads_allocate_from_the_one_heap() -> None:
    def arenas(mode: str) -> int:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(
            [sys.executable, "-c", ARENAS, mode], capture_output=True, text=True, check=True, cwd=root, timeout=60
        )
        return sum(1 for line in out.stderr.splitlines() if line.startswith("Arena "))

    assert arenas("plain") > 1  # each thread a heap of its own
    assert arenas("tuned") == 1


def test_without_glibc_both_are_no_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_loaded", True)
    monkeypatch.setattr(heap, "_libc", None)
    assert heap.tune() is False
    assert heap.trim() is False
