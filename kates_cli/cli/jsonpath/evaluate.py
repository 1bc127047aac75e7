"""Evaluating a parsed template over JSON data, with kubectl's semantics and error messages."""

from __future__ import annotations

from typing import Any

from .gofmt import _INVALID, _as_go_number, _Byte, _Error, _go_bytes, _go_type, _sprint
from .parser import _Array, _Field, _Filter, _Ident, _List, _Literal, _Recursive, _Text, _Union, _Wildcard


def _children(v: Any) -> list[Any]:
    if isinstance(v, dict):
        return [v[k] for k in sorted(v, key=str)]
    if isinstance(v, list | tuple):
        return list(v)
    if isinstance(v, str):
        return [_Byte(b) for b in _go_bytes(v)]
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
    if ka == "string":  # Go compares the bytes (a literal may hold some that are not UTF-8)
        return _go_bytes(a) < _go_bytes(b)
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


_END = object()  # the end of an iterator in `_recursive`

_Group = tuple[bool, list[Any]]  # (from text outside braces, values)


class _Run:
    """One run of the template's nodes from `i` on, over one value (one frame of Go's recursive FindResults)."""

    __slots__ = ("collect", "collect_body", "cur", "done", "groups", "i", "next", "values")

    def __init__(self, nodes: list[Any], i: int, data: Any, *, collect: bool) -> None:
        self.i = i
        self.cur = [_INVALID if data is None else data]
        self.collect = collect  # its groups print (False: a range over nothing, walked for its {end} only)
        self.groups: list[_Group] = []
        self.done = False
        self.values: list[Any] | None = None  # the values of the {range} under way at nodes[i]
        self.next = 0
        self.collect_body = True


class _Evaluator:
    """One evaluation of a template (client-go's FindResults), with its range bookkeeping."""

    def __init__(self, allow_missing_keys: bool) -> None:
        self.allow_missing = allow_missing_keys
        self.begin_range = 0
        self.in_range = 0
        self.end_range = 0
        self.last_end: Any = None

    def find(self, nodes: list[Any], data: Any) -> list[_Group]:
        """client-go's FindResults. A `{range}` runs the rest of the template once per value (Go recurses; here
        each run is a `_Run` on an explicit stack, so ranges nested thousands deep are no RecursionError)."""
        stack = [_Run(nodes, 0, data, collect=True)]
        while True:
            run = stack[-1]
            if run.values is not None:  # a {range} of this run is under way
                if run.next < len(run.values):
                    run.next += 1
                    stack.append(_Run(nodes, run.i + 1, run.values[run.next - 1], collect=run.collect_body))
                    continue
                run.values = None
                self.in_range -= 1
                for k in range(run.i + 1, len(nodes)):  # resume after the {end} met last
                    if nodes[k] is self.last_end:
                        run.i = k
                        break
                run.i += 1
                continue
            if run.done or run.i >= len(nodes):
                stack.pop()
                if not stack:
                    return run.groups
                if run.collect:
                    stack[-1].groups.extend(run.groups)
                continue
            node = nodes[run.i]
            results = self.walk(run.cur, node)
            if 0 < self.end_range <= self.in_range:
                self.end_range -= 1
                self.last_end = node
                run.done = True
                continue
            if self.begin_range > 0:
                self.begin_range -= 1
                self.in_range += 1
                # no values: the body still runs once, on nothing, to walk to the matching {end}; it prints nothing
                run.values, run.next, run.collect_body = (results, 0, True) if results else ([None], 0, False)
                continue
            run.groups.append((isinstance(node, _Text), results))
            run.i += 1

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
        """Every container under `values`, depth first, each before its children (client-go's evalRecursive).
        Iterative, so that data nested thousands of levels deep is no RecursionError."""
        out: list[Any] = []
        stack = [iter(values)]
        while stack:
            v = next(stack[-1], _END)
            if v is _END:
                stack.pop()
                continue
            if v is None or v is _INVALID:
                continue
            children = _children(v)
            if children:
                out.append(v)
                stack.append(iter(children))
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
