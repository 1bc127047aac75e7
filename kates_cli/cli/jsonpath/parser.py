"""The JSONPath template parser (client-go's dialect) into a small node tree."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import field
from typing import Any

from ...core.records import record
from .gofmt import _INT64_MAX, _INT64_MIN, _Error, _GoInt


@record
class _List:
    nodes: list[Any] = field(default_factory=list)


@record
class _Text:
    text: str


@record
class _Field:
    name: str


@record
class _Ident:
    name: str


@record
class _Literal:
    value: int | float | bool


@record
class _Array:
    # (known, value, derived) for start, end and step
    params: tuple[tuple[bool, int, bool], tuple[bool, int, bool], tuple[bool, int, bool]]


@record
class _Filter:
    left: _List
    right: _List
    op: str


@record
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
    """Go's %#U of the rune Go decodes: a byte that is not UTF-8 (surrogate-escaped) is utf8.RuneError."""
    if 0xD800 <= ord(r) <= 0xDFFF:
        r = "\ufffd"
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
            # Go decodes the literal rune by rune: a byte that is not UTF-8 (held surrogate-escaped) is U+FFFD here
            out += ("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c).encode()
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
    return out.decode("utf-8", "surrogateescape")  # `\xff` is the byte 0xff, printed as such


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
            cur.nodes.append(_Literal(_GoInt(as_int)))
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
