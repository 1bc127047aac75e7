"""A reader of the plain block YAML that kubeconfig files are written in, without importing PyYAML.

Importing PyYAML costs more start-up than the rest of reading a kubeconfig (its reader compiles a large regular
expression, and its package imports the emitter too). kubectl and client-go write kubeconfig files in a small part of
YAML: block mappings and sequences, plain scalars, `{}` and `[]`. `parse` reads exactly that part and answers
UNSUPPORTED for anything else, which core/config.py then hands to PyYAML.

Invariants:
- `parse(text)` is either UNSUPPORTED or equal to what PyYAML's safe loader makes of `text` (same types, same values;
  fuzzed against it: tests/unit/test_simpleyaml.py). Where PyYAML would raise an error, `parse` answers
  UNSUPPORTED, so errors are always PyYAML's own.
- What is read: lines of printable ASCII, indented by spaces; full-line comments and blank lines; block mappings whose
  keys are plain strings; block sequences (`- item`, also `- key: value` starting a mapping, and a sequence at its
  key's indentation); values that are plain scalars, single-quoted scalars, double-quoted scalars without escapes or
  quotes inside, `{}` and `[]`. A plain scalar is typed by YAML 1.1's rules as PyYAML applies them: the bool words
  (true, yes, on, ...), the null words and the empty value are resolved; one starting with a letter, `/`, or `-`
  followed by a letter or `-` is otherwise a string. Anything else (numbers, dates, anchors, tags, block scalars,
  flow collections, multi-line scalars, comments after a value, document markers, tabs) is UNSUPPORTED.
- Importing this module imports nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing nothing is the point
if TYPE_CHECKING:
    from typing import Any


class _Unsupported(Exception):
    """Raised inside the reader: the text is outside the part of YAML that `parse` reads."""


class _UnsupportedType:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSUPPORTED"


UNSUPPORTED: Any = _UnsupportedType()

_TRUE = frozenset({"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
_FALSE = frozenset({"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
_NULL = frozenset({"null", "Null", "NULL", "~", ""})


def parse(text: str) -> Any:
    """The document in `text` as PyYAML's safe loader reads it, or UNSUPPORTED."""
    lines: list[tuple[int, str]] = []
    for raw in text.split("\n"):
        line = raw.rstrip(" ")
        if not line.isascii() or not line.isprintable():  # tabs, \r, control characters: PyYAML's rules
            return UNSUPPORTED
        content = line.lstrip(" ")
        if not content or content.startswith("#"):
            continue
        if " #" in content or content.startswith(("---", "...", "%")):
            return UNSUPPORTED
        lines.append((len(line) - len(content), content))
    if not lines:
        return None
    try:
        doc, end = _block(lines, 0, lines[0][0])
    except _Unsupported:
        return UNSUPPORTED
    if end != len(lines) or not isinstance(doc, (dict, list)):
        return UNSUPPORTED
    return doc


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    """The mapping or sequence whose lines start at `lines[i]`, all at `indent`; and the index after it."""
    if _is_item(lines[i][1]):
        return _sequence(lines, i, indent)
    return _mapping(lines, i, indent)


def _sequence(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    while i < len(lines) and lines[i][0] == indent and _is_item(lines[i][1]):
        content = lines[i][1]
        rest = content[1:].lstrip(" ")
        if not rest:
            value, i = _nested(lines, i + 1, indent)
        elif _is_item(rest) or _entry(rest) is not None:  # `- - x` or `- key: value`: a block inside the item
            lines[i] = (indent + len(content) - len(rest), rest)
            value, i = _block(lines, i, lines[i][0])
        else:
            value, i = _scalar(rest), i + 1
            _check_ends(lines, i, indent)
        out.append(value)
    _check_ends(lines, i, indent, allow_same=True)
    return out, i


def _mapping(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[dict[Any, Any], int]:
    out: dict[Any, Any] = {}
    while i < len(lines) and lines[i][0] == indent and not _is_item(lines[i][1]):
        entry = _entry(lines[i][1])
        if entry is None:
            raise _Unsupported
        key, rest = entry
        if not rest:
            if i + 1 < len(lines) and lines[i + 1][0] == indent and _is_item(lines[i + 1][1]):
                value, i = _sequence(lines, i + 1, indent)  # a sequence at its key's indentation
            else:
                value, i = _nested(lines, i + 1, indent)
        else:
            value, i = _scalar(rest), i + 1
            _check_ends(lines, i, indent)
        out[key] = value
    _check_ends(lines, i, indent, allow_same=False)
    return out, i


def _nested(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    """The value after `key:` or `-` with nothing after it: a block indented deeper, or null."""
    if i < len(lines) and lines[i][0] > indent:
        return _block(lines, i, lines[i][0])
    return None, i


def _check_ends(lines: list[tuple[int, str]], i: int, indent: int, allow_same: bool = True) -> None:
    """After a scalar or a block at `indent`: the next line must not be deeper (a continued scalar, or a mistake);
    after a whole mapping, a line at its indentation that is not an entry ended it (a sequence item there)."""
    if i < len(lines) and lines[i][0] > indent:
        raise _Unsupported
    if not allow_same and i < len(lines) and lines[i][0] == indent and not _is_item(lines[i][1]):
        raise _Unsupported


def _entry(content: str) -> tuple[str, str] | None:
    """`key: value` or `key:` as (key, value text); None when `content` is not a mapping entry."""
    if content.endswith(":") and ": " not in content:
        key, rest = content[:-1], ""
    elif ": " in content:
        key, rest = content.split(": ", 1)
        rest = rest.lstrip(" ")
    else:
        return None
    if not _plain_string(key) or key.endswith(" "):  # `key : v`: PyYAML strips the space; left to it
        raise _Unsupported
    return key, rest


def _plain_string(text: str) -> bool:
    """Whether `text`, a plain scalar, is a string by PyYAML's resolvers (and a well-formed plain scalar)."""
    if not text or text in _TRUE or text in _FALSE or text in _NULL:
        return False
    first = text[0]
    if first == "-":
        if len(text) < 2 or not (text[1].isalpha() or text[1] == "-"):
            return False
    elif not (first.isalpha() or first == "/"):
        return False
    return not text.endswith(":") and ": " not in text


def _scalar(text: str) -> Any:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in _NULL:
        return None
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if text[0] == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Unsupported
        return inner.replace("''", "'")
    if text[0] == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            raise _Unsupported
        return inner
    if _plain_string(text):
        return text
    raise _Unsupported
