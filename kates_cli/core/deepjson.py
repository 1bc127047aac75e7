"""Decoding (and re-encoding) JSON from the API server whatever its depth.

orjson refuses documents nested more than 1,024 levels ("depth limit exceeded"), and the json module stops at the
interpreter's recursion limit; the API server stores and serves objects nested a few thousand levels deep (a
custom resource with `x-kubernetes-preserve-unknown-fields`). One such object must not turn `kates get` into an
internal error or end a `kates watch`.

Invariants:
- `loads(data)` returns exactly what `orjson.loads(data)` returns for every document orjson accepts (it *is*
  orjson.loads then); only a document orjson refuses for its depth is decoded again, by a parser without recursion
  (strings by the json module's own scanner), into the same plain dicts, lists, strings, numbers, booleans and None.
- A document that is malformed as well as deep raises orjson's own error, as any malformed document does.
- `copy(obj)` is a deep copy of JSON data at any depth (copy.deepcopy recurses, one Python frame or more a level).
- `dumps(obj)` returns exactly `orjson.dumps(obj)` (compact, keys in their order); only what orjson refuses for its
  depth (over 255 levels) is written again, without recursion, with every string and number encoded by orjson.
"""

from __future__ import annotations

import json
import re

import orjson

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import Any

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = (("true", True), ("false", False), ("null", None))
_SCALARS = json.JSONDecoder()  # strings are read by the json module's own scanner (a string never recurses)


def copy(obj: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, strings, numbers, booleans, None), whatever its depth."""
    return loads(dumps(obj))


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """orjson.loads, without its depth limit."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth limit" not in str(exc):
            raise
        try:
            return _loads_flat(bytes(data).decode() if not isinstance(data, str) else data)
        except ValueError:
            raise exc from None


def dumps(obj: Any, *, sort_keys: bool = False) -> bytes:
    """orjson.dumps (with OPT_SORT_KEYS when `sort_keys`), without its depth limit."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except orjson.JSONEncodeError as exc:
        if "Recursion limit" not in str(exc):
            raise
        return _dumps_flat(obj, sort_keys)


def _dumps_flat(obj: Any, sort_keys: bool = False, indent: int = 0) -> bytes:
    """JSON written without recursion: compact, or with `indent` spaces per level (and `": "`, as Go's MarshalIndent
    and kubectl's -o json write it). Strings and floats are encoded by orjson (the same bytes); integers in full,
    past 64 bits too."""
    out: list[bytes] = []
    sep = b": " if indent else b":"
    todo: list[bytes | tuple[Any, int]] = [(obj, 0)]  # the work left, last first: bytes as is, (value, depth) encoded
    while todo:
        item = todo.pop()
        if isinstance(item, bytes):
            out.append(item)
            continue
        value, depth = item
        pad = b"\n" + b" " * (indent * depth) if indent else b""
        inner = b"\n" + b" " * (indent * (depth + 1)) if indent else b""
        if isinstance(value, dict) and value:
            keys = sorted(value) if sort_keys else list(value)
            todo.append(pad + b"}")
            for n in range(len(keys) - 1, -1, -1):
                todo.append((value[keys[n]], depth + 1))
                todo.append((b"," if n else b"{") + inner + orjson.dumps(str(keys[n])) + sep)
        elif isinstance(value, list) and value:
            todo.append(pad + b"]")
            for n in range(len(value) - 1, -1, -1):
                todo.append((value[n], depth + 1))
                todo.append((b"," if n else b"[") + inner)
        elif isinstance(value, int) and not isinstance(value, bool):
            out.append(str(value).encode())
        else:
            out.append(orjson.dumps(value))
    return b"".join(out)


def dumps_indented(obj: Any, indent: int = 4) -> bytes:
    """Sorted keys, `indent` spaces per level, at any depth and with integers of any size: the slow path of
    kubectl-style `-o json` (cli/render.py) for what orjson refuses."""
    return _dumps_flat(obj, sort_keys=True, indent=indent)


def _loads_flat(text: str) -> Any:
    """A JSON document decoded with an explicit stack of open containers (no recursion)."""
    stack: list[Any] = []  # open containers, innermost last
    keys: list[str] = []  # for each open object: the key whose value comes next
    i = _WS.match(text, 0).end()  # type: ignore[union-attr]
    while True:
        # one value starts at i
        c = text[i : i + 1]
        if c == "{" or c == "[":
            i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
            if text[i : i + 1] == ("}" if c == "{" else "]"):
                value: Any = {} if c == "{" else []
                i += 1
            else:
                stack.append({} if c == "{" else [])
                if c == "{":
                    key, i = _key(text, i)
                    keys.append(key)
                continue
        elif c == '"':
            value, i = _SCALARS.raw_decode(text, i)
        else:
            m = _NUMBER.match(text, i)
            if m:
                integer, frac, exp = m.groups()
                value = float(integer + (frac or "") + (exp or "")) if frac or exp else int(integer)
                i = m.end()
            else:
                for word, literal in _LITERALS:
                    if text.startswith(word, i):
                        value, i = literal, i + len(word)
                        break
                else:
                    raise ValueError(f"unexpected character at {i}")
        # attach the value to its container; close every container that ends here
        while True:
            i = _WS.match(text, i).end()  # type: ignore[union-attr]
            if not stack:
                if i != len(text):
                    raise ValueError(f"trailing data at {i}")
                return value
            top = stack[-1]
            if isinstance(top, dict):
                top[keys[-1]] = value
            else:
                top.append(value)
            c = text[i : i + 1]
            if c == ",":
                i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
                if isinstance(top, dict):
                    keys[-1], i = _key(text, i)
                break
            if c != ("}" if isinstance(top, dict) else "]"):
                raise ValueError(f"expected ',' or a closing bracket at {i}")
            i += 1
            value = stack.pop()
            if isinstance(value, dict):
                keys.pop()


def _key(text: str, i: int) -> tuple[str, int]:
    """An object's key and its colon at i; returns the key and where its value starts."""
    if text[i : i + 1] != '"':
        raise ValueError(f"expected a key at {i}")
    key, i = _SCALARS.raw_decode(text, i)
    i = _WS.match(text, i).end()  # type: ignore[union-attr]
    if text[i : i + 1] != ":":
        raise ValueError(f"expected ':' at {i}")
    return key, _WS.match(text, i + 1).end()  # type: ignore[union-attr]
