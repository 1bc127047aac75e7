"""cli/collector.py: the cyclic collector paused while a watch starts, then frozen and enabled, or left as found."""

from __future__ import annotations

import gc
import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from kates_cli.cli import collector
from kates_cli.cli.schedule import Debounce
from kates_cli.cli.state import Env, State
from kates_cli.cli.watcher import Watcher
from kates_cli.core.accumulator import Accumulator, Query, QueryState, make_entry
from kates_cli.errors import ExitCode, ResourceTypeNotFound


@pytest.fixture(autouse=True)
def _restore(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test runs as the process would (the collector owned), and leaves it as it found it: enabled, nothing
    frozen by it, no pause running."""
    monkeypatch.setattr(collector, "_owned", True)
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


def test_after_the_end_the_collector_runs_by_itself_and_finds_new_cycles() -> None:
    """In a fresh interpreter, so that what it freezes is its own: once the pause ends, the collector is enabled and
    a cycle made afterwards is collected by an automatic pass (no gc.collect() call), while one that was alive at
    the end (frozen) is kept."""
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

        collector.own()
        pause = collector.pause()
        before = cycle()  # garbage made while paused: no automatic pass may find it
        kept = Node(); kept.me = kept
        kept_ref = weakref.ref(kept)
        held = [[i] for i in range(20000)]  # far past the threshold: no pass while paused
        assert before() is not None, "a pass ran while paused"
        pause.end()
        assert gc.isenabled(), "the collector is still off after the end"
        after = cycle()
        grown = []
        for i in range(100000):  # containers kept, as a watch's cache grows: the counts pass the threshold
            grown.append([i])
            if after() is None:
                break
        assert after() is None, "no automatic pass collected a cycle made after the end"
        del kept
        gc.collect()
        assert kept_ref() is not None, "an object alive at the end was not frozen"
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


# -- the watcher's pause, in process (the print mode: no hook, no server) ----------------------------------------


class _Out(io.StringIO):
    """stdout that notes, at the first print, whether the collector runs, and then stops the watcher."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled_at_print: list[bool] = []
        self.watcher: Any = None

    def write(self, text: str) -> int:
        self.enabled_at_print.append(gc.isenabled())
        if self.watcher is not None:
            self.watcher.stop_signal = 15
        return super().write(text)


class _Client:
    def __init__(self, acc: Accumulator | None) -> None:
        self.acc = acc
        self.enabled_at_watch: list[bool] = []

    def watch(self, *queries: Query, **options: object) -> Accumulator:
        self.enabled_at_watch.append(gc.isenabled())
        if self.acc is None:
            raise ResourceTypeNotFound('the server doesn\'t have a resource type "nosuch"')
        return self.acc

    def close(self) -> None:
        pass


def _watcher(acc: Accumulator | None, *, once: bool) -> tuple[Watcher, _Client, _Out]:
    out = _Out()
    client = _Client(acc)
    state = State(env=Env(stdout=out, stderr=io.StringIO()), _client=client)  # type: ignore[arg-type]
    watcher = Watcher(
        state,
        [QUERY],
        None,
        once=once,
        max_failures=0,
        output_deltas=False,
        wait_for_kinds=False,
        debounce=Debounce.of(0.0, None),
        hook_timeout=None,
        backoff_cap=1.0,
        grace=1.0,
        bootstrap_timeout=None,
    )
    out.watcher = None if once else watcher
    return watcher, client, out


QUERY = Query("q", "cm", "ns")


def _synced() -> Accumulator:
    acc = Accumulator([QueryState(QUERY, "", "configmaps", "v1", "ConfigMap")])
    objs = [{"metadata": {"name": f"cm-{i}", "namespace": "ns", "resourceVersion": str(10 + i)}} for i in range(3)]
    acc.replace("q", [make_entry(o) for o in objs], "20")
    return acc


@pytest.fixture
def freezes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """gc.freeze noted instead of done: the test process's own objects are not frozen."""
    calls: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(1))
    return calls


@pytest.mark.parametrize("once", [True, False])
def test_the_watcher_pauses_through_the_sync_and_freezes_at_its_first_take(
    freezes: list[int], once: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kates_cli.core import heap

    watcher, client, out = _watcher(_synced(), once=once)
    tuned: list[int] = []
    monkeypatch.setattr(heap, "tune", lambda: tuned.append(len(client.enabled_at_watch)) or True)
    assert watcher.run() == (0 if once else int(ExitCode.INTERRUPTED))  # without --once: stopped after the print
    assert tuned == ([] if once else [0])  # a watch that goes on tunes its heap before its streams start
    assert client.enabled_at_watch == [False]  # paused before the streams start
    assert out.enabled_at_print[:1] == [True]  # enabled again once the first take is made, before the print
    assert freezes == [1]
    assert gc.isenabled()
    assert '"cm-2"' in out.getvalue()


def test_a_watch_that_never_began_enables_the_collector_and_freezes_nothing(freezes: list[int]) -> None:
    watcher, client, _ = _watcher(None, once=True)
    with pytest.raises(ResourceTypeNotFound):
        watcher.run()
    assert client.enabled_at_watch == [False]
    assert freezes == []
    assert gc.isenabled()
    assert not collector._current.running  # no pause left behind


def test_a_long_first_debounce_ends_the_pause_at_its_limit(freezes: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """`_quiet` (the first run's debounce) checks the pause, as the bootstrap's wait does."""
    watcher, _, _ = _watcher(_synced(), once=True)
    watcher.debounce = Debounce.of(0.2, None)
    watcher._pause = collector.pause(limit=0.0)
    acc = _synced()
    watcher._quiet(acc)
    assert gc.isenabled()
    assert freezes == [1]


# -- the full path's start (cli/app.py) ---------------------------------------------------------------------------


def test_a_process_on_the_full_path_runs_its_command_with_its_start_frozen_and_the_collector_on() -> None:
    """As a process, `main` builds the command tree with the collector paused, then freezes it: the command runs
    with the collector enabled and the start in the permanent generation (here: TyperGroup.main stands in)."""
    code = textwrap.dedent(
        """
        import gc, sys
        import typer.core

        from kates_cli.cli import argv

        def command(self, *args, **kwargs):
            print("enabled", gc.isenabled(), "frozen", gc.get_freeze_count() > 10000, flush=True)
            return 0

        normalize = argv.normalize

        def building(*args, **kwargs):  # the tree is built: still paused
            print("building: enabled", gc.isenabled(), flush=True)
            return normalize(*args, **kwargs)

        typer.core.TyperGroup.main = command
        argv.normalize = building
        sys.argv = ["kates", "delete", "cm", "x"]
        from kates_cli.cli.app import main
        main()
        """
    )
    env = {**os.environ, "KATES_NO_FASTPATH": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["building: enabled False", "enabled True frozen True"]


def test_main_called_with_argv_leaves_the_collector_alone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the process: neither the full path nor a watch pauses or freezes (watchrun.run stands in for the watch)."""
    from kates_cli.cli import watchrun
    from kates_cli.cli.app import main

    monkeypatch.setattr(collector, "_owned", False)
    seen: list[bool] = []
    monkeypatch.setattr(watchrun, "run", lambda *args, **kwargs: seen.append(gc.isenabled()) or 0)
    frozen = gc.get_freeze_count()
    assert main(["completion", "bash"]) == 0
    assert "complete" in capsys.readouterr().out
    assert main(["watch", "-q", "cm", "--once"]) == 0  # the fast path
    monkeypatch.setenv("KATES_NO_FASTPATH", "1")
    assert main(["watch", "-q", "cm", "--once"]) == 0  # the full path
    assert seen == [True, True]
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    assert not collector._owned
