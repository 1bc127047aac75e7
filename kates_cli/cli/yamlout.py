"""kubectl's `-o yaml` bytes, from plain JSON values, without a YAML library.

kubectl prints YAML through sigs.k8s.io/yaml: the object goes to JSON (numbers as Go's int64/float64), is parsed
back by go-yaml v2 and emitted by go-yaml v2's port of libyaml (go.yaml.in/yaml/v2 v2.4.4: encode.go, resolve.go,
sorter.go, emitterc.go). This module reproduces that pipeline's output for JSON values.

Invariants:
- Pure: values in, text out; no I/O, no client. Iterative, so nesting depth is bounded by memory, not recursion.
- A string is written plain only when go-yaml's resolver would read the plain text back as that same string
  (YAML 1.1: `y`, `on`, `~`, `0o17`, `1_000`, `.5`, `2001-12-14`, `1:20` and the like are quoted), so every
  YAML 1.1 or 1.2 reader gets the original values back.
- Style choice follows libyaml's analysis: plain, else single quotes, else double quotes with escapes; strings
  holding a line feed are literal blocks (`|`, `|-`, `|+`, `|2`) when libyaml allows one. Plain and quoted values
  fold at spaces past column 80, as go-yaml v2's default width does.
- Keys are ordered by go-yaml's key order (letters after other characters, digit runs compared as numbers), not
  by code point. Keys longer than 128 bytes or holding a line break are written as `? key` / `: value`.
- Two documented departures, where kubectl's own round trip through JSON text loses: kubectl's JSON holds DEL,
  C1 controls, U+FFFE and U+FFFF raw, which go-yaml's reader refuses ("control characters are not allowed"), and
  NEL (U+0085) raw, which it reads as a line break (printing a space, or splitting the line). Here they come out
  escaped ("\\x7F", "\\N", ...), as go-yaml's emitter escapes them, and read back unchanged. And a key `<<`
  is quoted: kubectl writes it plain, which go-yaml (kubectl's reader too) takes for a merge key and refuses.
"""

from __future__ import annotations

import re
from typing import Any

from .yamlresolve import RESOLVED, number_text, plain_is_string, sorted_keys

_WIDTH = 80  # go-yaml v2's best_width
_SIMPLE_KEY_BYTES = 128

# -- scalar analysis and writers (emitterc.go) ----------------------------------------------------------------------

_BREAKS = "\r\n\x85\u2028\u2029"
_SAFE_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./=+@-]*\Z")
_NON_PRINTABLE = re.compile("[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]")
_ESCAPES = {
    "\x00": "\\0",
    "\x07": "\\a",
    "\x08": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\x0b": "\\v",
    "\x0c": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    '"': '\\"',
    "\\": "\\\\",
    "\x85": "\\N",
    "\xa0": "\\_",
    "\u2028": "\\L",
    "\u2029": "\\P",
}

PLAIN, SINGLE, DOUBLE, LITERAL = range(4)


def _analyze(s: str) -> tuple[bool, bool, bool, bool]:
    """yaml_emitter_analyze_scalar for a non-empty value: (multiline, block_plain_allowed,
    single_quoted_allowed, block_allowed)."""
    block_indicators = s.startswith(("---", "..."))
    n = len(s)
    c = s[0]
    after = s[1] if n > 1 else " "
    if c in "#,[]{}&*!|>'\"%@`":
        block_indicators = True
    elif c in "?:-" and after in " \t":
        block_indicators = True
    if not block_indicators and (": " in s or ":\t" in s or s[-1] == ":" or " #" in s or "\t#" in s):
        block_indicators = True
    special = _NON_PRINTABLE.search(s) is not None
    line_breaks = any(b in s for b in _BREAKS)
    leading = c == " " or c in _BREAKS
    trailing_space = s[-1] == " "
    trailing = trailing_space or s[-1] in _BREAKS
    break_space = space_break = False
    if line_breaks:
        for i in range(n - 1):
            x, y = s[i], s[i + 1]
            if x in _BREAKS and y == " ":
                break_space = True
            elif x == " " and y in _BREAKS:
                space_break = True
    plain = not (leading or trailing or break_space or space_break or special or line_breaks or block_indicators)
    single = not (break_space or space_break or special)
    block = not (trailing_space or space_break or special)
    return line_breaks, plain, single, block


def _style(s: str, simple_key: bool) -> int:
    """encoder.stringv's request, then yaml_emitter_select_scalar_style."""
    if not s:
        return DOUBLE  # "" reads back as null
    if "\n" in s:
        style = LITERAL
    elif plain_is_string(s):
        style = PLAIN
    else:
        style = DOUBLE
    multiline, plain_ok, single_ok, block_ok = _analyze(s)
    if simple_key and multiline:
        return DOUBLE
    if style == PLAIN and not plain_ok:
        style = SINGLE
    if style == SINGLE and not single_ok:
        style = DOUBLE
    if style == LITERAL and (not block_ok or simple_key):
        style = DOUBLE
    return style


def _write_plain(s: str, allow_breaks: bool, indent: int, col: int) -> str:
    if not allow_breaks or " " not in s or col + len(s) <= _WIDTH + 1:
        return s
    out = []
    spaces = False
    for i, c in enumerate(s):
        if c == " ":
            if not spaces and col > _WIDTH and s[i + 1] != " ":
                out.append("\n" + " " * indent)
                col = indent
            else:
                out.append(c)
                col += 1
            spaces = True
        else:
            out.append(c)
            col += 1
            spaces = False
    return "".join(out)


def _write_single(s: str, allow_breaks: bool, indent: int, col: int) -> str:
    out = ["'"]
    col += 1
    spaces = breaks = False
    last = len(s) - 1
    for i, c in enumerate(s):
        if c == " ":
            if allow_breaks and not spaces and col > _WIDTH and 0 < i < last and s[i + 1] != " ":
                out.append("\n" + " " * indent)
                col = indent
            else:
                out.append(c)
                col += 1
            spaces = True
        elif c in _BREAKS:  # only LS and PS get here: the others are not printable
            out.append(c)
            col = 0
            breaks = True
        else:
            if breaks:
                out.append(" " * indent)
                col = indent
            if c == "'":
                out.append("'")
                col += 1
            out.append(c)
            col += 1
            spaces = breaks = False
    out.append("'")
    return "".join(out)


def _escape(c: str) -> str:
    known = _ESCAPES.get(c)
    if known is not None:
        return known
    v = ord(c)
    if v <= 0xFF:
        return f"\\x{v:02X}"
    if v <= 0xFFFF:
        return f"\\u{v:04X}"
    return f"\\U{v:08X}"


def _write_double(s: str, allow_breaks: bool, indent: int, col: int) -> str:
    bom = s[:1] == "\ufeff"  # libyaml's is_bom looks at the value's start: every character is then escaped
    out = ['"']
    col += 1
    spaces = False
    last = len(s) - 1
    for i, c in enumerate(s):
        if bom or c in '"\\' or c in _BREAKS or _NON_PRINTABLE.match(c):
            e = _escape(c)
            out.append(e)
            col += len(e)
            spaces = False
        elif c == " ":
            if allow_breaks and not spaces and col > _WIDTH and 0 < i < last:
                out.append("\n" + " " * indent)
                col = indent
                if s[i + 1] == " ":
                    out.append("\\")
                    col += 1
            else:
                out.append(c)
                col += 1
            spaces = True
        else:
            out.append(c)
            col += 1
            spaces = False
    out.append('"')
    return "".join(out)


def _write_literal(s: str, indent: int) -> tuple[str, bool]:
    """A literal block; the flag tells whether it ended on a line break (the next line then needs no break)."""
    head = "|"
    if s[0] == " " or s[0] in _BREAKS:
        head += "2"  # indentation indicator: best_indent
    last = s[-1]
    if last not in _BREAKS:
        head += "-"
    elif len(s) == 1 or s[-2] in _BREAKS:
        head += "+"
    out = [head, "\n"]
    pad = " " * indent
    breaks = True
    for c in s:
        if c in _BREAKS:
            out.append(c)
            breaks = True
        else:
            if breaks:
                out.append(pad)
            out.append(c)
            breaks = False
    return "".join(out), breaks


def _string_text(s: str, simple_key: bool, indent: int, col: int, allow_breaks: bool = True) -> tuple[str, int, bool]:
    """A string as go-yaml writes it from column `col` (after its separating space), continuation lines at
    `indent`: (text, style, ended at the start of a line). Simple keys, and `allow_breaks=False`, never fold."""
    try:
        s.encode()
    except UnicodeEncodeError:  # a lone surrogate: Go's JSON decoder made it U+FFFD
        s = re.sub("[\ud800-\udfff]", "\ufffd", s)
    style = _style(s, simple_key)
    allow = allow_breaks and not simple_key
    if style == PLAIN:
        return _write_plain(s, allow, indent, col), style, False
    if style == SINGLE:
        return _write_single(s, allow, indent, col), style, False
    if style == DOUBLE:
        return _write_double(s, allow, indent, col), style, False
    text, bol = _write_literal(s, indent)
    return text, style, bol


def scalar_text(value: Any, simple_key: bool, indent: int, col: int) -> tuple[str, bool]:
    """One scalar as go-yaml writes it from column `col` (after its separating space), continuation lines at
    `indent`. Returns the text and whether it ended at the start of a line."""
    if isinstance(value, str):
        if _SAFE_PLAIN.match(value) and value not in RESOLVED:
            return value, False
        text, _, bol = _string_text(value, simple_key, indent, col)
        return text, bol
    if value is None:
        return "null", False
    if value is True:
        return "true", False
    if value is False:
        return "false", False
    if isinstance(value, (int, float)):
        return number_text(value), False
    return scalar_text(str(value), simple_key, indent, col)


# -- the block structure --------------------------------------------------------------------------------------------


class Printer:
    """Dumps, with memos of what does not depend on where it is written (strings repeat a lot across the objects
    of a list, and so do key sets): one printer may dump the pages of one list in turn (cli/listout.py)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.bol = True  # at the start of a line: the next indentation needs no line break first
        self.strings: dict[str, tuple[str, bool]] = {}  # value -> (text when not folded, may fold)
        self.keys: dict[str, str | None] = {}  # key -> its simple-key text, None for a `? ` key
        self.orders: dict[tuple[Any, ...], list[tuple[Any, str]]] = {}  # key set -> (key, key text) in order

    def string(self, s: str, indent: int, col: int) -> str:
        """A string value; its unfolded text is remembered unless it depends on the indentation."""
        self.bol = False
        known = self.strings.get(s)
        if known is None:
            if _SAFE_PLAIN.match(s) and s not in RESOLVED:
                known = (s, False)
            else:
                flat, style, _ = _string_text(s, False, indent, col, allow_breaks=False)
                if style == LITERAL or (style == SINGLE and ("\u2028" in s or "\u2029" in s)):
                    text, _, self.bol = _string_text(s, False, indent, col)
                    return text  # written with the indentation: not reusable
                known = (flat, " " in s)
            self.strings[s] = known
        if known[1] and col + len(known[0]) > _WIDTH:
            return _string_text(s, False, indent, col)[0]  # long enough to fold here
        return known[0]

    def key(self, k: str) -> str | None:
        text = self.keys.get(k, "")
        if text == "":
            if _SAFE_PLAIN.match(k) and k not in RESOLVED and len(k) <= _SIMPLE_KEY_BYTES:
                text = k
            elif k == "<<":
                text = '"<<"'  # kubectl writes it plain, and reads that back as a merge key: an error
            elif _is_simple_key(k):
                text = _string_text(k, True, 0, 0)[0]
            else:
                text = None
            self.keys[k] = text
        return text

    def order(self, node: dict[Any, Any]) -> list[tuple[Any, str]]:
        keys = tuple(node)
        known = self.orders.get(keys)
        if known is None:
            texts = {(k if isinstance(k, str) else _key_text(k)): k for k in keys}
            known = [(texts[t], t) for t in sorted_keys(list(texts))]
            self.orders[keys] = known
        return known

    def scalar(self, value: Any, indent: int, col: int) -> None:
        """A scalar or an empty container after the text on the current line, which ends at `col`; `indent` is
        the enclosing block's (-1 at the root)."""
        sep = " " if indent >= 0 else ""
        if type(value) is str:
            text = self.string(value, indent + 2 if indent >= 0 else 2, col + len(sep))
        elif isinstance(value, dict):
            text, self.bol = "{}", False
        elif isinstance(value, (list, tuple)):
            text, self.bol = "[]", False
        else:
            text, self.bol = scalar_text(value, False, indent + 2 if indent >= 0 else 2, col + len(sep))
        self.out.append(sep + text)

    def dump(self, obj: Any) -> str:
        self.out, self.bol = [], True
        w = self.out.append
        # Open containers: [is_mapping, node, ordered keys or None, next index, indent].
        stack: list[list[Any]] = []

        def open_node(node: Any, indent: int, col: int, under_simple_key: bool) -> None:
            if not node or not isinstance(node, (dict, list, tuple)):
                self.scalar(node, indent, col)
                return
            order = self.order(node) if isinstance(node, dict) else None
            is_map = order is not None
            if indent < 0:
                child = 0
            elif under_simple_key:
                child = indent + 2 if is_map else indent  # a sequence under a key is not indented
                w(("" if self.bol else "\n") + " " * child)
            else:  # after "- " or a `? key`'s ":": the first entry goes on the same line
                child = indent + 2
                w(" " * (child - col))
            self.bol = False
            stack.append([is_map, node, order, 0, child])

        open_node(obj, -1, 0, False)
        while stack:
            frame = stack[-1]
            is_map, node, keys, index, indent = frame
            if index == len(node):
                stack.pop()
                continue
            frame[3] = index + 1
            if index:
                w((" " * indent) if self.bol else ("\n" + " " * indent))
                self.bol = False
            if not is_map:
                w("-")
                open_node(node[index], indent, indent + 1, False)
                continue
            key, text = keys[index]
            value = node[key]
            simple = self.key(text)
            if simple is not None:
                w(simple + ":")
                open_node(value, indent, indent + len(simple) + 1, True)
                continue
            ktext, self.bol = scalar_text(text, False, indent + 2, indent + 2)
            w("? " + ktext)
            w(((" " * indent) if self.bol else ("\n" + " " * indent)) + ":")
            self.bol = False
            open_node(value, indent, indent + 1, False)
        if not self.bol:
            w("\n")
        return "".join(self.out)


def _is_simple_key(key: str) -> bool:
    if len(key) <= _SIMPLE_KEY_BYTES // 4 and key.isascii():
        return "\n" not in key and "\r" not in key
    return len(key.encode("utf-8", "surrogatepass")) <= _SIMPLE_KEY_BYTES and not any(b in key for b in _BREAKS)


def _key_text(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (int, float)):
        return number_text(key)
    return str(key)


def dump(obj: Any) -> str:
    """`obj` (JSON-like: dict, list, str, int, float, bool, None) as kubectl's `-o yaml` prints it."""
    return Printer().dump(obj)
