"""The C heap of a long-running watch: keep glibc's malloc from holding freed memory.

A `kates watch` under churn builds each snapshot (as large as all the objects' bytes) and frees it after the run,
while every event replaces an object's bytes (about a kilobyte: too large for Python's own allocator, so glibc's
malloc holds them). Two habits of glibc's malloc then make the process's RSS creep up although the Python objects
alive stay the same (bench B6 at N=20,000, 4 minutes of churn: the bytes in use flat at 57-58 MiB, the free bytes
inside the heap 5.9 -> 13.8 MiB, all of it given back by a `malloc_trim(0)` at the end; with this module the free
bytes stay at 4-7 MiB and a trim at the end finds nothing to give back):
- its mmap threshold slides up to the largest block freed (up to 32 MiB): after the first snapshot is freed, the
  next one and every large temporary of a take come from the heap instead of their own mapping, and what they free
  stays in the heap between the long-lived objects' bytes;
- free memory inside the heap (not at its top) is returned to the system only by `malloc_trim`.

Invariants:
- `tune()` fixes the mmap threshold at MMAP_THRESHOLD (which also stops its sliding), so a block that large is
  always its own mapping, returned to the system when freed; and it limits malloc to one arena (M_ARENA_MAX), so that
  every thread allocates from the one heap: by default each thread gets a heap of its own on its first allocation,
  and a watch's stream threads each kept a partly used one (bench B6, the marginal RSS of a running watch, 4 alternating
  rounds: 5.03 -> 4.72 MiB at 1,600 objects; 26.9 -> 26.1 MiB at 10,000 ConfigMaps, 2 rounds). The threads
  mostly allocate with the GIL held, so they seldom wait for the arena's lock (not measured). Called once, by a
  process that holds a watch, before it starts threads: a thread that already has an arena keeps it.
- `trim()` returns the free pages inside the heap to the system (`malloc_trim(0)`); the memory stays usable, it is
  faulted in again when reused. A caller calls it after freeing a large block (a snapshot), not per event.
- Both are no-ops, returning False, where the C library is not glibc (musl, macOS): nothing else depends on them.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MMAP_THRESHOLD", "trim", "tune"]

MMAP_THRESHOLD = 256 * 1024  # glibc's dynamic threshold starts at 128 KiB; a snapshot part or a take's temporaries
M_MMAP_THRESHOLD = -3  # mallopt's parameter numbers (malloc.h)
M_ARENA_MAX = -8

_libc: Any = None
_loaded = False


def _glibc() -> Any:
    global _libc, _loaded
    if not _loaded:
        _loaded = True
        if sys.platform.startswith("linux"):
            import ctypes  # here, not at the top: 3 ms, and a `watch --once` never tunes

            try:
                lib = ctypes.CDLL(None)  # the C library the interpreter is linked against
                if hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt") and hasattr(lib, "gnu_get_libc_version"):
                    lib.malloc_trim.argtypes, lib.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
                    lib.mallopt.argtypes, lib.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
                    _libc = lib
            except OSError:
                _libc = None
    return _libc


def tune() -> bool:
    """Fix glibc's mmap threshold and limit it to one arena (see the module docstring); True when both were set."""
    lib = _glibc()
    if lib is None:
        return False
    threshold = lib.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return bool(lib.mallopt(M_ARENA_MAX, 1) == 1 and threshold)


def trim() -> bool:
    """Give the free pages inside glibc's heap back to the system; True when glibc says memory was released."""
    lib = _glibc()
    return bool(lib is not None and lib.malloc_trim(0) == 1)
