"""The reaper: a small process that outlives a SIGKILLed `kates watch` just long enough to kill its hook's process
group and remove its private directory, and that fences a leader's hook when kates cannot (frozen by SIGSTOP, or
starved). Run by path (`python -S -I reaper.py DIR`), so it imports nothing of kates. A watch that fences
(--leader-elect) runs it; every other one runs reaper.sh, which keeps the same contract less the fence ("until"
lines) in POSIX sh, for about a millisecond of CPU where this interpreter's start costs 8-17 ms, and falls back to
this one only where /bin/sh cannot run reaper.sh (hook.Reaper).

Invariants:
- kates holds the only write end of the reaper's stdin (close-on-exec: hooks never inherit it). Lines say "+PGID"
  when a hook's process group starts, "-PGID" when kates has ended it, "until T" (T a float of CLOCK_MONOTONIC
  seconds, `time.monotonic()`: one clock for every process on the machine) to set the fence deadline, "until -" to
  clear it, and "exit" when kates ends cleanly. Any other line is ignored, as is a PGID that is not a plain pid
  from 2 up (`_group`: never 0, the reaper's own group, nor 1, which kill(-1) would make every process).
- End of input without "exit" means kates died: the reaper SIGKILLs every group still listed, removes DIR, exits.
  After "exit" it exits without touching anything. It never signals a group it was not told about, nor one kates
  said has ended.
- The fence: once monotonic time reaches the last "until T" (no newer "until" line read before T), every listed
  group is SIGKILLed, on the reaper's own timer: it waits on its input with a timeout (select), never in a blocking
  read, so a kates frozen by SIGSTOP or starved of CPU cannot hold the kill back. The reaper runs in its own
  session, so a SIGSTOP of kates's process group does not reach it.
- While the deadline has passed (until a newer "until" in the future, or "until -"), a "+PGID" is killed at once:
  a frozen leader that wakes up and starts a hook before it has noticed that its lease is gone cannot run that
  hook unfenced. A newer "until" in the future ends that state; groups already killed stay listed until "-PGID".
- It ignores SIGINT, SIGTERM, SIGHUP and SIGPIPE: a Ctrl-C to the terminal's process group leaves kates's own
  graceful stop in charge; only the end of kates ends the reaper.

Why a process and not PR_SET_PDEATHSIG in the hook: the parent-death signal reaches the hook's group *leader*
only, and a hook's children (a shell script's `sleep`) would live on; setting it needs a preexec_fn, which makes
every hook start a full fork of kates instead of a vfork (measured: 2 ms -> 33 ms per start at 200 MB of
snapshot). The reaper signals the whole group, and removes the directory at once rather than at the next start.
Why a process for the fence too: a thread of kates stops with kates under SIGSTOP; the reaper does not.
"""

from __future__ import annotations

import math
import os
import select
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
else:
    try:  # signal's own C module (the same functions and numbers): `signal` wraps it in enums, and enum is 4 ms
        import _signal as signal  # of the reaper's 16
    except ImportError:  # an interpreter without it
        import signal


def _group(text: bytes) -> int | None:
    """A process group as kates writes it (`f"{pgid}"`): plain ASCII decimal, no sign, no leading zero, from 2 to
    2**31 - 1. Never 0 (the reaper's own group) nor 1 (kill(-1) reaches every process the reaper may signal); anything
    else is not a group. reaper.sh accepts exactly the same."""
    if not (0 < len(text) <= 10 and text.isdigit() and text[:1] != b"0"):
        return None
    pgid = int(text)
    return pgid if 2 <= pgid <= 0x7FFFFFFF else None


def _kill(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


class _State:
    """The groups kates announced and the fence deadline, fed one input line at a time."""

    def __init__(self) -> None:
        self.groups: set[int] = set()
        self.until: float | None = None  # the fence deadline (monotonic seconds), None when not fencing

    def expired(self, now: float) -> bool:
        return self.until is not None and now >= self.until

    def line(self, line: bytes) -> bool:
        """Apply one line (spaces and tabs around it ignored, as sh's `read` does for reaper.sh); False on "exit"."""
        line = line.strip(b" \t")
        if line == b"exit":
            return False
        pgid = _group(line[1:]) if line[:1] in (b"+", b"-") else None
        if pgid is not None:
            if line[:1] == b"-":
                self.groups.discard(pgid)
                return True
            self.groups.add(pgid)
            if self.expired(time.monotonic()):
                _kill(pgid)  # started after the fence deadline: never let it run
        elif line.startswith(b"until "):
            value = line[6:].strip()
            if value == b"-":
                self.until = None
                return True
            try:
                until = float(value)
            except ValueError:
                return True
            if math.isfinite(until):
                self.until = until
        return True

    def fence(self) -> None:
        """The deadline has passed: SIGKILL every listed group."""
        for pgid in self.groups:
            _kill(pgid)


def main(argv: list[str]) -> int:
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(s, signal.SIG_IGN)
    directory = argv[1] if len(argv) > 1 else None
    state = _State()
    fd = sys.stdin.fileno()
    pending = b""
    fenced: float | None = None  # the deadline whose kill has been done: one kill per deadline
    while True:
        now = time.monotonic()
        due = state.expired(now) and fenced != state.until
        # wait for input until the deadline; at the deadline, first read what is already there (a renewal written
        # just in time is not overruled by the timer firing at the same moment)
        timeout = 0.0 if due else None if state.until is None or state.expired(now) else state.until - now
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        except InterruptedError:
            continue
        if not ready:
            if due:
                state.fence()
                fenced = state.until
            continue
        try:
            chunk = os.read(fd, 65536)
        except InterruptedError:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            if not state.line(raw):
                return 0
    for pgid in state.groups:  # kates is gone: so must its hook be
        _kill(pgid)
    if directory and os.path.basename(directory).startswith("kates-watch-"):
        import shutil  # only here: with its fnmatch, re and enum it is 10 ms of the 30 every watch's reaper cost

        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
