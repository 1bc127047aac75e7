"""QueryState.apply's fast path (no overlay, one progress) decides exactly as the general path does: the same
answer, the same objects kept, the same progress, for any order of events and any resourceVersions, comparable
(KEP-5504) or not."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kates_cli.core.accumulator import Entry, Query, QueryState

RVS = st.sampled_from(["", "1", "2", "5", "10", "11", "99", "007", "abc", "12a"])
EVENT = st.tuples(st.sampled_from(["ADDED", "MODIFIED", "DELETED"]), st.integers(0, 3), RVS, st.integers(0, 1))


def entry(i: int, rv: str, body: int) -> Entry:
    return Entry(b'{"n":%d,"b":%d}' % (i, body), rv, ("ns", f"o{i}"), f"uid-{i}")


@settings(max_examples=400, deadline=None)
@given(initial=st.lists(st.tuples(st.integers(0, 3), RVS), max_size=4), start=RVS, events=st.lists(EVENT, max_size=12))
def test_the_fast_path_decides_as_the_general_one(
    initial: list[tuple[int, str]], start: str, events: list[tuple[str, int, str, int]]
) -> None:
    fast, general = QueryState(Query("q", "cm", "ns")), QueryState(Query("q", "cm", "ns"))
    for state in (fast, general):
        state.replace([entry(i, rv, 0) for i, rv in initial], start)
    for etype, i, rv, body in events:
        assert not fast.overlay and not fast.several  # the case the fast path serves
        got = fast.apply(etype, entry(i, rv, body))
        want = general._apply_general(etype, entry(i, rv, body), general.watched.get(("ns", f"o{i}")))
        assert got == want
        assert {k: (e.raw, e.rv, e.uid) for k, e in fast.watched.items()} == {
            k: (e.raw, e.rv, e.uid) for k, e in general.watched.items()
        }
        assert fast.progress == general.progress
        assert fast.view() == general.view()
