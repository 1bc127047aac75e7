"""Go text/template's parser: tokens -> a tree of nodes, with Go's parse-time checks (undefined variables and
functions, misplaced `{{end}}`/`{{else}}`). Templates named by `define`/`block` go to a table beside the main tree."""

from __future__ import annotations

import ast
from dataclasses import field
from typing import Any

from ...core.records import record
from .lexer import ParseError, Token, lex


@record
class Node:
    pos: int


class LitInt(int):
    """An integer constant of the template: Go's `int`, where the data's integers are `int64` (as %!d(int=1) says)."""


@record
class Text(Node):
    text: str


@record
class Literal(Node):
    value: Any
    src: str


@record
class Dot(Node):
    pass


@record
class Nil(Node):
    pass


@record
class Field(Node):
    names: list[str]


@record
class Var(Node):
    name: str
    names: list[str] = field(default_factory=list)


@record
class Ident(Node):
    name: str


@record
class Chain(Node):
    node: Node
    names: list[str]


@record
class Command(Node):
    args: list[Node]


@record
class Pipe(Node):
    decls: list[str]
    is_assign: bool
    cmds: list[Command]
    paren: bool = False


@record
class Action(Node):
    pipe: Pipe


@record
class Branch(Node):
    kind: str  # if, range, with
    pipe: Pipe
    body: list[Node]
    else_body: list[Node] | None


@record
class TemplateCall(Node):
    name: str
    pipe: Pipe | None


@record
class Loop(Node):
    kind: str  # break, continue


FUNCS = {
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge",
    "html", "js", "urlquery", "call", "exists", "base64decode",
}  # fmt: skip


def node_text(n: Node) -> str:
    """Go's String() of a node, as execution errors quote it after `at <`."""
    if isinstance(n, Literal):
        return n.src
    if isinstance(n, Dot):
        return "."
    if isinstance(n, Nil):
        return "nil"
    if isinstance(n, Field):
        return "".join("." + x for x in n.names)
    if isinstance(n, Var):
        return n.name + "".join("." + x for x in n.names)
    if isinstance(n, Ident):
        return n.name
    if isinstance(n, Chain):
        inner = node_text(n.node)
        if isinstance(n.node, Pipe):
            inner = "(" + inner + ")"
        return inner + "".join("." + x for x in n.names)
    if isinstance(n, Command):
        parts = []
        for a in n.args:
            t = node_text(a)
            parts.append("(" + t + ")" if isinstance(a, Pipe) else t)
        return " ".join(parts)
    if isinstance(n, Pipe):
        text = " | ".join(node_text(c) for c in n.cmds)
        if n.decls:
            text = ", ".join(n.decls) + (" = " if n.is_assign else " := ") + text
        return text
    if isinstance(n, Action):
        return "{{" + node_text(n.pipe) + "}}"
    if isinstance(n, TemplateCall):
        return "{{template " + '"' + n.name + '"' + (" " + node_text(n.pipe) if n.pipe else "") + "}}"
    return ""


class _Parser:
    def __init__(self, src: str) -> None:
        self.toks = lex(src)
        self.i = 0
        self.templates: dict[str, list[Node]] = {}
        self.vars: list[str] = ["$"]
        self.loop_depth = 0

    def peek(self, skip_space: bool = True) -> Token:
        j = self.i
        while skip_space and self.toks[j].kind == "space":
            j += 1
        return self.toks[j]

    def next(self, skip_space: bool = True) -> Token:
        while skip_space and self.toks[self.i].kind == "space":
            self.i += 1
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def error(self, msg: str, tok: Token) -> ParseError:
        return ParseError(msg, tok.line)

    # --- lists

    def parse(self) -> list[Node]:
        body, _end = self.item_list(top=True)
        return body

    def item_list(self, top: bool = False) -> tuple[list[Node], str]:
        """Items until {{end}} or {{else}} (returned as the terminator) or EOF at top level."""
        out: list[Node] = []
        while True:
            t = self.next(skip_space=False)
            if t.kind == "eof":
                if top:
                    return out, "eof"
                raise self.error("unexpected EOF", t)
            if t.kind == "text":
                out.append(Text(t.pos, t.value))
                continue
            # left delim
            kw = self.peek()
            if kw.kind == "keyword" and kw.value in ("end", "else"):
                self.next()
                if top:
                    raise self.error(f"unexpected {{{{{kw.value}}}}}", kw)
                if kw.value == "end":
                    self.expect_right("end")
                return out, kw.value
            node = self.action()
            if node is not None:
                out.append(node)

    def expect_right(self, context: str) -> None:
        t = self.next()
        if t.kind != "right":
            raise self.error(f"unexpected {_desc(t)} in {context}", t)

    def action(self) -> Node | None:
        t = self.peek()
        if t.kind == "keyword":
            if t.value in ("if", "range", "with"):
                self.next()
                return self.branch(t)
            if t.value in ("define", "block"):
                self.next()
                return self.define(t)
            if t.value == "template":
                self.next()
                return self.template_call(t)
            if t.value in ("break", "continue"):
                self.next()
                if not self.loop_depth:
                    raise self.error(f"{{{{{t.value}}}}} outside {{{{range}}}}", t)
                nxt = self.next()
                if nxt.kind != "right":
                    raise self.error(f"unexpected {_desc(nxt)} in {{{{{t.value}}}}}", nxt)
                return Loop(t.pos, t.value)
        start = self.peek()
        pipe = self.pipeline("command", "right")
        return Action(start.pos, pipe)

    def branch(self, kw: Token) -> Node:
        mark = len(self.vars)
        pipe = self.pipeline(kw.value, "right")
        if kw.value == "range":
            self.loop_depth += 1
        body, end = self.item_list()
        if kw.value == "range":
            self.loop_depth -= 1
        else_body: list[Node] | None = None
        if end == "else":
            nxt = self.peek()
            if nxt.kind == "keyword" and nxt.value in ("if", "with"):
                if kw.value == "range":
                    raise self.error(f"unexpected {_desc(nxt)} in input", nxt)
                # {{else if ...}} / {{else with ...}}: a nested branch that shares our {{end}}
                if nxt.value != kw.value:
                    raise self.error(f"unexpected {_desc(nxt)} in input", nxt)
                self.next()
                else_body = [self.branch(nxt)]
            else:
                self.expect_right("else")
                else_body, end2 = self.item_list()
                if end2 != "end":
                    raise self.error("expected end; found {{else}}", nxt)
        del self.vars[mark:]
        return Branch(kw.pos, kw.value, pipe, body, else_body)

    def define(self, kw: Token) -> Node | None:
        t = self.next()
        if t.kind not in ("string", "rawstring"):
            raise self.error(f"unexpected {_desc(t)} in {kw.value} clause", t)
        name = _unquote(t, self)
        pipe = None
        if kw.value == "block":
            pipe = self.pipeline("block clause", "right")
        else:
            self.expect_right("define clause")
        saved_vars, saved_loop = self.vars, self.loop_depth
        self.vars, self.loop_depth = ["$"], 0
        body, end = self.item_list()
        if end != "end":
            raise self.error(f"unexpected {{{{else}}}} in {kw.value} clause", t)
        self.vars, self.loop_depth = saved_vars, saved_loop
        if name in self.templates and self.templates[name] and _nonempty(body):
            raise self.error(f"template: multiple definition of template {name!r}".replace("'", '"'), t)
        if name not in self.templates or _nonempty(body):
            self.templates[name] = body
        return TemplateCall(kw.pos, name, pipe) if kw.value == "block" else None

    def template_call(self, kw: Token) -> Node:
        t = self.next()
        if t.kind not in ("string", "rawstring"):
            raise self.error(f"unexpected {_desc(t)} in template clause", t)
        name = _unquote(t, self)
        pipe = None
        if self.peek().kind != "right":
            pipe = self.pipeline("template clause", "right")
        else:
            self.next()
        return TemplateCall(t.pos, name, pipe)

    # --- pipelines

    def pipeline(self, context: str, end: str) -> Pipe:
        start = self.peek()
        decls: list[str] = []
        is_assign = False
        # declarations: $x := or $x, $y :=
        save = self.i
        t = self.peek()
        if t.kind == "var":
            self.next()
            nxt = self.peek()
            if nxt.kind in ("declare", "assign"):
                self.next()
                decls = [t.value]
                is_assign = nxt.kind == "assign"
            elif nxt.kind == "comma" and context in ("range",):
                self.next()
                t2 = self.next()
                if t2.kind != "var":
                    raise self.error("range can only initialize variables", t2)
                op = self.next()
                if op.kind not in ("declare", "assign"):
                    raise self.error("range can only initialize variables", op)
                decls = [t.value, t2.value]
                is_assign = op.kind == "assign"
            else:
                self.i = save
        if decls:
            for d in decls:
                if not is_assign:  # an assignment to an undeclared variable fails when it runs, as in Go
                    self.vars.append(d)
        cmds: list[Command] = []
        while True:
            t = self.peek()
            if t.kind == end:
                self.next()
                if not cmds:
                    raise self.error(f"missing value for {context}", t)
                break
            cmd = self.command(end)
            cmds.append(cmd)
            t = self.peek()
            if t.kind == "pipe":
                self.next()
                continue
        for c in cmds[1:]:
            first = c.args[0]
            if isinstance(first, Literal | Nil | Dot):
                raise self.error(f"non executable command in pipeline stage {cmds.index(c) + 1}", start)
        return Pipe(start.pos, decls, is_assign, cmds)

    def command(self, end: str) -> Command:
        args: list[Node] = []
        start = self.peek()
        while True:
            t = self.peek(skip_space=False)
            if t.kind == "space":
                self.next(skip_space=False)
                continue
            if args and (t.kind in (end, "pipe") or (end == "rparen" and t.kind == "right")):
                break
            if t.kind == "rparen" and end != "rparen":
                raise self.error("unexpected right paren", t)
            if t.kind in ("pipe", "comma", "declare", "assign", "right", "eof", "rparen"):
                raise self.error(f"unexpected {_desc(t)} in command", t)
            args.append(self.operand())
        return Command(start.pos, args)

    def operand(self) -> Node:
        t = self.next(skip_space=False)
        node: Node
        if t.kind == "field":  # Go places a chain `.a.b` at its second field
            node = Field(t.pos, [t.value[1:]])
            if self.peek(skip_space=False).kind == "field":
                node.pos = self.peek(skip_space=False).pos
            while self.peek(skip_space=False).kind == "field":
                node.names.append(self.next(skip_space=False).value[1:])
            return node
        if t.kind == "var":
            if t.value not in self.vars:
                raise self.error(f'undefined variable "{t.value}"', t)
            node = Var(t.pos, t.value)
            if self.peek(skip_space=False).kind == "field":
                node.pos = self.peek(skip_space=False).pos
            while self.peek(skip_space=False).kind == "field":
                node.names.append(self.next(skip_space=False).value[1:])
            return node
        if t.kind == "dot":
            node = Dot(t.pos)
        elif t.kind == "keyword" and t.value == "nil":
            node = Nil(t.pos)
        elif t.kind == "ident":
            if t.value not in FUNCS:
                raise self.error(f'function "{t.value}" not defined', t)
            node = Ident(t.pos, t.value)
        elif t.kind == "bool":
            node = Literal(t.pos, t.value == "true", t.value)
        elif t.kind in ("string", "rawstring"):
            node = Literal(t.pos, _unquote(t, self), t.value if t.kind == "string" else _go_quote_simple(t.value))
        elif t.kind == "char":
            node = Literal(t.pos, LitInt(ord(_unquote(t, self))), t.value)
        elif t.kind == "number":
            node = Literal(t.pos, _number(t, self), t.value)
        elif t.kind == "lparen":
            pipe = self.pipeline("parenthesized pipeline", "rparen")
            pipe.paren = True
            node = pipe
        else:
            raise self.error(f"unexpected {_desc(t)} in operand", t)
        if self.peek(skip_space=False).kind == "field":
            chain_pos = self.peek(skip_space=False).pos
            names = []
            while self.peek(skip_space=False).kind == "field":
                names.append(self.next(skip_space=False).value[1:])
            if isinstance(node, Literal | Nil | Ident):
                raise self.error(f"unexpected . after term {_go_quote_simple(chr(34) + node_text(node) + chr(34))}", t)
            node = Chain(chain_pos, node, names)
        return node


def _nonempty(body: list[Node]) -> bool:
    return any(not (isinstance(n, Text) and not n.text.strip()) for n in body)


def _desc(t: Token) -> str:
    """Go's item.String()."""
    if t.kind == "eof":
        return "EOF"
    if t.kind == "keyword":
        return f"<{t.value}>"
    value = "}}" if t.kind == "right" else t.value
    quoted = _go_quote_simple('"' + value + '"')
    return quoted if len(value) <= 10 else _go_quote_simple('"' + value[:10] + '"') + "..."


def _go_quote_simple(raw: str) -> str:
    return '"' + raw[1:-1].replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(t: Token, p: _Parser) -> str:
    if t.kind == "rawstring":
        return t.value[1:-1].replace("\r", "")
    body = t.value[1:-1]
    if t.kind == "char":
        try:
            v = ast.literal_eval("'" + body + "'")
        except (ValueError, SyntaxError):
            v = ""
        if len(v) != 1:
            raise p.error(f"malformed character constant: {t.value}", t)
        return str(v)
    try:
        return str(ast.literal_eval('"' + body + '"'))
    except (ValueError, SyntaxError) as exc:
        raise p.error(f"invalid syntax: {t.value}", t) from exc


def _number(t: Token, p: _Parser) -> int | float:
    text = t.value.replace("_", "")
    try:
        low = text.lower().lstrip("+-")
        if low.startswith(("0x", "0o", "0b")) and "p" not in low:
            return LitInt(int(text, 0))
        if "." in text or "e" in low or "p" in low:
            return float.fromhex(text) if low.startswith("0x") else float(text)
        if len(low) > 1 and low.startswith("0"):
            return LitInt(int(text, 8))
        return LitInt(int(text))
    except ValueError as exc:
        raise p.error(f"bad number syntax: {t.value!r}".replace("'", '"'), t) from exc


def parse(src: str) -> tuple[list[Node], dict[str, list[Node]]]:
    p = _Parser(src)
    body = p.parse()
    return body, p.templates
