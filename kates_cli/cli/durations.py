"""Durations on the command line, read as Go's `time.ParseDuration` reads them (kubectl's flags are Go durations).

Invariants:
- `go_duration` accepts exactly what Go accepts: an optional sign, then one or more `[0-9]*(.[0-9]*)?UNIT` with
  units ns, us, µs, μs, ms, s, m, h (`0` alone needs no unit); the rest, and anything past Go's int64 nanoseconds,
  is refused with Go's own message (`time: invalid duration "X"`, `time: missing unit in duration "X"`,
  `time: unknown unit "U" in duration "X"`). Only ASCII digits are digits.
- It runs in one pass over the bytes: time linear in the input, whatever the input.
- `parse_duration` turns a refusal into a UsageError with pflag's wording:
  `invalid argument "X" for "--timeout" flag: time: invalid duration "X"`.
"""

from __future__ import annotations

from ..errors import UsageError

_UNITS = {
    b"ns": 1,
    b"us": 1_000,
    "µs".encode(): 1_000,  # U+00B5 micro sign
    "μs".encode(): 1_000,  # U+03BC Greek mu
    b"ms": 1_000_000,
    b"s": 1_000_000_000,
    b"m": 60_000_000_000,
    b"h": 3_600_000_000_000,
}
_MAX = 1 << 63  # Go's uint64 accumulator bound; a positive Duration is at most _MAX - 1
_DIGITS = b"0123456789"


def _quote(raw: bytes) -> str:
    """Go's time.quote: non-ASCII and control bytes as \\xNN, `"` and `\\` escaped."""
    out = []
    for b in raw:
        if b >= 0x80 or b < 0x20:
            out.append(f"\\x{b:02x}")
        elif b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        else:
            out.append(chr(b))
    return '"' + "".join(out) + '"'


def go_duration(text: str) -> int:
    """Nanoseconds, as Go's time.ParseDuration returns them; ValueError with Go's message otherwise."""
    orig = text.encode("utf-8", "surrogateescape")
    invalid = ValueError("time: invalid duration " + _quote(orig))
    s, i, n = orig, 0, len(orig)
    neg = False
    if n and s[0] in b"-+":
        neg, i = s[0] == 0x2D, 1
    if s[i:] == b"0":
        return 0
    if i == n:
        raise invalid
    total = 0
    while i < n:
        c = s[i]
        if not (c == 0x2E or c in _DIGITS):
            raise invalid
        start = i
        whole = 0
        while i < n and s[i] in _DIGITS:
            if whole > _MAX // 10:
                raise invalid
            whole = whole * 10 + s[i] - 0x30
            if whole > _MAX:
                raise invalid
            i += 1
        pre = i != start
        frac, scale, post = 0, 1.0, False
        if i < n and s[i] == 0x2E:
            i += 1
            start, overflow = i, False
            while i < n and s[i] in _DIGITS:
                if not overflow:
                    if frac > (_MAX - 1) // 10 or frac * 10 + s[i] - 0x30 > _MAX:
                        overflow = True  # Go stops gaining precision here; it is no error
                    else:
                        frac, scale = frac * 10 + s[i] - 0x30, scale * 10
                i += 1
            post = i != start
        if not pre and not post:
            raise invalid
        start = i
        while i < n and not (s[i] == 0x2E or s[i] in _DIGITS):
            i += 1
        if i == start:
            raise ValueError("time: missing unit in duration " + _quote(orig))
        unit = _UNITS.get(s[start:i])
        if unit is None:
            raise ValueError(f"time: unknown unit {_quote(s[start:i])} in duration {_quote(orig)}")
        if whole > _MAX // unit:
            raise invalid
        whole *= unit
        if frac > 0:
            whole += int(float(frac) * (float(unit) / scale))  # Go's float64 arithmetic, truncated the same way
            if whole > _MAX:
                raise invalid
        total += whole
        if total > _MAX:
            raise invalid
    if neg:
        return -total
    if total > _MAX - 1:
        raise invalid
    return total


def _show(text: str) -> str:
    """Go's %q, near enough: the text in double quotes, `"` and `\\` and control characters escaped."""
    return (
        '"'
        + "".join(
            "\\" + c if c in '"\\' else (c if c.isprintable() else c.encode("unicode_escape").decode()) for c in text
        )
        + '"'
    )


def parse_duration(text: str, flag: str | None = None, *, negative: bool = False) -> float:
    """A Go duration -> seconds. Refused (UsageError, pflag's words naming `flag`) when Go would refuse it, or when
    it is negative and `negative` is not allowed."""
    where = f" for {_show(flag)} flag" if flag else ""
    try:
        nanos = go_duration(text)
    except ValueError as exc:
        raise UsageError(f"invalid argument {_show(text)}{where}: {exc}", hint="e.g. 30s, 1m30s, 500ms, 2h") from None
    if nanos < 0 and not negative:
        raise UsageError(f"invalid argument {_show(text)}{where}: a negative duration is not allowed here")
    return nanos / 1e9


REQUEST_TIMEOUT_ERROR = (
    "Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding "
    "time unit (e.g. 1s | 2m | 3h)"
)


def request_timeout(text: str) -> float:
    """--request-timeout as kubectl reads it: a whole number of seconds, or a Go duration; kubectl's message when
    neither (and for a negative value)."""
    digits = text[1:] if text[:1] in "+-" else text
    if digits.isascii() and digits.isdigit():
        # past Go's Duration (kubectl's multiplication overflows; kates's sockets would fail): refused
        if len(digits.lstrip("0")) > 10 or int(digits) * 1_000_000_000 > _MAX - 1:
            raise UsageError(REQUEST_TIMEOUT_ERROR)
        seconds = float(int(text))
    else:
        try:
            seconds = go_duration(text) / 1e9
        except ValueError:
            raise UsageError(REQUEST_TIMEOUT_ERROR) from None
    if seconds < 0:
        raise UsageError(REQUEST_TIMEOUT_ERROR)
    return seconds


def parse_stall_timeout(text: str) -> float:
    """--stall-timeout (watch, get -w, logs -f): a duration of at least core.watch.MIN_STALL_TIMEOUT (logs reconnect
    an idle stream every half of it, and the server's watch timeout is whole seconds)."""
    from ..core.watch import MIN_STALL_TIMEOUT

    seconds = parse_duration(text, "--stall-timeout")
    if seconds < MIN_STALL_TIMEOUT:
        raise UsageError(f"invalid --stall-timeout {_show(text)}: must be at least {MIN_STALL_TIMEOUT:g}s")
    return seconds
