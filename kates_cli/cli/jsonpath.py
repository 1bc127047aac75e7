"""kubectl's output templates: `-o jsonpath`, `-o jsonpath-as-json`, `-o custom-columns[-file]` and `--sort-by`.

Written from kubectl's documentation and from observing kubectl 1.37 against a live API server; it reproduces
kubectl's dialect (client-go's JSONPath), not RFC 9535. Values are JSON-decoded Python data: dict, list, str, int,
float, bool and None, seen the way kubectl sees an unstructured object (an int outside int64 is a float64).

Invariants:
- A template is parsed once, in `JSONPath.__init__`; a syntax error is a `UsageError` naming the template, raised
  before any object is fetched. Evaluation never mutates the parsed template or the data, so one `JSONPath` renders
  any number of objects identically (kubectl's engine is stateful; this one is not).
- Missing keys yield nothing, as under kubectl's default `--allow-missing-template-keys=true`; every other
  evaluation error (index out of bounds, filtering a non-list, comparing incompatible types, `{end}` outside a
  range, an unknown identifier) is a `UsageError` carrying kubectl's message.
- Text output follows kubectl byte for byte: the results of one `{}` expression are joined by one space; strings
  print raw; null prints `null`; ints in decimal; floats as Go's `%v` (`1e+06`, `1e-05`); maps and lists as Go's
  compact `json.Marshal` (keys sorted, `<>&` escaped, floats as Go's encoder prints them). `-o jsonpath-as-json`
  prints one 4-space-indented JSON array per result group, as kubectl does.
- Where kubectl's output is random (Go map iteration order in `*` and `..` over maps), keys are visited in sorted
  order; everything else is deterministic and matches kubectl.
- `sort_objects` (and `sort_key`, which delegates to it) reproduce kubectl's `--sort-by` exactly, including Go's
  unstable pdqsort and kubectl's comparator: objects missing the field first (Go's insertion sort leaves them in
  reverse order), ints and floats numerically, two quantity strings (`100m`, `1Gi`) by value, other strings
  bytewise; a type kubectl cannot sort is a `UsageError`.
- Custom-column cells are Go's `fmt.Sprint` of each value (maps as `map[k:v]`, lists as `[a b]`), joined by `,`,
  `<none>` when the first expression finds nothing, with ESC and CR escaped as kubectl's terminal escaper does.
- This module imports only the standard library and `kates_cli.errors`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_UP, Context, Decimal, InvalidOperation
from typing import Any

from kates_cli.errors import UsageError

__all__ = [
    "JSONPath",
    "column_cell",
    "parse_custom_columns",
    "parse_custom_columns_file",
    "relaxed_path",
    "sort_key",
    "sort_objects",
]

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


# ---------------------------------------------------------------------------------------------------------------
# Go formatting of JSON values


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


def _json_float(f: float) -> str:
    """Go's encoding/json float64: fixed notation unless abs < 1e-6 or >= 1e21, then `1e-7` / `1e+21`."""
    if f == 0:
        return "-0" if str(f).startswith("-") else "0"
    sign = "-" if f < 0 else ""
    digits, dp = _shortest_digits(f)
    if abs(f) < 1e-6 or abs(f) >= 1e21:
        text = _exponent(digits, dp)
        return sign + re.sub(r"e-0(\d)$", r"e-\1", text)
    return sign + _fixed(digits, dp)


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


def _json(v: Any, indent: str | None = None, level: int = 0) -> str:
    """Go's json.Marshal (indent None) or json.MarshalIndent(v, "", indent)."""
    if v is None or v is _INVALID:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _number_text(v, json=True)
    if isinstance(v, str):
        return _json_string(v)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [(_json_string(str(k)), _json(v[k], indent, level + 1)) for k in sorted(v, key=str)]
        if indent is None:
            return "{" + ",".join(f"{k}:{val}" for k, val in items) + "}"
        inner, outer = "\n" + indent * (level + 1), "\n" + indent * level
        return "{" + ",".join(f"{inner}{k}: {val}" for k, val in items) + outer + "}"
    if isinstance(v, list | tuple):
        if not v:
            return "[]"
        elems = [_json(x, indent, level + 1) for x in v]
        if indent is None:
            return "[" + ",".join(elems) + "]"
        inner, outer = "\n" + indent * (level + 1), "\n" + indent * level
        return "[" + ",".join(inner + e for e in elems) + outer + "]"
    return _json_string(str(v))


def _sprint(v: Any) -> str:
    """Go's fmt.Sprint of an unstructured value."""
    if v is None:
        return "<nil>"
    if v is _INVALID:
        return "<invalid reflect.Value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _number_text(v, json=False)
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_sprint(v[k])}" for k in sorted(v, key=str)) + "]"
    if isinstance(v, list | tuple):
        return "[" + " ".join(_sprint(x) for x in v) + "]"
    return str(v)


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
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _escape_terminal(s: str) -> str:
    return s.replace("\x1b", "^[").replace("\r", "\\r")


# ---------------------------------------------------------------------------------------------------------------
# Parsing (client-go's grammar, including its quirks)


@dataclass
class _List:
    nodes: list[Any] = field(default_factory=list)


@dataclass
class _Text:
    text: str


@dataclass
class _Field:
    name: str


@dataclass
class _Ident:
    name: str


@dataclass
class _Literal:
    value: int | float | bool


@dataclass
class _Array:
    # (known, value, derived) for start, end and step
    params: tuple[tuple[bool, int, bool], tuple[bool, int, bool], tuple[bool, int, bool]]


@dataclass
class _Filter:
    left: _List
    right: _List
    op: str


@dataclass
class _Union:
    lists: list[_List]


class _Wildcard:
    pass


class _Recursive:
    pass


_DICT_KEY = re.compile(r"'([^']*)'")
_SLICE = re.compile(r"(-?[0-9]*)(:-?[0-9]*)?(:-?[0-9]*)?")
_FILTER = re.compile(r"([^!<>=]+)([!<>=]+)(.+?)")
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_TERMINATORS = frozenset(" \t\r\n.,[]$@{}")


def _is_digit(r: str) -> bool:
    return unicodedata.category(r) == "Nd"


def _is_alnum(r: str) -> bool:
    return r == "_" or r.isalpha() or _is_digit(r)


def _is_terminator(r: str | None) -> bool:
    return r is None or r in _TERMINATORS


def _atoi(text: str) -> int | None:
    if not _INT.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _go_rune(r: str) -> str:
    """Go's %#U."""
    return f"U+{ord(r):04X} '{r}'" if r.isprintable() else f"U+{ord(r):04X}"


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _unquote(quoted: str) -> str:
    """client-go's UnquoteExtend: Go's strconv unquoting, for double or single quotes."""
    if len(quoted) < 2 or quoted[0] != quoted[-1] or quoted[0] not in "\"'":
        raise ValueError
    quote, s = quoted[0], quoted[1:-1]
    if "\\" not in s and quote not in s:
        return s
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == quote:
            raise ValueError
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        if i + 1 >= len(s):
            raise ValueError
        e = s[i + 1]
        i += 2
        if e in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[e].encode()
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = s[i : i + width]
            if len(digits) < width or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise ValueError
            i += width
            code = int(digits, 16)
            if e == "x":
                out.append(code)
            elif code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise ValueError
            else:
                out += chr(code).encode()
        elif e in "01234567":
            digits = s[i - 1 : i + 2]
            if len(digits) < 3 or not re.fullmatch(r"[0-7]{3}", digits):
                raise ValueError
            i += 2
            code = int(digits, 8)
            if code > 255:
                raise ValueError
            out.append(code)
        elif e in "'\"":
            if e != quote:
                raise ValueError
            out += e.encode()
        else:
            raise ValueError
    return out.decode("utf-8", "replace")


class _Parser:
    def __init__(self, text: str) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.width = 0
        self.root = _List()

    def parse(self) -> _List:
        while self._scan_text():
            self.pos += 1
            self._consume()
            action = _List()
            self.root.nodes.append(action)
            self._inside_action(action)
        return self.root

    def _next(self) -> str | None:
        if self.pos >= len(self.input):
            self.width = 0
            return None
        self.width = 1
        self.pos += 1
        return self.input[self.pos - 1]

    def _peek(self) -> str | None:
        r = self._next()
        self.pos -= self.width
        return r

    def _backup(self) -> None:
        self.pos -= self.width

    def _consume(self) -> str:
        value = self.input[self.start : self.pos]
        self.start = self.pos
        return value

    def _scan_text(self) -> bool:
        """Collect text up to the next `{`; True if an action starts there."""
        while True:
            if self.input.startswith("{", self.pos):
                if self.pos > self.start:
                    self.root.nodes.append(_Text(self._consume()))
                return True
            if self._next() is None:
                if self.pos > self.start:
                    self.root.nodes.append(_Text(self._consume()))
                return False

    def _inside_action(self, cur: _List) -> None:
        while True:
            if self.input.startswith("}", self.pos):
                self.pos += 1
                self._consume()
                return
            if self.input.startswith("[?(", self.pos):
                self._filter(cur)
                continue
            if self.input.startswith("..", self.pos):
                self._recursive(cur)
                continue
            r = self._next()
            if r is None or r in "\r\n":
                raise _Error("unclosed action")
            if r in " @$":
                self._consume()
            elif r == "[":
                self._array(cur)
            elif r in "\"'":
                self._quote(cur, r)
            elif r == ".":
                self._field(cur)
            elif r in "+-" or _is_digit(r):
                self._backup()
                self._number(cur)
            elif _is_alnum(r):
                self._backup()
                self._identifier(cur)
            else:
                raise _Error(f"unrecognized character in action: {_go_rune(r)}")

    def _identifier(self, cur: _List) -> None:
        while not _is_terminator(self._next()):
            pass
        self._backup()
        value = self._consume()
        cur.nodes.append(_Literal(value == "true") if value in ("true", "false") else _Ident(value))

    def _recursive(self, cur: _List) -> None:
        if cur.nodes and isinstance(cur.nodes[-1], _Recursive):
            raise _Error("invalid multiple recursive descent")
        self.pos += 2
        self._consume()
        cur.nodes.append(_Recursive())
        r = self._peek()
        if r is not None and _is_alnum(r):
            self._field(cur)

    def _number(self, cur: _List) -> None:
        if self._peek() in ("+", "-"):
            self._next()
        while True:
            r = self._next()
            if r is None or (r != "." and not _is_digit(r)):
                self._backup()
                break
        value = self._consume()
        as_int = _atoi(value)
        if as_int is not None:
            cur.nodes.append(_Literal(as_int))
        elif _FLOAT.fullmatch(value) and float(value) not in (float("inf"), float("-inf")):
            cur.nodes.append(_Literal(float(value)))
        else:
            raise _Error(f"cannot parse number {value}")

    def _array(self, cur: _List) -> None:
        while True:
            r = self._next()
            if r is None or r == "\n":
                raise _Error("unterminated array")
            if r == "]":
                break
        text = self._consume()[1:-1]
        if text == "*":
            text = ":"
        parts = text.split(",")
        if len(parts) > 1:
            cur.nodes.append(_Union([_parse_action(f"[{part.strip(' ')}]") for part in parts]))
            return
        key = _DICT_KEY.fullmatch(text)
        if key:
            cur.nodes.extend(_parse_action("." + key.group(1)).nodes)
            return
        match = _SLICE.fullmatch(text)
        if not match:
            raise _Error(f"invalid array index {text}")
        params: list[tuple[bool, int, bool]] = []
        for i, group in enumerate(match.groups()):
            value = group or ""
            if value:
                if i > 0:
                    value = value[1:]
                if i > 0 and not value:
                    params.append((False, 0, False))
                    continue
                number = _atoi(value)
                if number is None:
                    raise _Error(f"array index {value} is not a number")
                params.append((True, number, False))
            elif i == 1:
                params.append((True, params[0][1] + 1, True))
            else:
                params.append((False, 0, False))
        cur.nodes.append(_Array((params[0], params[1], params[2])))

    def _filter(self, cur: _List) -> None:
        self.pos += 3
        self._consume()
        begin = end = False
        pair = ""
        while True:
            r = self._next()
            if r is None or r == "\n":
                raise _Error("unterminated filter")
            if r in "\"'":
                if not begin:
                    begin, pair = True, r
                    continue
                if self.input[self.pos - 2] != "\\" and r == pair:
                    end = True
            elif r == ")" and begin == end:
                break
        if self._next() != "]":
            raise _Error("unclosed array expect ]")
        text = self._consume()[:-2]
        match = _FILTER.fullmatch(text)
        if match is None:
            cur.nodes.append(_Filter(_parse_action(text), _List(), "exists"))
        else:
            left, op, right = match.groups()
            cur.nodes.append(_Filter(_parse_action(left), _parse_action(right), op))

    def _quote(self, cur: _List, end: str) -> None:
        while True:
            r = self._next()
            if r is None or r == "\n":
                raise _Error("unterminated quoted string")
            if r == end and self.input[self.pos - 2] != "\\":
                break
        value = self._consume()
        try:
            cur.nodes.append(_Text(_unquote(value)))
        except ValueError:
            raise _Error(f"unquote string {value} error invalid syntax") from None

    def _field(self, cur: _List) -> None:
        self._consume()
        while True:
            r = self._next()
            if r == "\\":
                self._next()
            elif _is_terminator(r):
                self._backup()
                break
        value = self._consume()
        cur.nodes.append(_Wildcard() if value == "*" else _Field(value.replace("\\", "")))


def _parse(text: str) -> list[Any]:
    return _Parser(text).parse().nodes


def _parse_action(text: str) -> _List:
    first = _parse("{" + text + "}")[0]
    assert isinstance(first, _List)
    return first


# ---------------------------------------------------------------------------------------------------------------
# Evaluation


def _children(v: Any) -> list[Any]:
    if isinstance(v, dict):
        return [v[k] for k in sorted(v, key=str)]
    if isinstance(v, list | tuple):
        return list(v)
    if isinstance(v, str):
        return list(v.encode("utf-8", "surrogatepass"))
    return []


def _basic_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "int" if isinstance(_as_go_number(v), int) else "float"
    if isinstance(v, str):
        return "string"
    raise _Error("invalid type for comparison")


def _equal(a: Any, b: Any) -> bool:
    ka, kb = _basic_kind(a), _basic_kind(b)
    if ka != kb:
        raise _Error("incompatible types for comparison")
    return bool(a == b)


def _less(a: Any, b: Any) -> bool:
    ka, kb = _basic_kind(a), _basic_kind(b)
    if ka != kb:
        raise _Error("incompatible types for comparison")
    if ka == "bool":
        raise _Error("invalid type for comparison")
    return bool(a < b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "<":
        return _less(a, b)
    if op == ">":
        return not (_less(a, b) or _equal(a, b))
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op == "<=":
        return _less(a, b) or _equal(a, b)
    if op == ">=":
        return not _less(a, b)
    raise _Error(f"unrecognized filter operator {op}")


_Group = tuple[bool, list[Any]]  # (from text outside braces, values)


class _Evaluator:
    """One evaluation of a template (client-go's FindResults), with its range bookkeeping."""

    def __init__(self, allow_missing_keys: bool) -> None:
        self.allow_missing = allow_missing_keys
        self.begin_range = 0
        self.in_range = 0
        self.end_range = 0
        self.last_end: Any = None

    def find(self, nodes: list[Any], data: Any) -> list[_Group]:
        cur = [_INVALID if data is None else data]
        groups: list[_Group] = []
        i = 0
        while i < len(nodes):
            node = nodes[i]
            results = self.walk(cur, node)
            if 0 < self.end_range <= self.in_range:
                self.end_range -= 1
                self.last_end = node
                break
            if self.begin_range > 0:
                self.begin_range -= 1
                self.in_range += 1
                body = nodes[i + 1 :]
                if results:
                    for value in results:
                        groups.extend(self.find(body, value))
                else:
                    self.find(body, None)  # still walks to the matching {end}
                self.in_range -= 1
                for k in range(i + 1, len(nodes)):
                    if nodes[k] is self.last_end:
                        i = k
                        break
                i += 1
                continue
            groups.append((isinstance(node, _Text), results))
            i += 1
        return groups

    def walk(self, values: list[Any], node: Any) -> list[Any]:
        if isinstance(node, _List):
            for child in node.nodes:
                values = self.walk(values, child)
            return values
        if isinstance(node, _Text):
            return [node.text]
        if isinstance(node, _Field):
            return self._field(values, node.name)
        if isinstance(node, _Array):
            return self._array(values, node)
        if isinstance(node, _Filter):
            return self._filter(values, node)
        if isinstance(node, _Literal):
            return [node.value for _ in values]
        if isinstance(node, _Wildcard):
            return [child for v in values for child in _children(v)]
        if isinstance(node, _Recursive):
            return self._recursive(values)
        if isinstance(node, _Union):
            out: list[Any] = []
            for lst in node.lists:
                try:
                    out.extend(self.walk(values, lst))
                except _Error as e:
                    raise _Error(e.message, values) from None
            return out
        assert isinstance(node, _Ident)
        return self._identifier(values, node.name)

    def _identifier(self, values: list[Any], name: str) -> list[Any]:
        if name == "range":
            self.begin_range += 1
            return values
        if name == "end":
            if self.in_range > 0:
                self.end_range += 1
                return []
            raise _Error("not in range, nothing to end")
        raise _Error(f"unrecognized identifier {name}", values)

    def _field(self, values: list[Any], name: str) -> list[Any]:
        if not values:
            return []
        out = [v[name] for v in values if isinstance(v, dict) and name in v]
        if not out and not self.allow_missing:
            raise _Error(f"{name} is not found")
        return out

    def _array(self, values: list[Any], node: _Array) -> list[Any]:
        out: list[Any] = []
        (known0, start, _), (known1, stop, derived1), (known2, step, _) = node.params
        for v in values:
            if v is None or v is _INVALID:
                continue
            if not isinstance(v, list | tuple):
                raise _Error(f"{_go_type(v)} is not array or slice", values)
            n = len(v)
            lo = start if known0 else 0
            if lo < 0:
                lo += n
            hi = stop if known1 else n
            if hi < 0 or (hi == 0 and derived1):
                hi += n
            if hi == lo:
                return out  # client-go stops at the first empty selection
            if lo >= n or lo < 0:
                raise _Error(f"array index out of bounds: index {lo}, length {n}", values)
            if hi > n or hi < 0:
                raise _Error(f"array index out of bounds: index {hi - 1}, length {n}", values)
            if lo > hi:
                raise _Error(f"starting index {lo} is greater than ending index {hi}", values)
            if known2 and step <= 0:
                raise _Error("step must be > 0", values)
            out.extend(v[lo : hi : step if known2 else 1])
        return out

    def _recursive(self, values: list[Any]) -> list[Any]:
        out: list[Any] = []
        for v in values:
            if v is None or v is _INVALID:
                continue
            children = _children(v)
            if children:
                out.append(v)
                out.extend(self._recursive(children))
        return out

    def _filter(self, values: list[Any], node: _Filter) -> list[Any]:
        out: list[Any] = []
        for v in values:
            if not isinstance(v, list | tuple):
                raise _Error(f"{_sprint(v)} is not array or slice and cannot be filtered", values)
            for item in v:
                error: _Error | None = None
                try:
                    lefts = self.walk([item], node.left)
                except _Error as e:
                    lefts, error = e.partial, e
                if node.op == "exists":
                    if lefts:
                        out.append(item)
                    continue
                if error is not None:
                    raise _Error(error.message, values)
                if not lefts:
                    continue
                if len(lefts) > 1:
                    raise _Error("can only compare one element at a time", values)
                try:
                    rights = self.walk([item], node.right)
                except _Error as e:
                    raise _Error(e.message, values) from None
                if not rights:
                    continue
                if len(rights) > 1:
                    raise _Error("can only compare one element at a time", values)
                left = None if lefts[0] is _INVALID else lefts[0]
                right = None if rights[0] is _INVALID else rights[0]
                try:
                    passed = _compare(node.op, left, right)
                except _Error as e:
                    raise _Error(e.message, out) from None
                if passed:
                    out.append(item)
        return out


# ---------------------------------------------------------------------------------------------------------------
# Public API


class JSONPath:
    """A parsed kubectl JSONPath template."""

    template: str

    def __init__(self, template: str, *, allow_missing_keys: bool = True) -> None:
        if not template:
            raise UsageError("template format specified but no template given")
        self.template = template
        self.allow_missing_keys = allow_missing_keys
        try:
            self._nodes = _parse(template)
        except _Error as e:
            raise UsageError(f"error parsing jsonpath {template}, {e.message}") from None

    @classmethod
    def _compile(cls, template: str) -> JSONPath:
        """A template as custom columns and --sort-by build it: may be empty, errors are kubectl's bare message."""
        path = cls.__new__(cls)
        path.template = template
        path.allow_missing_keys = True
        try:
            path._nodes = _parse(template)
        except _Error as e:
            raise UsageError(e.message, hint=f"in the JSONPath expression {template}") from None
        return path

    def __repr__(self) -> str:
        return f"JSONPath({self.template!r})"

    def _groups(self, data: Any) -> list[_Group]:
        return _Evaluator(self.allow_missing_keys).find(self._nodes, data)

    def _run(self, data: Any) -> list[_Group]:
        try:
            return self._groups(data)
        except _Error as e:
            raise UsageError(
                f"error executing jsonpath {_go_quote(self.template)}: Error executing template: {e.message}",
                hint=f"template was: {self.template}",
            ) from None

    def render(self, data: Any) -> str:
        """kubectl's `-o jsonpath=TEMPLATE` output for one object (a list is one object with `items`)."""
        return "".join(" ".join(_text(v) for v in values) for _, values in self._run(data))

    def render_json(self, data: Any) -> str:
        """kubectl's exact `-o jsonpath-as-json=TEMPLATE` output: one indented JSON array (and a newline) per result
        group; text outside braces and `{"..."}` literals are groups of their own."""
        return "".join(_json(values, "    ") + "\n" for _, values in self._run(data))

    def find(self, data: Any) -> list[Any]:
        """The values of all `{}` expressions, flattened (text outside braces excluded). For a template with one
        expression, kubectl's `-o jsonpath-as-json` is this list printed as one array; `render_json` is exact."""
        return [None if v is _INVALID else v for is_text, values in self._run(data) if not is_text for v in values]


_RELAXED = re.compile(r"\{\.?([^{}]+)\}|\.?([^{}]+)")


def relaxed_path(expression: str) -> str:
    """kubectl's RelaxedJSONPathExpression: `a.b`, `.a.b`, `{a.b}` and `{.a.b}` all become `{.a.b}`."""
    if not expression:
        return expression
    match = _RELAXED.fullmatch(expression)
    if match is None:
        raise UsageError(
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'"
        )
    return "{." + (match.group(1) or match.group(2)) + "}"


def parse_custom_columns(spec: str) -> list[tuple[str, JSONPath]]:
    """`-o custom-columns=NAME:.metadata.name,RV:{.metadata.resourceVersion}` -> [(header, path)]."""
    if not spec:
        raise UsageError("custom-columns format specified but no custom columns given")
    columns: list[tuple[str, JSONPath]] = []
    for part in spec.split(","):
        header, sep, expression = part.partition(":")
        if not sep:
            raise UsageError(f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        columns.append((header, JSONPath._compile(relaxed_path(expression))))
    return columns


_GO_SPACE = "[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
_TEMPLATE_FORMAT = "Expected format is one line of space separated headers, one line of space separated column specs."


def parse_custom_columns_file(path: str) -> list[tuple[str, JSONPath]]:
    """`-o custom-columns-file=PATH`: a line of headers and a line of JSONPath expressions, whitespace-separated;
    further lines are ignored."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        reason = (e.strerror or str(e)).lower()
        raise UsageError(f"error reading template {path}, open {path}: {reason}") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if text.endswith("\n"):
        lines.pop()
    if not text:
        lines = []
    if not lines:
        raise UsageError(f"invalid template, missing header line. {_TEMPLATE_FORMAT}")
    if len(lines) < 2:
        raise UsageError(f"invalid template, missing spec line. {_TEMPLATE_FORMAT}")
    headers = [w for w in re.split(_GO_SPACE, lines[0]) if w]
    specs = [w for w in re.split(_GO_SPACE, lines[1]) if w]
    if len(headers) != len(specs):
        raise UsageError(f"number of headers ({len(headers)}) and field specifications ({len(specs)}) don't match")
    return [(header, JSONPath._compile(relaxed_path(spec))) for header, spec in zip(headers, specs, strict=True)]


def column_cell(path: JSONPath, obj: Any) -> str:
    """One custom-columns cell, as kubectl prints it (before its tabwriter aligns the row)."""
    try:
        groups = path._groups(obj)
    except _Error as e:
        raise UsageError(e.message, hint=f"in the custom column {path.template}") from None
    cells = ["<none>"] if not groups or not groups[0][1] else []
    cells.extend(_escape_terminal(_sprint(v)) for _, values in groups for v in values)
    return ",".join(cells)


# ---------------------------------------------------------------------------------------------------------------
# --sort-by

_QUANTITY_CONTEXT = Context(prec=4000, Emax=10**15, Emin=-(10**15))
_BINARY_SI = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SI = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_NANO = Decimal("1e-9")


@functools.lru_cache(maxsize=4096)
def _quantity(s: str) -> Decimal | None:
    """The value of a Kubernetes resource quantity (`100m`, `1.5Gi`, `1e3`), or None if `s` is not one."""
    if not s:
        return None
    pos, end = 0, len(s)
    negative = s[0] == "-"
    if s[0] in "+-":
        pos = 1
    while pos < end and s[pos] == "0":
        pos += 1
    number_start = pos
    while pos < end and s[pos] in "0123456789":
        pos += 1
    number = s[number_start:pos] or "0"
    fraction = ""
    if pos < end and s[pos] == ".":
        pos += 1
        fraction_start = pos
        while pos < end and s[pos] in "0123456789":
            pos += 1
        fraction = s[fraction_start:pos]
    suffix_start = pos
    while pos < end and s[pos] in "eEinumkKMGTP":
        pos += 1
    if pos < end:
        if s[pos] in "+-":
            pos += 1
        while pos < end and s[pos] in "0123456789":
            pos += 1
        if pos < end:
            return None
    suffix = s[suffix_start:]
    binary = suffix in _BINARY_SI
    if binary:
        scale = Decimal(2 ** _BINARY_SI[suffix])
    elif suffix in _DECIMAL_SI:
        scale = Decimal(10) ** _DECIMAL_SI[suffix]
    elif len(suffix) > 1 and suffix[0] in "eE" and _INT.fullmatch(suffix[1:]) and abs(int(suffix[1:])) < 2**31:
        scale = Decimal(1).scaleb(int(suffix[1:]), _QUANTITY_CONTEXT)
    else:
        return None
    try:
        value = _QUANTITY_CONTEXT.multiply(Decimal(f"{number}.{fraction}0"), scale)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -9:
            value = value.quantize(_NANO, rounding=ROUND_UP, context=_QUANTITY_CONTEXT)
    except InvalidOperation:
        return None
    if binary and value > _INT64_MAX:
        value = Decimal(_INT64_MAX)
    return -value if negative else value


def _sort_less(a: Any, b: Any, template: str) -> bool:
    """kubectl's isLess over two present sort values (JSON null sorts first)."""
    if a is None or b is None:
        return a is None and b is not None
    if isinstance(a, str):
        if isinstance(b, str):
            qa = _quantity(a)
            qb = _quantity(b) if qa is not None else None
            if qa is not None and qb is not None:
                return qa < qb
            return a < b
        err = "unsortable interface: interface"
    elif isinstance(a, int | float) and not isinstance(a, bool):
        if isinstance(b, int | float) and not isinstance(b, bool) and _basic_kind(a) == _basic_kind(b):
            return bool(a < b)
        err = "unsortable interface: interface"
    else:
        err = f"unsortable type: {_go_type(a)}"
    raise UsageError(f"Field {template} in *unstructured.Unstructured is an unsortable type: interface, err: {err}")


class _GoSort:
    """Go's sort.Sort (pattern-defeating quicksort, insertion sort up to 12 elements) over a list, so that ties and
    kubectl's inconsistent comparator for missing fields land exactly where kubectl puts them."""

    def __init__(self, data: list[Any], less: Callable[[Any, Any], bool]) -> None:
        self.d = data
        self.lt = less
        self.swaps = 0

    def less(self, i: int, j: int) -> bool:
        return self.lt(self.d[i], self.d[j])

    def swap(self, i: int, j: int) -> None:
        self.d[i], self.d[j] = self.d[j], self.d[i]

    def sort(self) -> None:
        n = len(self.d)
        if n > 1:
            self.pdqsort(0, n, n.bit_length())

    def insertion_sort(self, a: int, b: int) -> None:
        for i in range(a + 1, b):
            j = i
            while j > a and self.less(j, j - 1):
                self.swap(j, j - 1)
                j -= 1

    def sift_down(self, lo: int, hi: int, first: int) -> None:
        root = lo
        while True:
            child = 2 * root + 1
            if child >= hi:
                return
            if child + 1 < hi and self.less(first + child, first + child + 1):
                child += 1
            if not self.less(first + root, first + child):
                return
            self.swap(first + root, first + child)
            root = child

    def heap_sort(self, a: int, b: int) -> None:
        hi = b - a
        for i in range((hi - 1) // 2, -1, -1):
            self.sift_down(i, hi, a)
        for i in range(hi - 1, -1, -1):
            self.swap(a, a + i)
            self.sift_down(0, i, a)

    def pdqsort(self, a: int, b: int, limit: int) -> None:
        was_balanced = was_partitioned = True
        while True:
            length = b - a
            if length <= 12:
                self.insertion_sort(a, b)
                return
            if limit == 0:
                self.heap_sort(a, b)
                return
            if not was_balanced:
                self.break_patterns(a, b)
                limit -= 1
            pivot, hint = self.choose_pivot(a, b)
            if hint == "decreasing":
                self.reverse_range(a, b)
                pivot = (b - 1) - (pivot - a)
                hint = "increasing"
            if was_balanced and was_partitioned and hint == "increasing" and self.partial_insertion_sort(a, b):
                return
            if a > 0 and not self.less(a - 1, pivot):
                a = self.partition_equal(a, b, pivot)
                continue
            mid, was_partitioned = self.partition(a, b, pivot)
            left, right = mid - a, b - mid
            threshold = length // 8
            if left < right:
                was_balanced = left >= threshold
                self.pdqsort(a, mid, limit)
                a = mid + 1
            else:
                was_balanced = right >= threshold
                self.pdqsort(mid + 1, b, limit)
                b = mid

    def partition(self, a: int, b: int, pivot: int) -> tuple[int, bool]:
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while i <= j and self.less(i, a):
            i += 1
        while i <= j and not self.less(j, a):
            j -= 1
        if i > j:
            self.swap(j, a)
            return j, True
        self.swap(i, j)
        i, j = i + 1, j - 1
        while True:
            while i <= j and self.less(i, a):
                i += 1
            while i <= j and not self.less(j, a):
                j -= 1
            if i > j:
                break
            self.swap(i, j)
            i, j = i + 1, j - 1
        self.swap(j, a)
        return j, False

    def partition_equal(self, a: int, b: int, pivot: int) -> int:
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while True:
            while i <= j and not self.less(a, i):
                i += 1
            while i <= j and self.less(a, j):
                j -= 1
            if i > j:
                return i
            self.swap(i, j)
            i, j = i + 1, j - 1

    def partial_insertion_sort(self, a: int, b: int) -> bool:
        i = a + 1
        for _ in range(5):
            while i < b and not self.less(i, i - 1):
                i += 1
            if i == b:
                return True
            if b - a < 50:
                return False
            self.swap(i, i - 1)
            if i - a >= 2:
                for j in range(i - 1, 0, -1):
                    if not self.less(j, j - 1):
                        break
                    self.swap(j, j - 1)
            if b - i >= 2:
                for j in range(i + 1, b):
                    if not self.less(j, j - 1):
                        break
                    self.swap(j, j - 1)
        return False

    def break_patterns(self, a: int, b: int) -> None:
        length = b - a
        if length < 8:
            return
        state = length
        modulus = 1 << length.bit_length()
        mask = 2**64 - 1
        for idx in range(a + (length // 4) * 2 - 1, a + (length // 4) * 2 + 2):
            state ^= (state << 13) & mask
            state ^= state >> 7
            state ^= (state << 17) & mask
            other = state & (modulus - 1)
            if other >= length:
                other -= length
            self.swap(idx, a + other)

    def choose_pivot(self, a: int, b: int) -> tuple[int, str]:
        length = b - a
        self.swaps = 0
        i, j, k = a + length // 4, a + length // 4 * 2, a + length // 4 * 3
        if length >= 8:
            if length >= 50:
                i = self.median(i - 1, i, i + 1)
                j = self.median(j - 1, j, j + 1)
                k = self.median(k - 1, k, k + 1)
            j = self.median(i, j, k)
        if self.swaps == 0:
            return j, "increasing"
        if self.swaps == 12:
            return j, "decreasing"
        return j, "unknown"

    def order2(self, a: int, b: int) -> tuple[int, int]:
        if self.less(b, a):
            self.swaps += 1
            return b, a
        return a, b

    def median(self, a: int, b: int, c: int) -> int:
        a, b = self.order2(a, b)
        b, c = self.order2(b, c)
        a, b = self.order2(a, b)
        return b

    def reverse_range(self, a: int, b: int) -> None:
        i, j = a, b - 1
        while i < j:
            self.swap(i, j)
            i, j = i + 1, j - 1


@dataclass
class _Entry:
    obj: Any
    found: bool
    value: Any
    rank: int = 0


def _sort_path(path: str) -> JSONPath | None:
    field_ = relaxed_path(path)
    return JSONPath._compile(field_) if field_ else None


def _entry(jp: JSONPath, obj: Any) -> _Entry:
    try:
        groups = jp._groups(obj)
    except _Error as e:
        raise UsageError(e.message, hint=f"while sorting by {jp.template}") from None
    if not groups or not groups[0][1]:
        return _Entry(obj, False, None)
    value = groups[0][1][0]
    return _Entry(obj, True, None if value is _INVALID else value)


def _go_sort_entries(entries: list[_Entry], template: str) -> None:
    if len(entries) < 2:
        return
    if not any(e.found for e in entries):
        raise UsageError(f"couldn't find any field with path {_go_quote(template)} in the list of objects")

    def less(x: _Entry, y: _Entry) -> bool:
        if not x.found:
            return True  # kubectl's comparator: a missing field sorts first, even before another missing one
        if not y.found:
            return False
        return _sort_less(x.value, y.value, template)

    _GoSort(entries, less).sort()


def sort_objects(objs: Iterable[Any], path: str) -> list[Any]:
    """kubectl's `--sort-by=PATH` over a list of objects, reproducing its order exactly (Go's unstable sort)."""
    items = list(objs)
    jp = _sort_path(path)
    if jp is None or len(items) < 2:
        return items
    entries = [_entry(jp, obj) for obj in items]
    _go_sort_entries(entries, jp.template)
    return [e.obj for e in entries]


class _Batch:
    """The keys made for one `sorted()` call: ranked together, by kubectl's sort, on the first comparison."""

    def __init__(self, jp: JSONPath) -> None:
        self.jp = jp
        self.entries: list[_Entry] = []
        self.ranked = False

    def rank(self) -> None:
        if not self.ranked:
            order = list(self.entries)
            _go_sort_entries(order, self.jp.template)
            for i, entry in enumerate(order):
                entry.rank = i
            self.ranked = True


class _SortKey:
    __slots__ = ("batch", "entry")

    def __init__(self, batch: _Batch, entry: _Entry) -> None:
        self.batch = batch
        self.entry = entry

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, _SortKey):
            return NotImplemented
        if other.batch is self.batch:
            self.batch.rank()
            return self.entry.rank < other.entry.rank
        if not self.entry.found or not other.entry.found:
            return not self.entry.found and other.entry.found
        return _sort_less(self.entry.value, other.entry.value, self.batch.jp.template)


class _SortKeyFunction:
    def __init__(self, jp: JSONPath) -> None:
        self.jp = jp
        self._batch: Callable[[], _Batch | None] = lambda: None

    def __call__(self, obj: Any) -> _SortKey:
        batch = self._batch()
        if batch is None or batch.ranked:
            batch = _Batch(self.jp)
            self._batch = weakref.ref(batch)
        entry = _entry(self.jp, obj)
        batch.entries.append(entry)
        return _SortKey(batch, entry)


def sort_key(path: str) -> Callable[[Any], Any]:
    """A key function for `sorted(objs, key=sort_key(path))` that orders objects exactly as kubectl's
    `--sort-by=PATH` (a relaxed path: `.a.b`, `a.b`, `{.a.b}`). The keys made for one `sorted()` call are ranked
    together by kubectl's own algorithm (see `sort_objects`), so ties and missing fields land where kubectl puts them.
    An empty path keeps the input order (kubectl does not sort)."""
    jp = _sort_path(path)
    if jp is None:
        return lambda obj: 0
    return _SortKeyFunction(jp)
