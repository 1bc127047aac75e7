"""Go text/template's lexer: template text -> tokens, with `{{-`/`-}}` trimming and `{{/* */}}` comments applied."""

from __future__ import annotations

from ...core.records import record

KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue", "nil"}
_SPACE = " \t\r\n"


class ParseError(Exception):
    """A template that does not parse; `message` is Go's text after `template: output:LINE: `."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@record
class Token:
    kind: str  # text, left, right, space, ident, keyword, field, var, dot, string, rawstring, char, number, bool,
    # pipe, lparen, rparen, declare, assign, comma, eof
    value: str
    pos: int
    line: int


def _line(src: str, pos: int) -> int:
    return 1 + src.count("\n", 0, pos)


def lex(src: str) -> list[Token]:
    toks: list[Token] = []
    i, n = 0, len(src)
    trim_next = False
    while i < n:
        j = src.find("{{", i)
        end = n if j < 0 else j
        text = src[i:end]
        if trim_next:
            text = text.lstrip(_SPACE)
            trim_next = False
        if j >= 0 and src.startswith("{{-", j) and j + 3 < n and src[j + 3] in _SPACE:
            text = text.rstrip(_SPACE)
        if text:
            toks.append(Token("text", text, i, _line(src, i)))
        if j < 0:
            break
        i = _lex_action(src, j, toks)
        if toks and toks[-1].kind == "right" and toks[-1].value == "-":
            trim_next = True
        elif toks and toks[-1].kind == "comment" and toks[-1].value == "-":
            trim_next = True
    toks = [t for t in toks if t.kind != "comment"]
    toks.append(Token("eof", "", n, _line(src, n)))
    return toks


def _right_at(src: str, i: int) -> tuple[bool, bool]:
    """Is there a right delimiter at i (optionally ` -}}`)? -> (found, trim)."""
    if src.startswith("}}", i):
        return True, False
    if src[i] in _SPACE and src.startswith("-}}", i + 1):
        return True, True
    return False, False


def _lex_action(src: str, start: int, toks: list[Token]) -> int:
    n = len(src)
    i = start + 2
    if src.startswith("-", i) and i + 1 < n and src[i + 1] in _SPACE:
        i += 2
    # comment
    k = i
    while k < n and src[k] in _SPACE and src[start + 2] == "-":
        k += 1
    if src.startswith("/*", k):
        close = src.find("*/", k + 2)
        if close < 0:
            raise ParseError("unclosed comment", _line(src, start))
        k = close + 2
        if src.startswith("}}", k):
            toks.append(Token("comment", "", start, _line(src, start)))
            return k + 2
        if src.startswith(" -}}", k) or (k < n and src[k] in _SPACE and src.startswith("-}}", k + 1)):
            toks.append(Token("comment", "-", start, _line(src, start)))
            return k + 4
        raise ParseError("comment ends before closing delimiter", _line(src, start))
    toks.append(Token("left", "", start, _line(src, start)))
    depth = 0
    while True:
        if i >= n:
            raise ParseError("unclosed action", _line(src, start))
        if src[i] in _SPACE:
            found, trim = _right_at(src, i)
            if found and trim:
                toks.append(Token("right", "-", i, _line(src, i)))
                return i + 4
            j = i
            while j < n and src[j] in _SPACE:
                j += 1
            if "\n" in src[i:j] and False:
                pass
            toks.append(Token("space", src[i:j], i, _line(src, i)))
            i = j
            continue
        if src.startswith("}}", i):
            if depth:
                raise ParseError("unclosed left paren", _line(src, i))
            toks.append(Token("right", "", i, _line(src, i)))
            return i + 2
        c = src[i]
        line = _line(src, i)
        if c == "|":
            toks.append(Token("pipe", c, i, line))
            i += 1
        elif c == "(":
            depth += 1
            toks.append(Token("lparen", c, i, line))
            i += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise ParseError("unexpected right paren", line)
            toks.append(Token("rparen", c, i, line))
            i += 1
        elif c == ",":
            toks.append(Token("comma", c, i, line))
            i += 1
        elif src.startswith(":=", i):
            toks.append(Token("declare", ":=", i, line))
            i += 2
        elif c == "=":
            toks.append(Token("assign", "=", i, line))
            i += 1
        elif c == '"':
            j = i + 1
            while True:
                if j >= n or src[j] == "\n":
                    raise ParseError("unterminated quoted string", line)
                if src[j] == "\\":
                    j += 2
                    continue
                if src[j] == '"':
                    break
                j += 1
            toks.append(Token("string", src[i : j + 1], i, line))
            i = j + 1
        elif c == "`":
            j = src.find("`", i + 1)
            if j < 0:
                raise ParseError("unterminated raw quoted string", line)
            toks.append(Token("rawstring", src[i : j + 1], i, line))
            i = j + 1
        elif c == "'":
            j = i + 1
            while True:
                if j >= n or src[j] == "\n":
                    raise ParseError("unterminated character constant", line)
                if src[j] == "\\":
                    j += 2
                    continue
                if src[j] == "'":
                    break
                j += 1
            toks.append(Token("char", src[i : j + 1], i, line))
            i = j + 1
        elif c == "$":
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            toks.append(Token("var", src[i:j], i, line))
            i = j
        elif c == "." and not (i + 1 < n and src[i + 1].isdigit()):
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            toks.append(Token("field" if j > i + 1 else "dot", src[i:j], i, line))
            i = j
        elif c.isdigit() or c in "+-.":
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] in "._+-"):
                if src[j] in "+-" and src[j - 1] not in "eEpP":
                    break
                j += 1
            toks.append(Token("number", src[i:j], i, line))
            i = j
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            word = src[i:j]
            kind = "keyword" if word in KEYWORDS else "bool" if word in ("true", "false") else "ident"
            toks.append(Token(kind, word, i, line))
            i = j
        else:
            raise ParseError(f"bad character {_quote_rune(c)}", line)
        # a field chain directly after `)` or a var/field: Go lexes `.x` after these as a field; handled above


def _quote_rune(c: str) -> str:
    return f"U+{ord(c):04X} {c!r}"
