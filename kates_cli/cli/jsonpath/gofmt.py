"""Go's value formatting as kubectl prints it (fmt.Sprint, %v floats, json.Marshal), and the shared error types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...core.gojson import json_float

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class _Invalid:
    """Go's zero reflect.Value: the data a range body sees for a null element (prints `<no value>`)."""

    def __repr__(self) -> str:
        return "<invalid reflect.Value>"


_INVALID = _Invalid()


class _Error(Exception):
    """An evaluation or syntax error with kubectl's bare message. `partial` is what Go's evaluator returns alongside
    the error, which an existence filter still inspects."""

    def __init__(self, message: str, partial: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.partial = partial if partial is not None else []


class _GoInt(int):
    """An integer literal of the template: Go's `int`, where the data's integers are `int64`."""


class _Byte(int):
    """A byte of a string that `*` or `..` walked into: Go's `uint8` (it prints and compares as a number)."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _as_go_number(v: int | float) -> int | float:
    """An int beyond int64 is decoded by Kubernetes as a float64."""
    if isinstance(v, int) and not _INT64_MIN <= v <= _INT64_MAX:
        return float(v)
    return v


def _shortest_digits(f: float) -> tuple[str, int]:
    """The shortest digits that round-trip `abs(f)` (f != 0) and the decimal point position: 0.DIGITS x 10^dp."""
    _, digits, exponent = Decimal(repr(abs(f))).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    dp = len(text) + exponent
    stripped = text.lstrip("0")
    dp -= len(text) - len(stripped)
    return stripped.rstrip("0"), dp


def _fixed(digits: str, dp: int) -> str:
    if dp <= 0:
        return "0." + "0" * -dp + digits
    if dp >= len(digits):
        return digits + "0" * (dp - len(digits))
    return digits[:dp] + "." + digits[dp:]


def _exponent(digits: str, dp: int) -> str:
    exp = dp - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _go_float(f: float) -> str:
    """Go's `%v` of a float64: shortest digits, exponent form when the decimal exponent is < -4 or >= 6."""
    if f == 0:
        return "-0" if str(f).startswith("-") else "0"
    sign = "-" if f < 0 else ""
    digits, dp = _shortest_digits(f)
    exp = dp - 1
    return sign + (_exponent(digits, dp) if exp < -4 or exp >= 6 else _fixed(digits, dp))


_json_float = json_float  # Go's encoding/json float64 (core/gojson.py: what -o json writes too)


def _number_text(v: int | float, json: bool) -> str:
    n = _as_go_number(v)
    if isinstance(n, int):
        return str(n)
    return _json_float(n) if json else _go_float(n)


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _json_string(s: str) -> str:
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif code < 0x20 or ch in "<>&\u2028\u2029":
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _json_scalar(v: Any) -> str:
    if v is None or v is _INVALID:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _number_text(v, json=True)
    return _json_string(v if isinstance(v, str) else str(v))


def _json(v: Any, indent: str | None = None, level: int = 0) -> str:
    """Go's json.Marshal (indent None) or json.MarshalIndent(v, "", indent). Iterative: an object nested thousands
    of levels deep prints as any other (a recursive printer would hit Python's recursion limit)."""
    out: list[str] = []
    # the work left, last first: a str is written as is, a (value, level) pair is encoded
    todo: list[str | tuple[Any, int]] = [(v, level)]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        value, depth = item
        if isinstance(value, dict) and value:
            keys = sorted(value, key=str)
            inner = "," if indent is None else ",\n" + indent * (depth + 1)
            todo.append("}" if indent is None else "\n" + indent * depth + "}")
            for i in range(len(keys) - 1, -1, -1):
                todo.append((value[keys[i]], depth + 1))
                todo.append(_json_string(str(keys[i])) + (":" if indent is None else ": "))
                if i:
                    todo.append(inner)
            todo.append("{" if indent is None else "{\n" + indent * (depth + 1))
        elif isinstance(value, list | tuple) and value:
            inner = "," if indent is None else ",\n" + indent * (depth + 1)
            todo.append("]" if indent is None else "\n" + indent * depth + "]")
            for i in range(len(value) - 1, -1, -1):
                todo.append((value[i], depth + 1))
                if i:
                    todo.append(inner)
            todo.append("[" if indent is None else "[\n" + indent * (depth + 1))
        elif isinstance(value, dict):
            out.append("{}")
        elif isinstance(value, list | tuple):
            out.append("[]")
        else:
            out.append(_json_scalar(value))
    return "".join(out)


def _sprint_scalar(v: Any) -> str:
    if v is None:
        return "<nil>"
    if v is _INVALID:
        return "<invalid reflect.Value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _number_text(v, json=False)
    return v if isinstance(v, str) else str(v)


def _sprint(v: Any) -> str:
    """Go's fmt.Sprint of an unstructured value. Iterative, as `_json` is."""
    out: list[str] = []
    todo: list[str | tuple[Any]] = [(v,)]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        (value,) = item
        if isinstance(value, dict):
            keys = sorted(value, key=str)
            todo.append("]")
            for i in range(len(keys) - 1, -1, -1):
                todo.append((value[keys[i]],))
                todo.append(f"{keys[i]}:")
                if i:
                    todo.append(" ")
            todo.append("map[")
        elif isinstance(value, list | tuple):
            todo.append("]")
            for i in range(len(value) - 1, -1, -1):
                todo.append((value[i],))
                if i:
                    todo.append(" ")
            todo.append("[")
        else:
            out.append(_sprint_scalar(value))
    return "".join(out)


def _text(v: Any) -> str:
    """One jsonpath result as kubectl prints it in text mode."""
    if v is _INVALID:
        return "<no value>"
    if isinstance(v, dict | list | tuple):
        return _json(v)
    if v is None:
        return "null"
    return _sprint(v)


def _go_type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, _GoInt | _Byte):
        return "int" if isinstance(v, _GoInt) else "uint8"
    if isinstance(v, int | float):
        return "int64" if isinstance(_as_go_number(v), int) else "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, list | tuple):
        return "[]interface {}"
    return "interface {}"


def _go_quote(s: str) -> str:
    """Go's %q of a string."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) < 0x80 or 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte that is not UTF-8 (surrogate-escaped) is \xff
            out.append(f"\\x{ord(ch) & 0xFF:02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _go_bytes(s: str) -> bytes:
    """The bytes of a Go string held as a Python one: a byte that is not UTF-8 is surrogate-escaped (as Python
    decodes argv); any other lone surrogate was U+FFFD to Go's JSON decoder."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) < 0xDC80 or 0xDD00 <= ord(c) <= 0xDFFF else c for c in s).encode(
            "utf-8", "surrogateescape"
        )


def _escape_terminal(s: str) -> str:
    return s.replace("\x1b", "^[").replace("\r", "\\r")
