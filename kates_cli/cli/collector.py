"""The cyclic garbage collector of a kates process while it starts: paused while what lives as long as the process
is built, then frozen and enabled. Its users: `kates watch`, from the command's start (before its imports, on the
fast path) until its first take; the full path of every command (cli/app.py), while typer, click and the command
tree are imported and built (a `watch` on that path then has a second pause, its own); and a shell's completion
request, which ends before any pass would be due.

A start allocates what lives as long as the process (modules, classes, the command tree) and a cold sync what the
cache keeps (its entries) or frees by reference counting (each event's parsed dicts, which hold no cycles).
Collecting meanwhile only rescans them: 24 young and 2 middle passes over a watch's imports, and one pass over
everything its sync allocated once the counts run over (8-10 ms after a 10,000-object sync; bench B2 measures a
sync from process start to exit); 5-8 ms of a command on the full path (`kates create`, `delete`, `--help`).

Invariants:
- Only a kates process pauses its collector: `pause()` returns an inert pause until cli/app.py's `main`, run as the
  process, has called `own()`. A program or a test that calls `main(argv)`, or runs a Watcher, keeps its collector
  as it is, and nothing of its heap is frozen.
- One pause at a time: `pause()` starts one, or returns the one already running (the fast path starts it before
  its imports; the watcher joins it).
- `end()` moves every object tracked then into the permanent generation (`gc.freeze`, a list splice: no pass over
  them, ever; what they free by reference counting is freed as always) and enables the collector again, but only if
  it was enabled when the pause began: a caller that had it off (a test, an embedding program) still has it off,
  and nothing is frozen. `end(freeze=False)` (a watch that never began, or that failed before its first take) only
  enables it. `end()` is idempotent; after it, `pause()` starts a new pause.
- What is frozen and later becomes cyclic garbage is never collected: the price of skipping the pass, paid once and
  bounded by what was alive or uncollected at the end. Measured: the imports leave about 450-560 unreachable objects
  (260-280 KB: the pure-Python halves of standard modules that their C versions replace), which an ordinary run collects
  only at its first full pass, if any; and the cycles of a bootstrap's retries (a pause lasts no longer than LIMIT).
  Nothing made after the end is frozen.
- A pause lasts no longer than LIMIT: `check()`, called while waiting (the bootstrap, the first debounce, a replica
  that only follows the leader), ends it then.
- Imports nothing outside the standard library's gc and time.
"""

from __future__ import annotations

import gc
import time

LIMIT = 30.0  # seconds


class Pause:
    """The collector paused from construction until `end` (or until `check` finds `limit` passed); `active=False`
    makes an inert one, which pauses and ends nothing."""

    def __init__(self, limit: float = LIMIT, *, active: bool = True) -> None:
        self._resume = active and gc.isenabled()
        self._running = active
        self._until = time.monotonic() + limit
        if active:
            gc.disable()

    @property
    def running(self) -> bool:
        return self._running

    def check(self) -> None:
        if self._running and time.monotonic() >= self._until:
            self.end()

    def end(self, *, freeze: bool = True) -> None:
        """End the pause. `freeze=False` (a command that ended before its watch began) enables the collector
        without freezing anything: the objects are then scanned as usual."""
        if not self._running:
            return
        self._running = False
        if self._resume:
            if freeze:
                # Enabled with the counts as they stand, the next allocation would start a pass over everything
                # allocated while paused: frozen first, nothing is scanned, and the counts start again from zero.
                gc.freeze()
            gc.enable()


_current = Pause(active=False)
_owned = False


def own() -> None:
    """The collector is this process's: called by cli/app.py's `main` when it is the process."""
    global _owned
    _owned = True


def pause(limit: float = LIMIT) -> Pause:
    """The process's pause: the one running, or a new one; an inert one unless the process owns the collector."""
    global _current
    if not _owned:
        return Pause(active=False)
    if not _current.running:
        _current = Pause(limit)
    return _current
