"""What an Accumulator holds in memory per object (issue 16, B6: a watch's RSS within 2x the objects' JSON bytes).

Measured with tracemalloc, which counts every allocation Python makes (orjson's included), so the figures do not
depend on the allocator or on the machine. Objects are ConfigMaps of about 1.5 KB, as the benchmark's.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from kates_cli.core.accumulator import Accumulator, Query, QueryState, make_entry
from kates_cli.core.selectors import parse_rv
from tests import figures

N = 2000
FILLER = "abcdefghijklmnopqrstuvwxyz0123456789" * 4


def configmap(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"cm-{i:05d}",
            "namespace": "bench-main",
            "uid": f"0b4c3a9e-6f1d-4e57-9a1b-{i:012d}",
            "resourceVersion": str(100000 + i),
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app": "bench", "shard": str(i % 10)},
        },
        "data": {f"key-{k}": (f"{i:05d}-{k}-" + FILLER)[:120] for k in range(8)},
    }


@pytest.fixture
def traced() -> Iterator[None]:
    gc.collect()
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def held(before: int) -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - before


def test_an_entry_keeps_its_bytes_exactly_not_the_encoders_buffer(traced: None) -> None:
    """orjson hands back its whole write buffer (about 8 KB for a 1.5 KB object): an Entry must not keep that."""
    objects = [configmap(i) for i in range(N)]
    before = held(0)
    entries = [make_entry(o) for o in objects]
    raw = sum(len(e.raw) for e in entries)
    per_object_overhead = (held(before) - raw) / N
    figures.record("memory", "an Entry beyond its JSON bytes", bytes_per_object=round(per_object_overhead))
    assert per_object_overhead < 500, f"{per_object_overhead:.0f} bytes per object beyond its JSON bytes"


def test_the_accumulator_keeps_no_copy_of_the_snapshot_after_a_take(traced: None) -> None:
    """Between takes, the objects' own bytes are the only copy of the state: neither the joined snapshot nor a
    query's part of it is kept, and each object costs its bytes plus a few hundred bytes of bookkeeping."""
    objects = [configmap(i) for i in range(N)]
    before = held(0)
    acc = Accumulator([QueryState(Query("cms", "cm", "bench-main"), "", "configmaps", "v1", "ConfigMap")])
    acc.replace("cms", [make_entry(o) for o in objects], "200000")
    raw = sum(len(e.raw) for e in acc.states["cms"].watched.values())
    changed, data, deltas = acc.snapshot_json()
    assert changed and len(deltas) == N and len(data) == raw + N - 1 + len(b'{"cms":[]}')
    del data, deltas
    for i in range(0, N, 7):  # a few changes and another take: still no copy kept
        o = configmap(i)
        o["metadata"]["resourceVersion"] = str(300000 + i)
        acc.event("cms", "MODIFIED", make_entry(o))
    changed, data, deltas = acc.snapshot_json()
    assert changed and len(deltas) == len(range(0, N, 7))
    del data, deltas
    ratio = held(before) / raw
    figures.record("memory", "an Accumulator between takes / its objects' JSON bytes", ratio=round(ratio, 2))
    assert ratio < 1.4, f"the accumulator holds {ratio:.2f}x its objects' JSON bytes"


def test_updates_of_every_object_hold_no_more_than_the_first_state(traced: None) -> None:
    """Churn replaces each object's Entry; what the state holds must not grow with it: an update keeps the one key
    (namespace, name) and uid the object had, not a second copy beside the dict's key (bench B6 at N=20,000: +13k
    key tuples and name strings, ~110 bytes an object, over a churn's first pass over the objects)."""
    acc = Accumulator([QueryState(Query("cms", "cm", "bench-main"), "", "configmaps", "v1", "ConfigMap")])
    acc.replace("cms", [make_entry(configmap(i)) for i in range(N)], "200000")
    acc.snapshot_json()  # the first take: what counts as delivered from now on
    parse_rv.cache_clear()  # bounded (1,024 versions), and not what is measured here
    before = held(0)
    for rnd in (1, 2):
        for i in range(N):
            o = configmap(i)
            o["metadata"]["resourceVersion"] = str(200000 + rnd * N + i)
            acc.event("cms", "MODIFIED", make_entry(o))
        acc.snapshot_json()
    parse_rv.cache_clear()
    grown = held(before) / N
    # the new resourceVersion strings are the same size as the old ones: nothing else may have been added
    assert grown < 16, f"{grown:.0f} bytes per object held after every object was updated twice"
    state = acc.states["cms"]
    key = ("bench-main", "cm-00000")
    assert next(k for k in state.watched if k == key) is state.watched[key].key
