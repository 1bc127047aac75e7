"""Go's encoding/json bytes from orjson's: what kubectl's -o json prints, and the API server sends.

orjson writes JSON several times faster than anything else here, but not as Go writes it in two ways: it leaves `<`,
`>`, `&`, U+2028 and U+2029 as they are (Go writes `\\u003c`, `\\u003e`, `\\u0026`, `\\u2028`, `\\u2029`), and it
writes some float64 values otherwise. Go (encoding/json's floatEncoder) writes the shortest digits that read back as
the same float, in fixed notation for 1e-6 <= |x| < 1e21 and in exponent notation outside (`1e-7`, `1.5e+21`), and
`-0` for negative zero; orjson writes `1.0` for an integral float, and exponent notation below 1e-5 and from 1e16.
The floats where the two disagree: orjson's text ends in `.0` (an integral float below 1e16, in Go `1`), in `e-6`
(1e-6 <= |x| < 1e-5, in Go `0.000001`), or has an exponent of `e+16` to `e+20` (in Go `10000000000000000`).

Invariants:
- `json_float(x)` is Go's text for the float64 `x` (finite; orjson writes NaN and infinities as null, which Go
  refuses to write, and the API server never sends).
- `floats_may_differ(data)` is True for every orjson text (indented or compact) holding a float Go writes otherwise;
  it is True for no other text in practice: a candidate counts only in a number's place (a digit before it, a
  delimiter after), so a uid or name holding `e-6` is no float. What it costs on a page of a long list (a literal
  search or two, under 1 ms per MB, and memchr) is all that text without
  such a float pays: no Python walk.
- `go_floats(obj)` is `obj` with every float replaced by its Go text (an orjson.Fragment), in copies of the
  containers that hold one; `obj` itself is never changed, and is returned as it is when it holds no float. It walks
  without recursion, so an object nested thousands of levels deep is rewritten as any other.
- `escaped(data)` is `data` with Go's five escapes, which only strings can hold (none is JSON syntax), so a plain
  replace is exact; text holding none of them costs four memchr scans (and two more where a character of U+2000 to
  U+2FFF is), and is returned as is.
- Nothing here imports anything of kates; orjson is imported only by `go_floats`.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import Any

ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)

# where orjson's float text ends and Go's differs: `1.0` (before `,`, a line break, `]` or `}`) and `1e-6`, and
# `e+16` to `e+20`, each in a number's place (a digit before, a delimiter or the end after): a uid or a name holds
# `e-6` often (my-service-6c7...), base64 text `e+16`, and a false match walks the whole page for nothing. Each is
# found by a literal search (memchr-fast) and its place checked by hand: a regular expression that starts with a
# character class scans byte by byte (10 ms for a 2 MB page, where the literal searches take well under 1 ms); and
# `re` is not imported at all (with enum, 4.6 ms of every `kates get`'s start).
_ENDS = (b",", b"\n", b"]", b"}", b"")  # what may follow a number (b"": the end of the text)
_LARGE_EXPONENTS = (b"16", b"17", b"18", b"19", b"20")


def _in_number_place(data: bytes, token: bytes, exponents: tuple[bytes, ...] = (b"",)) -> bool:
    """Whether `token` + one of `exponents` occurs in `data` with a digit before it and a number's end after it (`.0`
    of `1.0`, `e-6` of `1e-6`, `e+` and `16` of `1e+16`)."""
    at = data.find(token)
    while at >= 0:
        if at > 0 and 48 <= data[at - 1] <= 57:  # a digit before the `e`
            rest = at + len(token)
            for exponent in exponents:
                end = rest + len(exponent)
                if data[rest:end] == exponent and data[end : end + 1] in _ENDS:
                    return True
        at = data.find(token, at + 1)
    return False


def escaped(data: bytes) -> bytes:
    """`data` (JSON text) with `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's encoding/json escapes them."""
    for char, escape in ESCAPES[:3]:
        if char in data:  # memchr
            data = data.replace(char, escape)
    if b"\xe2" in data:  # memchr: the first byte of U+2000 to U+2FFF in UTF-8, and so of U+2028 and U+2029
        for char, escape in ESCAPES[3:]:
            if char in data:
                data = data.replace(char, escape)
    return data


def floats_may_differ(data: bytes) -> bool:
    """Whether orjson's JSON text `data` may hold a float that Go writes otherwise (never False when it does)."""
    if data.endswith(b".0"):  # a bare number: no character follows it
        return True
    if b"+" in data and _in_number_place(data, b"e+", _LARGE_EXPONENTS):  # (one byte: memchr)
        return True
    if b"." in data and _in_number_place(data, b".0"):
        return True
    return _in_number_place(data, b"e-6")


def json_float(x: float) -> str:
    """encoding/json's text for the float64 `x`."""
    if x == 0:
        return "-0" if str(x).startswith("-") else "0"
    sign = "-" if x < 0 else ""
    digits, point = shortest_digits(abs(x))
    if 1e-6 <= abs(x) < 1e21:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return f"{sign}{digits[:point]}.{digits[point:]}"
    exponent = point - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):d}"


def shortest_digits(a: float) -> tuple[str, int]:
    """The shortest digits that read back as `a` (> 0), as Python's repr and Go's strconv both find them, and where
    the decimal point goes: `a` = 0.DIGITS x 10^point."""
    mantissa, _, exp = repr(a).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exp) if exp else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return stripped.rstrip("0"), point


def go_floats(obj: Any) -> Any:
    """`obj` with every float as Go writes it (module docstring); `obj` itself when it holds no float."""
    import orjson

    root = [obj]
    found = False
    todo: list[tuple[Any, Any]] = [(root, 0)]  # (a container already copied, the key of a value to look at)
    while todo:
        container, key = todo.pop()
        value = container[key]
        if isinstance(value, dict):
            if value:
                copy: Any = dict(value)
                container[key] = copy
                todo.extend((copy, k) for k in copy)
        elif isinstance(value, list):
            if value:
                copy = list(value)
                container[key] = copy
                todo.extend((copy, i) for i in range(len(copy)))
        elif isinstance(value, float) and value - value == 0:  # finite
            container[key] = orjson.Fragment(json_float(value).encode())
            found = True
    return root[0] if found else obj
