"""kubectl's `-o kyaml` bytes (KEP-5295), from plain JSON values, without a YAML library.

kubectl prints KYAML through cli-runtime's KYAMLPrinter: the object goes to JSON (Go's encoding/json: map keys in
byte order, numbers as Go's int64/float64 print), is parsed by go.yaml.in/yaml/v3 and written by
sigs.k8s.io/yaml/kyaml (v1.6.0, kyaml.go). This module reproduces that pipeline for JSON values.

Invariants:
- Pure: values in, text out; no I/O, no client. Iterative, so nesting depth is bounded by memory, not recursion.
- Every document starts with `---` and ends with a line break; maps are `{` / `key: value,` lines / `}` with two
  spaces per level; a list of maps or lists is cuddled (`[{`...`}, {`...`}]`), any other list has one item per line,
  each with a trailing comma; empty ones are `{}` and `[]`.
- String values are always double-quoted; a value holding a line feed is folded: `"\\` then one line per source
  line, each indented one level past the key's and led by a space (`\\` when the line starts with white space).
- Keys are written bare when kyaml's needsQuotes allows it (letters, digits, `_`, and `-./` inside; not
  type-ambiguous such as `yes`, `null`, `0x10`, `1e3`, `2024-01-02`), else double-quoted on one line.
- Numbers are the text Go's encoding/json writes; kyaml copies it unchanged.
- Dict keys are sorted by code point (Go's byte order for UTF-8), except in an `Ordered` dict, whose order is a
  Go struct's field order (a watch event: `type`, then `object`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_INT64 = (-(1 << 63), 1 << 63)


class Ordered(dict[str, Any]):
    """A map written in its own key order, as Go writes a struct."""


def ordered(value: Any) -> Any:
    """`value` with every dict an `Ordered` one (a Go struct's JSON, already in field order; shallow structures
    only: this recurses)."""
    if isinstance(value, dict):
        return Ordered({k: ordered(v) for k, v in value.items()})
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


# -- numbers (encoding/json's floatEncoder) -------------------------------------------------------------------------


def number_text(value: int | float) -> str:
    """A JSON number as Go's encoding/json writes it after decoding into int64 (if the integer fits) or float64."""
    if isinstance(value, int):
        if _INT64[0] <= value < _INT64[1]:
            return str(value)
        try:
            value = float(value)
        except OverflowError:
            return str(value)  # kubectl refuses such a number; print it whole
    if value == 0:
        return "0" if str(value)[0] != "-" else "-0"
    text = repr(value)  # the shortest digits that read back, as Go's 'g' -1 precision
    mantissa, _, exp_text = text.partition("e")
    neg = mantissa.startswith("-")
    mantissa = mantissa.lstrip("-")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    exp = int(exp_text or 0) + len(whole) - (len(whole + frac) - len((whole + frac).lstrip("0")))
    # now value = 0.<digits> * 10**exp
    digits = digits.rstrip("0") or "0"
    sign = "-" if neg else ""
    if 1e-6 <= abs(value) < 1e21:  # 'f' format
        if exp <= 0:
            return sign + "0." + "0" * (-exp) + digits
        if exp >= len(digits):
            return sign + digits + "0" * (exp - len(digits))
        return sign + digits[:exp] + "." + digits[exp:]
    e = exp - 1  # 'e' format: d.ddd e±XX, then encoding/json drops the exponent's leading zero
    body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{body}e{'-' if e < 0 else '+'}{abs(e):d}"


# -- keys: kyaml's needsQuotes --------------------------------------------------------------------------------------

_SEXAGESIMAL = re.compile(r"[+-]?[1-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?\Z")
_GO_INT = {16: "0123456789abcdefABCDEF", 8: "01234567", 2: "01", 10: "0123456789"}
_GO_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_GO_HEX_FLOAT = re.compile(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+\Z")
_GO_SPECIAL = re.compile(r"(?i)([+-]?(inf|infinity)|nan)\Z")
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\Z")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})([Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})([.,][0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})| ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})([.,][0-9]+)?)\Z"
)
_GO_BOOLS = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}


def _go_parse_int(s: str) -> bool:
    """strconv.ParseInt(s, 0, 64) succeeds."""
    body = s[1:] if s[:1] in "+-" else s
    base = 10
    if len(body) > 1 and body[0] == "0":
        prefix = body[1].lower()
        base = {"x": 16, "o": 8, "b": 2}.get(prefix, 8)
        body = body[2:] if prefix in "xob" else body[1:]
    if not body or any(c not in _GO_INT[base] for c in body):
        return False
    n = int(body, base)
    return (-n if s[0] == "-" else n) in range(*_INT64)


def _go_parse_float(s: str) -> bool:
    """strconv.ParseFloat(s, 64) succeeds (no syntax error, no overflow)."""
    if _GO_SPECIAL.match(s):
        return True
    try:
        if _GO_FLOAT.match(s):
            return float(s) not in (float("inf"), float("-inf"))
        if _GO_HEX_FLOAT.match(s):
            float.fromhex(s)
            return True
    except OverflowError:
        return False
    return False


def _days(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _is_timestamp(s: str) -> bool:
    m = _DATE.match(s) or _DATETIME.match(s)
    if m is None:
        return False
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if not (1 <= month <= 12 and 1 <= day <= _days(year, month)):
        return False
    clock = [g for g in m.groups()[4:] if g is not None and g[:1].isdigit()][:3]
    return not clock or (int(clock[0]) < 24 and int(clock[1]) < 60 and int(clock[2]) < 60)


def _type_ambiguous(s: str) -> bool:
    low = s.lower()
    if len(s) <= 5 and low in ("null", "~", "", "true", "y", "yes", "on", "false", "n", "no", "off"):
        return True
    if s in _GO_BOOLS:
        return True
    bare = s.replace("_", "")
    if bare and (_go_parse_int(bare) or _go_parse_float(bare)):
        return True
    if _SEXAGESIMAL.match(s):
        return True
    if len(s) <= 5 and low in (".inf", "-.inf", "+.inf", ".nan"):
        return True
    return _is_timestamp(s)


def _bare(c: str) -> bool:
    """unicode.IsLetter or unicode.IsNumber, or `_`."""
    return c == "_" or unicodedata.category(c)[0] in "LN"


def needs_quotes(s: str) -> bool:
    if s == "" or _type_ambiguous(s):
        return True
    last = len(s) - 1
    return not all(_bare(c) or (0 < i < last and c in "-./") for i, c in enumerate(s))


# -- strings (renderString, appendEscapedRune) ----------------------------------------------------------------------

_NAMED = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\x00": "\\0",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\xa0": "\\_",
    "\u2028": "\\L",
    "\u2029": "\\P",
}
_LATIN1_SPACE = "\t\n\v\f\r \x85\xa0"
_FOLD = "\\\n"
_PLAIN_RUN = re.compile(r'[^"\\\n\t]+')


def _escape(c: str) -> str:
    if c in '"\\':
        return "\\" + c
    if c.isprintable():
        return c
    named = _NAMED.get(c)
    if named is not None:
        return named
    v = ord(c)
    if v < 0x20 or v == 0x7F:
        return f"\\x{v:02x}"
    if v < 0x10000:
        return f"\\u{v:04x}"
    return f"\\U{v:08x}"


def _is_space(c: str) -> bool:
    return c in _LATIN1_SPACE if ord(c) < 0x100 else c.isspace()


def _clean(s: str) -> str:
    try:
        s.encode()
    except UnicodeEncodeError:  # a lone surrogate: Go's JSON decoder made it U+FFFD
        s = re.sub("[\ud800-\udfff]", "\ufffd", s)
    return s


def quote_compact(s: str) -> str:
    """A string on one line in double quotes (keys): line feeds and tabs as `\\n`, `\\t`."""
    return '"' + "".join("\\t" if c == "\t" else _escape(c) for c in _clean(s)) + '"'


def quote_value(s: str, indent: int) -> str:
    """A string value; continuation lines of a multi-line one at `indent` levels."""
    s = _clean(s)
    if "\n" not in s:
        if s.isprintable() and '"' not in s and "\\" not in s:
            return '"' + s + '"'
        return '"' + "".join("\t" if c == "\t" else _escape(c) for c in s) + '"'
    pad = "  " * indent
    out = ['"', _FOLD]
    at_bol = True
    for c in s:
        if at_bol:
            out.append(pad)
            out.append("\\" if _is_space(c) and c != "\n" else " ")
        if c == "\n":
            out.append("\\n" + _FOLD)
            at_bol = True
            continue
        out.append("\t" if c == "\t" else _escape(c))
        at_bol = False
    if not at_bol:
        out.append(_FOLD)
    out.append(pad)
    out.append('"')
    return "".join(out)


def key_text(k: str) -> str:
    return k if "\n" not in k and not needs_quotes(k) else quote_compact(k)


# -- the structure --------------------------------------------------------------------------------------------------


def _scalar(value: Any, indent: int) -> str:
    """A scalar (or empty container) rendered by a node at `indent`."""
    if isinstance(value, str):
        return quote_value(value, indent + 1)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    return quote_value(str(value), indent + 1)


def _container(v: Any) -> bool:
    return isinstance(v, (dict, list, tuple))


def render(obj: Any) -> str:
    """One document's node, without the `---` line or the final line break."""
    out: list[str] = []
    w = out.append
    keys: dict[str, str] = {}
    # frames: [kind, node, items, index, indent]; kind "m" map, "c" cuddled list, "u" uncuddled list
    stack: list[list[Any]] = []

    def open_node(node: Any, indent: int) -> None:
        if not node or not _container(node):
            w(_scalar(node, indent))
            return
        if isinstance(node, dict):
            items = list(node.items()) if isinstance(node, Ordered) else sorted(node.items())
            w("{\n")
            stack.append(["m", node, items, 0, indent])
        elif all(_container(c) for c in node):
            w("[")
            stack.append(["c", node, node, 0, indent])
        else:
            w("[\n" + "  " * indent)
            stack.append(["u", node, node, 0, indent])

    open_node(obj, 0)
    while stack:
        frame = stack[-1]
        kind, _, items, index, indent = frame
        if index == len(items):
            stack.pop()
            w(("  " * indent + "}") if kind == "m" else "]")
            if stack:
                w(",\n" if stack[-1][0] != "c" else "")
                if stack[-1][0] == "u":
                    w("  " * stack[-1][4])
            continue
        frame[3] = index + 1
        if kind == "m":
            k, v = items[index]
            text = keys.get(k)
            if text is None:
                text = keys[k] = key_text(str(k))
            w("  " * (indent + 1) + text + ": ")
            child_indent = indent + 1
        elif kind == "c":
            if index:
                w(", ")
            v = items[index]
            child_indent = indent
        else:
            w("  ")
            v = items[index]
            child_indent = indent + 1
        if v and _container(v):
            open_node(v, child_indent)
            continue
        w(_scalar(v, child_indent))
        if kind == "m":
            w(",\n")
        elif kind == "u":
            w(",\n" + "  " * indent)
    return "".join(out)


def dump(obj: Any) -> str:
    """`obj` (JSON-like) as kubectl's `-o kyaml` prints one object: a document with its `---` line."""
    return "---\n" + render(obj) + "\n"
