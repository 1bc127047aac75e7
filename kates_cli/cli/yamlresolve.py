"""What go-yaml v2 (go.yaml.in/yaml/v2 v2.4.4, the YAML library under kubectl's `-o yaml`) makes of values:
which plain texts it reads back as something other than a string, how a JSON number prints after kubectl's
JSON -> go-yaml round trip, and the order of map keys.

Invariants:
- Pure functions of their arguments, ported from resolve.go, sorter.go and the Go standard library functions they
  call (strconv.ParseInt/ParseUint/ParseFloat, time.Parse, strconv.FormatFloat), quirks included.
- `plain_is_string(s)` is True exactly when go-yaml's resolver gives `s` the !!str tag and `s` is not a YAML 1.1
  base-60 float: only then may `s` be written unquoted.
"""

from __future__ import annotations

import re
from functools import cmp_to_key

from ..core.gojson import shortest_digits

# -- how go-yaml v2 reads a plain scalar (resolve.go) ------------------------------------------------------------

RESOLVED = frozenset(
    "y Y yes Yes YES true True TRUE on On ON n N no No NO false False FALSE off Off OFF ~ null Null NULL "
    ".nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF".split()
)
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+(?:_[0-9]+)*)?\Z")  # Go ParseFloat, leading "."
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_GO_INT = re.compile(r"[-+]?(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")
_TIMESTAMP_START = re.compile(r"[0-9]{4}-")
_INT64 = (-(1 << 63), 1 << 63)
_UINT64 = 1 << 64


def _go_parse_int(s: str) -> bool:
    """strconv.ParseInt(s, 0, 64) or ParseUint(s, 0, 64) succeeds (s has no underscores)."""
    if not _GO_INT.match(s):
        return False
    body = s.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1] in "bBoOxX":
        value = int(body[2:], {"b": 2, "o": 8, "x": 16}[body[1].lower()])
    elif body[0] == "0":
        value = int(body, 8)
    else:
        value = int(body)
    if s[0] == "-":
        return -value >= _INT64[0]
    if s[0] == "+":
        return value < _INT64[1]
    return value < _UINT64


def _go_parse_base2(s: str, signed: bool) -> bool:
    """strconv.ParseInt(s, 2, 64) (signed) or ParseUint(s, 2, 64)."""
    body = s[1:] if signed and s[:1] in ("+", "-") else s
    if not body or body.strip("01"):
        return False
    value = int(body, 2)
    if not signed:
        return value < _UINT64
    return -value >= _INT64[0] if s[0] == "-" else value < _INT64[1]


def _float_ok(s: str) -> bool:
    """strconv.ParseFloat on text already known to be well formed: fails only on overflow."""
    return float(s.replace("_", "")) not in (float("inf"), float("-inf"))


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _getnum(v: str, i: int) -> tuple[int, int] | None:
    """Go time's getnum(s, false): one or two ASCII digits."""
    if i < len(v) and "0" <= v[i] <= "9":
        if i + 1 < len(v) and "0" <= v[i + 1] <= "9":
            return int(v[i : i + 2]), i + 2
        return int(v[i]), i + 1
    return None


def _is_timestamp(v: str) -> bool:
    """go-yaml's parseTimestamp: time.Parse with 2006-1-2T15:4:5.999999999Z07:00 (also with `t`),
    `2006-1-2 15:4:5.999999999` or `2006-1-2`, Go's quirks included."""
    if not _TIMESTAMP_START.match(v):
        return False
    year = int(v[:4])
    month = _getnum(v, 5)
    if month is None or not 1 <= month[0] <= 12 or month[1] >= len(v) or v[month[1]] != "-":
        return False
    day = _getnum(v, month[1] + 1)
    if day is None or not 1 <= day[0] <= _days_in(month[0], year):
        return False
    i = day[1]
    if i == len(v):
        return True  # 2006-1-2
    sep = v[i]
    if sep in "Tt":
        i += 1
    elif sep == " ":
        while i < len(v) and v[i] == " ":
            i += 1
    else:
        return False
    for limit, last in ((24, False), (60, False), (60, True)):
        got = _getnum(v, i)
        if got is None or got[0] >= limit:
            return False
        i = got[1]
        if not last:
            if i >= len(v) or v[i] != ":":
                return False
            i += 1
    if i + 1 < len(v) and v[i] in ".," and "0" <= v[i + 1] <= "9":
        i += 1
        while i < len(v) and "0" <= v[i] <= "9":
            i += 1
    rest = v[i:]
    if sep == " ":
        return rest == ""
    if rest == "Z":
        return True
    if len(rest) != 6 or rest[3] != ":" or rest[0] not in "+-":
        return False
    hh, mm = rest[1:3], rest[4:6]
    return hh.isdigit() and mm.isdigit() and hh.isascii() and mm.isascii() and int(hh) <= 24 and int(mm) <= 60


def plain_is_string(s: str) -> bool:
    """Whether go-yaml v2 would write `s` unquoted: its resolver reads the plain text back as a string."""
    if not s:
        return False
    hint = s[0]
    if hint in "+-0123456789":
        pass
    elif hint == ".":
        return s not in RESOLVED and not (_DOT_FLOAT.match(s) and _float_ok(s))
    elif hint in "yYnNtTfFoO~":
        return s not in RESOLVED
    else:
        return True
    if s in RESOLVED or _BASE60.match(s):
        return False
    if "0" <= hint <= "9" and _is_timestamp(s):
        return False
    plain = s.replace("_", "")
    if _go_parse_int(plain):
        return False
    if _YAML_FLOAT.match(plain) and _float_ok(plain):
        return False
    if plain.startswith("0b"):
        return not (_go_parse_base2(plain[2:], True) or _go_parse_base2(plain[2:], False))
    if plain.startswith("-0b"):
        return not _go_parse_base2("-" + plain[3:], True)
    return True


# -- numbers as they come out of kubectl's JSON round trip ---------------------------------------------------------


def _go_float(neg: bool, digits: str, dp: int) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64)."""
    sign = "-" if neg else ""
    exp = dp - 1
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def number_text(value: int | float) -> str:
    """A JSON number as kubectl prints it: integers within int64 as they are; anything else became a float64,
    whose JSON text go-yaml reads back as an int (when integral and within 64 bits) or a float ('g' format)."""
    if isinstance(value, int):
        if _INT64[0] <= value < _INT64[1]:
            return str(value)
        try:
            value = float(value)
        except OverflowError:
            return str(value)  # kubectl refuses such a number; print it whole
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    if value == 0:
        return "0"
    neg = value < 0
    digits, dp = shortest_digits(abs(value))
    if 1e-6 <= abs(value) < 1e21 and dp >= len(digits):  # encoding/json wrote it as an integer
        n = int(digits + "0" * (dp - len(digits)))
        if (-n >= _INT64[0]) if neg else (n < _UINT64):
            return str(-n if neg else n)
    return _go_float(neg, digits, dp)


# -- key order (sorter.go) ------------------------------------------------------------------------------------------


def _wrap64(n: int) -> int:
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >> 63 else n


def key_less(a: str, b: str) -> bool:
    """go-yaml v2's keyList.Less for two string keys."""
    for i in range(min(len(a), len(b))):
        x, y = a[i], b[i]
        if x == y:
            continue
        xl, yl = x.isalpha(), y.isalpha()
        if xl and yl:
            return x < y
        if xl or yl:
            return yl
        an = bn = 0
        if x == "0" or y == "0":
            j = i - 1
            while j >= 0 and a[j].isdecimal():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and a[ai].isdecimal():
            an = _wrap64(an * 10 + ord(a[ai]) - 48)
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdecimal():
            bn = _wrap64(bn * 10 + ord(b[bi]) - 48)
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return x < y
    return len(a) < len(b)


def _key_cmp(a: str, b: str) -> int:
    return -1 if key_less(a, b) else (1 if key_less(b, a) else 0)


_LETTERS_LAST = str.maketrans({c: chr(ord(c) + 128) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"})
_NOT_SIMPLE_ORDER = re.compile(r"[0-9]|[^\x00-\x7f]")


def sorted_keys(keys: list[str]) -> list[str]:
    """Keys in go-yaml's order. Without digits or non-ASCII characters, that order is code-point order with
    letters after every other character, which a translation gives to the C sort."""
    if any(_NOT_SIMPLE_ORDER.search(k) for k in keys):
        # go-yaml's order is not transitive on some digit mixes (a1b < a2 < a10 < a1b); kubectl's output then
        # depends on Go's map order, so any consistent sort is as right as another.
        return sorted(keys, key=cmp_to_key(_key_cmp))
    return sorted(keys, key=lambda k: k.translate(_LETTERS_LAST))
