"""The private directory of one `kates watch`: its write socket and its deltas files live there.

Invariants:
- Created mode 0700 in the temp directory (in /tmp when the temp directory's path is too long for a Unix socket
  inside it), named `kates-watch-<pid>-<start time>-<random>`, and holding a `lock` file on which its watcher holds
  an exclusive flock for as long as it lives (the descriptor is close-on-exec: hooks never hold it). A later kates
  removes only the directories of watchers that are gone, only its own user's, only real directories (never through
  a link). Gone means: the lock can be taken (its holder has exited, however it ended). The lock, not the pid, is
  what decides, as the temp directory may be shared by watchers in other PID namespaces (containers of one pod
  sharing an emptyDir), where a live watcher's pid is absent or another process's. A directory less than a minute
  old is never removed (its watcher may be between making the lock file and locking it). A directory without a lock
  file (made by an older kates) is judged by its name: no process with that pid, or one started at another time
  (the pid was reused).
- Files in it are created mode 0600, exclusively (never through an existing file or link), and removed once used.
- It is removed when the watch ends; after a SIGKILL the reaper removes it (hook.Reaper), and failing that (the
  reaper killed too) the next `kates watch` does.
- tempfile and shutil are not imported (with random, bz2 and lzma they cost 5 ms of every watch's start): the temp
  directory is chosen as tempfile chooses it (`temp_dir`), the directory is made as mkdtemp makes one, and removed
  as rmtree removes it (`_remove`: it holds files only; anything else in it is left to shutil).
"""

from __future__ import annotations

import fcntl
import os
import stat
import sys
import time

PREFIX = "kates-watch-"
LOCK = "lock"
_UNLOCKED_GRACE = 60.0  # seconds: a directory without a lock file is never judged younger than this
_SOCKET_ROOM = 100  # sun_path holds 108 bytes on Linux (104 on BSDs); leave room for the directory's name
_FALLBACK = "/tmp"


def start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "" where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()  # field 22 of stat(5); fields[0] is field 3
    except (OSError, IndexError):
        return ""


def _alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: not ours to judge
    return not started or not start_time(pid) or start_time(pid) == started


def temp_dir() -> str:
    """The temp directory as tempfile.gettempdir picks it: `tempfile.tempdir` where it has been set, else the first
    of $TMPDIR, $TEMP, $TMP, /tmp, /var/tmp, /usr/tmp and the working directory that is a directory this user may
    create files in (tempfile tries to create one there; a full disk is not noticed here)."""
    chosen = getattr(sys.modules.get("tempfile"), "tempdir", None)  # set by the program (or a test) that imported it
    if chosen:
        return str(chosen)
    candidates = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
    for path in [*candidates, "/tmp", "/var/tmp", "/usr/tmp", os.curdir]:
        if path and os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK):
            return os.path.abspath(path)
    raise FileNotFoundError(f"no usable temporary directory found in {[c for c in candidates if c]}")


def parent_dir() -> str:
    """Where a watcher's directory goes: the temp directory, unless a socket path inside it would be too long."""
    parent = temp_dir()
    if len(os.fsencode(parent)) + len(PREFIX) + 40 + len("/writes.sock") > _SOCKET_ROOM and os.path.isdir(_FALLBACK):
        return _FALLBACK
    return parent


def remove_stale(parent: str | None = None) -> list[str]:
    """Remove the directories left by watchers that are gone (SIGKILL); return their paths."""
    return [p for d in dict.fromkeys([parent or parent_dir(), _FALLBACK]) for p in _remove_stale_in(d)]


def _remove_stale_in(parent: str) -> list[str]:
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    for name in names:
        if not name.startswith(PREFIX):
            continue
        parts = name[len(PREFIX) :].split("-")
        if len(parts) != 3 or not parts[0].isdigit():
            continue  # not named by this version of kates: leave it alone
        path = os.path.join(parent, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            continue
        if _in_use(path, st, int(parts[0]), parts[1]):
            continue
        _remove(path)
        removed.append(path)
    return removed


def _in_use(path: str, st: os.stat_result, pid: int, started: str) -> bool:
    """Whether a watcher still uses its directory: its lock is held (see the module's invariants)."""
    try:
        fd = os.open(os.path.join(path, LOCK), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return time.time() - st.st_mtime < _UNLOCKED_GRACE or _alive(pid, started)
    except OSError:
        return True  # not ours to judge
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return True
    finally:
        os.close(fd)  # (a lock taken here goes with the descriptor)
    # a free lock in a directory a moment old: its watcher may be between creating the file and locking it
    return time.time() - st.st_mtime < _UNLOCKED_GRACE


def _remove(path: str) -> None:
    """Remove a watcher's directory and the files in it, ignoring errors (rmtree's ignore_errors), never through a
    link: the directory is opened without following one and its files are removed relative to it. One holding
    anything but files (never made by kates) goes to shutil.rmtree, which is as careful."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return
    try:
        with os.scandir(fd) as entries:
            names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        if any(is_dir for _, is_dir in names):
            import shutil

            shutil.rmtree(path, ignore_errors=True)
            return
        for name, _ in names:
            try:
                os.unlink(name, dir_fd=fd)
            except FileNotFoundError:
                pass
        os.rmdir(path)
    except OSError:
        pass
    finally:
        os.close(fd)


class RunDir:
    """This watcher's directory (see the module's invariants)."""

    def __init__(self, parent: str | None = None):
        """As mkdtemp makes one: mode 0700, a fresh random name, never an existing directory (or link)."""
        pid = os.getpid()
        prefix = os.path.join(os.path.abspath(parent or parent_dir()), f"{PREFIX}{pid}-{start_time(pid) or 0}-")
        for _ in range(100):
            path = prefix + os.urandom(6).hex()
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                continue
            self.path = path
            self._lock = os.open(
                os.path.join(path, LOCK), os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
            )
            fcntl.flock(self._lock, fcntl.LOCK_EX)  # held until this process exits: the directory is in use
            return
        raise FileExistsError(f"no unused name for a directory in {os.path.dirname(prefix)}")

    def write(self, name: str, data: bytes) -> str:
        """A new file in the directory, mode 0600, holding `data`; returns its path."""
        path = os.path.join(self.path, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return path

    def remove(self, name: str) -> None:
        try:
            os.unlink(os.path.join(self.path, name))
        except FileNotFoundError:
            pass

    def cleanup(self) -> None:
        _remove(self.path)
        try:
            os.close(self._lock)
        except OSError:
            pass
