"""cli/collector.py: the cyclic collector paused while a watch starts, then frozen and enabled, or left as found."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from kates_cli.cli import collector


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    """Each test leaves the collector as it found it: enabled, nothing frozen by it, no pause running."""
    was = gc.isenabled()
    frozen = gc.get_freeze_count()
    yield
    collector.pause().end(freeze=False)
    if gc.get_freeze_count() > frozen:
        gc.unfreeze()
    (gc.enable if was else gc.disable)()


def test_a_pause_stops_collection_until_its_end_which_freezes_what_it_allocated() -> None:
    pause = collector.pause()
    assert not gc.isenabled()
    assert collector.pause() is pause  # the one running: the watcher joins the fast path's pause
    kept = [[i] for i in range(5000)]  # containers allocated while paused, as a sync's entries
    pause.end()
    assert gc.isenabled()
    assert not pause.running
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_count()[0] < 700  # the counts start again: no pass is due at the next allocation
    pause.end()  # idempotent
    assert gc.isenabled()
    assert collector.pause() is not pause  # a new pause after the end


def test_a_caller_that_had_the_collector_off_still_has_it_off_and_nothing_is_frozen() -> None:
    gc.disable()
    frozen = gc.get_freeze_count()
    pause = collector.pause()
    assert not gc.isenabled()
    pause.end()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_an_end_without_freezing_only_enables() -> None:
    frozen = gc.get_freeze_count()
    collector.pause().end(freeze=False)
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_a_pause_ends_itself_at_a_check_after_its_limit() -> None:
    pause = collector.pause(limit=0.0)
    assert not gc.isenabled()
    pause.check()
    assert gc.isenabled()
    assert not pause.running
    longer = collector.pause(limit=3600.0)
    longer.check()
    assert not gc.isenabled()
    assert longer.running
    longer.end()


def test_an_inert_pause_pauses_nothing() -> None:
    inert = collector.Pause(active=False)
    assert gc.isenabled()
    assert not inert.running
    inert.end()
    inert.check()
    assert gc.isenabled()


def test_cycles_made_after_the_end_are_collected() -> None:
    """Run in a fresh interpreter, so that what this test freezes is its own: a cycle made after the end is found
    by the collector as usual, and one made while paused (alive at the end) is frozen, not lost."""
    code = textwrap.dedent(
        """
        import gc, weakref
        from kates_cli.cli import collector

        class Node:
            pass

        def cycle():
            a, b = Node(), Node()
            a.other, b.other = b, a
            return weakref.ref(a)

        pause = collector.pause()
        kept = Node(); kept.me = kept  # alive at the end: frozen
        pause.end()
        after = cycle()
        assert after() is not None
        gc.collect()
        assert after() is None, "a cycle made after the end was not collected"
        assert kept.me is kept
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("outcome", ["returns", "raises"])
def test_the_fast_path_pauses_before_the_watch_and_a_watch_that_never_began_leaves_it_as_found(
    monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    from kates_cli.cli import fastwatch, watchrun
    from kates_cli.errors import UsageError

    seen: list[bool] = []

    def watch(state: object, queries: object, **options: object) -> int:
        seen.append(gc.isenabled())
        if outcome == "raises":
            raise UsageError("bad")
        return 0

    monkeypatch.setattr(watchrun, "run", watch)
    frozen = gc.get_freeze_count()
    found = fastwatch.parse(["watch", "-q", "cm", "--once"])
    assert found is not None
    if outcome == "raises":
        with pytest.raises(UsageError):
            fastwatch.run(found)
    else:
        assert fastwatch.run(found) == 0
    assert seen == [False]  # paused while the watch runs
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
