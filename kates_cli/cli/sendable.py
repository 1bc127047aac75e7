"""What a parsed YAML or JSON document must be before kates sends it: JSON that says what the input said.

Invariants:
- `check_aliases` runs on the composed node graph, where an alias is a second reference to the same node, so it
  measures how far the aliases would expand without expanding them (time linear in the input). It refuses a
  document as go-yaml (kubectl's reader) does: more than 100 of more than 1,000 values coming from aliases, at a
  share above go-yaml's ratio (99% for small documents, down to 10% past 4,000,000 values), or an anchor whose
  value contains itself.
- `to_json` returns the bytes that will be sent, or raises UsageError: every failure that can happen locally
  happens here, before the first request. Keys are strings (a scalar key becomes its text, as sigs.k8s.io/yaml
  makes it); NaN and infinities are refused with Go's encoding/json words; an integer past 64 bits becomes the
  nearest float, as go-yaml reads it (the server then says which field cannot hold it), or its text if no float
  can hold it; `!!binary`, `!!set` and other values JSON has no form for are refused; nesting is bounded.
- The walk is iterative (no Python recursion), visits a shared value once per reference (bounded by
  `check_aliases`), and never follows a cycle.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import UsageError

MAX_DEPTH = 1000  # libyaml's parser refuses deeper documents; the API server stores objects this deep
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # far past the API server's 3 MiB request limit: only a bound on kates's memory
_INT64_MIN, _UINT64_MAX = -(1 << 63), (1 << 64) - 1

# go-yaml v2 (decode.go): the share of values that may come from aliases, by document size
_ALIAS_RATIO_LOW, _ALIAS_RATIO_HIGH = 400_000, 4_000_000


def _allowed_alias_ratio(count: int) -> float:
    if count <= _ALIAS_RATIO_LOW:
        return 0.99
    if count >= _ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (count - _ALIAS_RATIO_LOW) / (_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW)


def _children(node: Any) -> list[Any]:
    value = node.value
    if not isinstance(value, list):  # a scalar
        return []
    if value and isinstance(value[0], tuple):  # a mapping: (key, value) pairs
        return [n for pair in value for n in pair]
    return list(value)


def check_aliases(root: Any, where: str) -> int:
    """The number of values the document `root` (a yaml node) holds once its aliases are expanded; UsageError for
    an alias bomb or a self-containing anchor, before anything is expanded."""
    size: dict[int, int] = {}  # id(node) -> expanded size
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:  # post-order, iterative: the expanded size of every distinct node
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            continue
        if key in size:
            continue
        if key in on_path:
            raise UsageError(f"{where}: yaml: an anchor's value contains itself")
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise UsageError(f"{where}: yaml: an anchor's value contains itself")
            if id(child) not in size:
                stack.append((child, False))
    total = size[id(root)]
    # in document order, a node met again is an alias: all it expands to comes from aliasing
    aliased, seen, order = 0, set(), [root]
    while order:
        node = order.pop()
        if id(node) in seen:
            aliased += size[id(node)]
            continue
        seen.add(id(node))
        order.extend(reversed(_children(node)))
    if aliased > 100 and total > 1000 and aliased / total > _allowed_alias_ratio(total):
        raise UsageError(
            f"{where}: yaml: document contains excessive aliasing",
            hint=f"its aliases expand it to {total:,} values, {aliased:,} of them copies",
        )
    return total


def _scalar(value: Any, where: str, path: list[str]) -> Any:
    """The JSON form of one scalar; UsageError when it has none."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        if _INT64_MIN <= value <= _UINT64_MAX:
            return value
        try:
            return float(value)  # go-yaml: neither an int64 nor a uint64, so a float64
        except OverflowError:
            return str(value)  # and no float64 either: go-yaml keeps the text
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            word = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
            raise UsageError(f"{where}: {_at(path)}json: unsupported value: {word}")
        return value
    if isinstance(value, (bytes, bytearray)):
        raise UsageError(
            f"{where}: {_at(path)}a !!binary value has no JSON form", hint="write binary data as base64 text"
        )
    if isinstance(value, (set, frozenset)):
        raise UsageError(f"{where}: {_at(path)}a !!set has no JSON form", hint="write it as a list")
    raise UsageError(f"{where}: {_at(path)}a {type(value).__name__} value has no JSON form")


def _key(key: Any, where: str, path: list[str]) -> str:
    """A mapping key as sigs.k8s.io/yaml turns it into a JSON key: scalars become their text."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float) and math.isfinite(key):
        return repr(key)
    raise UsageError(f"{where}: {_at(path)}yaml: invalid map key: {key!r}")


def _at(path: list[str]) -> str:
    return f"at {'.'.join(path)}: " if path else ""


def normalize(doc: Any, where: str) -> Any:
    """`doc` with every key a string and every scalar in its JSON form (see the module docstring); UsageError for
    what cannot be sent. Containers are rewritten in place."""
    root = [doc]
    # (container, path, depth); a container on the current path again is a cycle
    stack: list[tuple[Any, list[str], int]] = [(root, [], -1)]
    on_path: list[int] = []
    while stack:
        container, path, depth = stack.pop()
        if container is None:  # leaving a container
            on_path.pop()
            continue
        if depth > MAX_DEPTH:
            raise UsageError(f"{where}: the document nests deeper than {MAX_DEPTH} levels")
        if id(container) in on_path:
            raise UsageError(f"{where}: {_at(path)}yaml: an anchor's value contains itself")
        on_path.append(id(container))
        stack.append((None, path, depth))
        if isinstance(container, dict):
            if not all(isinstance(k, str) for k in container):
                items = [(_key(k, where, path), v) for k, v in container.items()]
                container.clear()
                container.update(items)
            entries: list[tuple[Any, Any]] = list(container.items())
        else:
            entries = list(enumerate(container))
        for k, v in entries:
            if isinstance(v, (dict, list)):
                stack.append((v, [*path, str(k)] if depth >= 0 else [], depth + 1))
            else:
                container[k] = _scalar(v, where, [*path, str(k)] if depth >= 0 else [])
    return root[0]


def to_json(doc: Any, where: str) -> bytes:
    """The bytes kates will send for `doc` (normalized in place first); UsageError when there are none."""
    import orjson

    from ..core import deepjson

    normalize(doc, where)
    try:
        data = deepjson.dumps(doc)  # orjson's bytes; past its 255 levels, the same bytes written without recursion
    except (orjson.JSONEncodeError, TypeError) as exc:
        raise UsageError(f"{where}: cannot be encoded as JSON: {exc}") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UsageError(
            f"{where}: the document is {len(data) / 2**20:.0f} MiB as JSON, over kates's limit of "
            f"{MAX_DOCUMENT_BYTES // 2**20} MiB (the API server takes at most 3 MiB per request)"
        )
    return data
