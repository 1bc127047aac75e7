"""Go text/template's executor over JSON-decoded data, as kubectl runs it (`missingkey=default` or `=error`)."""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from typing import Any

from ..jsonpath.gofmt import _INVALID, _go_quote, _go_type, _is_int
from .gofmt import go_sprint, printf
from .parser import (
    Action,
    Branch,
    Chain,
    Command,
    Dot,
    Field,
    Ident,
    Literal,
    LitInt,
    Loop,
    Nil,
    Node,
    Pipe,
    TemplateCall,
    Text,
    Var,
    node_text,
)

MISSING = _INVALID  # Go's invalid reflect.Value: a missing map key under missingkey=default; prints `<no value>`
_MAX_DEPTH = 100000  # Go's maxExecDepth for {{template}} recursion


class ExecError(Exception):
    """An execution error: `message` is Go's text (`template: output:1:2: executing "output" at <.x>: ...`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Executor:
    def __init__(self, src: str, templates: dict[str, list[Node]], allow_missing: bool) -> None:
        self.src = src
        self.templates = templates
        self.allow_missing = allow_missing
        self.out: list[str] = []
        self.name = "output"
        self.node: Node | None = None
        self.depth = 0

    def fail(self, msg: str) -> ExecError:
        n = self.node
        if n is None:
            return ExecError(f"template: {self.name}: {msg}")
        pos = n.pos
        before = self.src[:pos]
        nl = before.rfind("\n")
        col = pos if nl < 0 else pos - nl - 1
        line = 1 + before.count("\n")
        text = node_text(n)
        return ExecError(f'template: output:{line}:{col}: executing "{self.name}" at <{text}>: {msg}')

    def run(self, body: list[Node], data: Any) -> str:
        self.vars: list[tuple[str, Any]] = [("$", data)]
        self.walk_list(body, data)
        return "".join(self.out)

    def walk_list(self, body: list[Node], dot: Any) -> None:
        for n in body:
            self.walk(n, dot)

    def walk(self, n: Node, dot: Any) -> None:
        if isinstance(n, Text):
            self.out.append(n.text)
        elif isinstance(n, Action):
            val = self.pipe(n.pipe, dot)
            if not n.pipe.decls:
                self.node = n
                self.out.append(go_sprint(val))
        elif isinstance(n, Branch):
            mark = len(self.vars)
            if n.kind == "range":
                self.range(n, dot)
            else:
                val = self.pipe(n.pipe, dot)
                if truth(val):
                    self.walk_list(n.body, val if n.kind == "with" else dot)
                elif n.else_body is not None:
                    self.walk_list(n.else_body, dot)
            del self.vars[mark:]
        elif isinstance(n, TemplateCall):
            body = self.templates.get(n.name)
            self.node = n
            if body is None:
                raise self.fail(f"template {n.name!r} not defined".replace("'", '"'))
            new_dot = self.pipe(n.pipe, dot) if n.pipe else None
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise self.fail(f"exceeded maximum template depth ({_MAX_DEPTH})")
            saved, saved_name = self.vars, self.name
            self.vars, self.name = [("$", new_dot)], n.name
            self.walk_list(body, new_dot)
            self.vars, self.name = saved, saved_name
            self.depth -= 1
        elif isinstance(n, Loop):
            raise _Break() if n.kind == "break" else _Continue()

    def range(self, n: Branch, dot: Any) -> None:
        val = self.pipe(n.pipe, dot, branch=True)
        last = n.pipe.cmds[-1]
        self.node = last.args[0] if len(last.args) == 1 else last
        items: list[tuple[Any, Any]]
        if isinstance(val, list):
            items = list(enumerate(val))
        elif isinstance(val, dict):
            items = [(k, val[k]) for k in sorted(val)]
        elif _is_int(val):
            if len(n.pipe.decls) > 1:
                raise self.fail(f"can't use {val} to iterate over more than one variable")
            items = [(i, i) for i in range(val)]
        elif val is None or val is MISSING:
            items = []
        else:
            raise self.fail(f"range can't iterate over {go_sprint(val)}")
        mark = len(self.vars)
        decls = n.pipe.decls
        for k, v in items:
            del self.vars[mark:]
            if len(decls) == 1:
                self.setvar(decls[0], v, n.pipe.is_assign)
            elif decls:
                self.setvar(decls[0], k, n.pipe.is_assign)
                self.setvar(decls[1], v, n.pipe.is_assign)
            try:
                self.walk_list(n.body, v)
            except _Break:
                break
            except _Continue:
                pass
        del self.vars[mark:]
        if not items and n.else_body is not None:
            self.walk_list(n.else_body, dot)

    def setvar(self, name: str, value: Any, assign: bool) -> None:
        if assign:
            for i in range(len(self.vars) - 1, -1, -1):
                if self.vars[i][0] == name:
                    self.vars[i] = (name, value)
                    return
            raise self.fail(f"undefined variable: {name}")
        self.vars.append((name, value))

    def getvar(self, name: str) -> Any:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        raise self.fail(f"undefined variable: {name}")

    def pipe(self, p: Pipe, dot: Any, branch: bool = False) -> Any:
        val: Any = MISSING
        first = True
        for cmd in p.cmds:
            val = self.command(cmd, dot, None if first else val, not first)
            if val is None:  # Go turns a nil interface{} into the invalid value at each stage: it prints <no value>
                val = MISSING
            first = False
        if p.decls and not branch:  # range declares its variables per element (see range)
            for d in p.decls:
                self.setvar(d, val, p.is_assign)
        return val

    def command(self, cmd: Command, dot: Any, final: Any, has_final: bool) -> Any:
        first = cmd.args[0]
        if isinstance(first, Ident):
            return self.call(first, cmd.args[1:], dot, final, has_final, cmd)
        if isinstance(first, Field):
            return self.field_chain(dot, first.names, first, cmd.args[1:], final, has_final)
        if isinstance(first, Chain):
            base = self.arg(first.node, dot)
            self.node = first
            return self.field_chain(base, first.names, first, cmd.args[1:], final, has_final)
        if isinstance(first, Nil):
            self.node = first
            raise self.fail("nil is not a command")
        if len(cmd.args) > 1 or has_final:
            self.node = first
            raise self.fail(f"can't give argument to non-function {node_text(first)}")
        return self.arg(first, dot)

    def arg(self, n: Node, dot: Any) -> Any:
        self.node = n
        if isinstance(n, Literal):
            return n.value
        if isinstance(n, Dot):
            return dot
        if isinstance(n, Nil):
            return None
        if isinstance(n, Var):
            val = self.getvar(n.name)
            return self.field_chain(val, n.names, n, [], None, False) if n.names else val
        if isinstance(n, Field):
            return self.field_chain(dot, n.names, n, [], None, False)
        if isinstance(n, Chain):
            base = self.arg(n.node, dot)
            return self.field_chain(base, n.names, n, [], None, False)
        if isinstance(n, Pipe):
            mark = len(self.vars)
            v = self.pipe(n, dot)
            del self.vars[mark:]
            return v
        if isinstance(n, Ident):
            return self.call(n, [], dot, None, False)
        raise self.fail(f"can't handle {node_text(n)}")

    def field_chain(
        self, recv: Any, names: list[str], node: Node, args: list[Node], final: Any, has_final: bool
    ) -> Any:
        for i, name in enumerate(names):
            self.node = node
            last = i == len(names) - 1
            if last and (args or has_final):
                if isinstance(recv, dict):
                    raise self.fail(f"{name} is not a method but has arguments")
            recv = self.field(recv, name)
        return recv

    def field(self, recv: Any, name: str) -> Any:
        if isinstance(recv, dict):
            if name in recv:
                return recv[name]
            if not self.allow_missing:
                raise self.fail(f'map has no entry for key "{name}"')
            return MISSING
        if recv is MISSING:  # Go: a field of an invalid value is invalid, unless missingkey=error
            if not self.allow_missing:
                raise self.fail(f'nil data; no entry for key "{name}"')
            return MISSING
        if recv is None:
            raise self.fail(f"nil pointer evaluating interface {{}}.{name}")
        raise self.fail(f"can't evaluate field {name} in type interface {{}}")

    def call(
        self, ident: Ident, arg_nodes: list[Node], dot: Any, final: Any, has_final: bool, cmd: Node | None = None
    ) -> Any:
        name = ident.name
        if name in ("and", "or"):
            vals = []
            n = len(arg_nodes) + (1 if has_final else 0)
            if n < 1:
                self.node = ident
                raise self.fail(f"wrong number of args for {name}: want at least 1 got 0")
            for a in arg_nodes:
                v = self.arg(a, dot)
                vals.append(v)
                if truth(v) == (name == "or"):
                    return v
            if has_final:
                return final
            return vals[-1]
        args = [self.arg(a, dot) for a in arg_nodes]
        if name == "len" and args and args[0] is MISSING:
            self.node = cmd or ident
            raise self.fail("error calling len: reflect: call of reflect.Value.Type on zero Value")
        args = [None if a is MISSING else a for a in args]  # an invalid value passed to a function is a nil
        if has_final:
            args.append(final)
        self.node = cmd or ident
        if name == "call" and args:
            if args[0] is None:
                raise self.fail("error calling call: call of nil")
            what = node_text(arg_nodes[0]) if arg_nodes else "<nil>"
            raise self.fail(f"error calling call: non-function {what} of type {type_name(args[0])}")
        if name == "base64decode" and len(args) == 1 and not isinstance(args[0], str):
            self.node = arg_nodes[0] if arg_nodes else self.node
            raise self.fail(f"wrong type for value; expected string; got {type_name(args[0])}")
        try:
            return _call(name, args)
        except _FuncError as exc:
            raise self.fail(f"error calling {name}: {exc}" if exc.calling else str(exc)) from None


class _FuncError(Exception):
    def __init__(self, message: str, calling: bool = True) -> None:
        super().__init__(message)
        self.calling = calling


def type_name(v: Any) -> str:
    """Go's name of a value's type: the template's integer constants are `int`, the data's integers `int64`."""
    if isinstance(v, LitInt):
        return "int"
    return "<nil>" if v is None else _go_type(v)


def truth(v: Any) -> bool:
    if v is MISSING or v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, str | list | dict):
        return len(v) > 0
    if isinstance(v, int | float):
        return v != 0
    return True


def _want(name: str, args: list[Any], n: int) -> None:
    if len(args) != n:
        raise _FuncError(f"wrong number of args for {name}: want {n} got {len(args)}", calling=False)


def _basic(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if _is_int(v):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "other"


def _eq(a: Any, b: Any) -> bool:
    ka, kb = _basic(a), _basic(b)
    if a is MISSING or b is MISSING:
        raise _FuncError("invalid type for comparison")
    if ka == "other" or kb == "other":
        if a is None or b is None:
            return a is None and b is None
        bad = b if kb == "other" else a
        raise _FuncError(f"non-comparable type {printf('%s', [bad])}: {type_name(bad)}")
    if ka != kb:
        raise _FuncError(f"incompatible types for comparison: {type_name(a)} and {type_name(b)}")
    return bool(a == b)


def _lt(a: Any, b: Any) -> bool:
    ka, kb = _basic(a), _basic(b)
    if ka in ("other", "bool") or kb in ("other", "bool"):
        raise _FuncError("invalid type for comparison")
    if ka != kb:
        raise _FuncError(f"incompatible types for comparison: {type_name(a)} and {type_name(b)}")
    if isinstance(a, str):
        return bool(a.encode() < str(b).encode())
    return bool(a < b)


def _call(name: str, args: list[Any]) -> Any:
    if name == "not":
        _want(name, args, 1)
        return not truth(args[0])
    if name == "len":
        _want(name, args, 1)
        v = args[0]
        if isinstance(v, str):
            return len(v.encode())
        if isinstance(v, list | dict):
            return len(v)
        raise _FuncError(
            f"len of type {_go_type(v) if v is not None else 'nil'}" if v is not MISSING else "len of nil pointer"
        )
    if name == "index":
        if not args:
            raise _FuncError("wrong number of args for index: want at least 1 got 0", calling=False)
        item = args[0]
        if item is None or item is MISSING:
            raise _FuncError("index of untyped nil")
        for ix in args[1:]:
            if isinstance(item, list | str):
                if not _is_int(ix):
                    raise _FuncError(
                        f"cannot index slice/array with type {_go_type(ix)}"
                        if ix is not None
                        else "cannot index slice/array with nil"
                    )
                if ix < 0 or ix >= len(item if isinstance(item, list) else item.encode()):
                    raise _FuncError(f"index out of range: {ix}")
                item = item[ix] if isinstance(item, list) else item.encode()[ix]
            elif isinstance(item, dict):
                if not isinstance(ix, str):
                    raise _FuncError(
                        f"value has type {type_name(ix)}; should be string"
                        if ix is not None
                        else "value is nil; should be of type string"
                    )
                item = item.get(ix)
            elif item is None:
                raise _FuncError("index of nil pointer")
            else:
                raise _FuncError(f"can't index item of type {type_name(item)}")
        return item
    if name == "slice":
        if not args:
            raise _FuncError("wrong number of args for slice: want at least 1 got 0", calling=False)
        item, idx = args[0], args[1:]
        if item is None or item is MISSING:
            raise _FuncError("slice of untyped nil")
        if not isinstance(item, list | str):
            raise _FuncError(f"can't slice item of type {_go_type(item)}")
        if len(idx) > 3 or (isinstance(item, str) and len(idx) > 2):
            raise _FuncError(
                f"too many slice indexes: {len(idx)}"
                if not isinstance(item, str) or len(idx) > 3
                else "cannot 3-index slice a string"
            )
        n = len(item) if isinstance(item, list) else len(item.encode())
        bounds = [0, n]
        for i, x in enumerate(idx[:2]):
            if not _is_int(x):
                raise _FuncError(f"cannot index slice/array with type {_go_type(x)}")
            if x < 0 or x > n:
                raise _FuncError(f"index out of range: {x}")
            bounds[i] = x
        if bounds[0] > bounds[1]:
            raise _FuncError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
        if isinstance(item, str):
            return item.encode()[bounds[0] : bounds[1]].decode("utf-8", "replace")
        return item[bounds[0] : bounds[1]]
    if name == "print":
        return go_sprint_args(args, False)
    if name == "println":
        return go_sprint_args(args, True) + "\n"
    if name == "printf":
        if not args or not isinstance(args[0], str):
            raise _FuncError("wrong number of args for printf: want at least 1 got 0", calling=False)
        return printf(args[0], args[1:])
    if name in ("eq", "ne"):
        if len(args) < 2 and name == "eq":
            raise _FuncError("missing argument for comparison")
        if name == "ne":
            _want(name, args, 2)
            return not _eq(args[0], args[1])
        return any(_eq(args[0], b) for b in args[1:])
    if name in ("lt", "le", "gt", "ge"):
        _want(name, args, 2)
        a, b = args
        if name == "lt":
            return _lt(a, b)
        if name == "le":
            return _lt(a, b) or _eq(a, b)
        if name == "gt":
            return not (_lt(a, b) or _eq(a, b))
        return not _lt(a, b)
    if name == "html":
        return html_escape(go_sprint_args(args, False))
    if name == "js":
        return js_escape(go_sprint_args(args, False))
    if name == "urlquery":
        return urllib.parse.quote_plus(go_sprint_args(args, False), safe="-_.~")
    if name == "call":
        if not args:
            raise _FuncError("wrong number of args for call: want at least 1 got 0", calling=False)
        raise _FuncError(f"non-function of type {_go_type(args[0]) if args[0] is not None else 'interface {}'}")
    if name == "exists":
        if not args:
            raise _FuncError("wrong number of args for exists: want at least 1 got 0", calling=False)
        item = args[0]  # kubectl's exists (cli-runtime printers/jsonpath.go): a null on the way or at the end is false
        for ix in args[1:]:
            if item is None:
                return False
            if isinstance(item, dict) and isinstance(ix, str):
                item = item.get(ix)
            elif isinstance(item, list | str) and _is_int(ix) and 0 <= ix < len(item):
                item = item[ix]
            else:
                return False
        return item is not None
    if name == "base64decode":
        _want(name, args, 1)
        if not isinstance(args[0], str):
            raise _FuncError(f"wrong type for value; expected string; got {_go_type(args[0])}", calling=False)
        try:
            return base64.b64decode(args[0], validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError) as exc:
            raise _FuncError(f"base64 decode failed: illegal base64 data at input byte {_bad_b64(args[0])}") from exc
    raise _FuncError(f'"{name}" is not a defined function', calling=False)


def _bad_b64(s: str) -> int:
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    for i, c in enumerate(s):
        if c == "=":
            return i
        if c not in alphabet and c not in "\r\n":
            return i
    return len(s) - len(s) % 4


def go_sprint_args(args: list[Any], spaces: bool) -> str:
    """fmt.Sprint (a space between operands when neither is a string) or fmt.Sprintln (always)."""
    out: list[str] = []
    for i, a in enumerate(args):
        if i and (spaces or (not isinstance(a, str) and not isinstance(args[i - 1], str))):
            out.append(" ")
        out.append(go_sprint(a))
    return "".join(out)


def html_escape(s: str) -> str:
    table = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;", "\0": "\ufffd"}
    return "".join(table.get(c, c) for c in s)


def js_escape(s: str) -> str:
    out = []
    for c in s:
        if c == "\\":
            out.append("\\\\")
        elif c == "'":
            out.append("\\'")
        elif c == '"':
            out.append('\\"')
        elif c in "<>&=":
            out.append(f"\\u{ord(c):04X}")
        elif ord(c) < 0x20 or (ord(c) >= 0x80 and not c.isprintable()):
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


__all__ = ["MISSING", "ExecError", "Executor", "_go_quote"]
