"""Go's fmt as templates use it: Sprint of a value (`<no value>` for an invalid one) and Sprintf's common verbs."""

from __future__ import annotations

import re
from typing import Any

from ..jsonpath.gofmt import _INVALID, _go_float, _go_quote, _go_type, _is_int, _sprint
from .parser import LitInt

_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(?:\[(\d+)\])?(.)", re.S)


def go_sprint(v: Any) -> str:
    if v is _INVALID:
        return "<no value>"
    return _sprint(v)


def _type(v: Any) -> str:
    if isinstance(v, LitInt):
        return "int"
    return "<nil>" if v is None else _go_type(v)


def _pad(s: str, flags: str, width: int | None, numeric: bool = False) -> str:
    if width is None or len(s) >= width:
        return s
    if "-" in flags:
        return s + " " * (width - len(s))
    if "0" in flags and numeric:
        sign = s[0] if s[:1] in "+-" else ""
        return sign + "0" * (width - len(s)) + s[len(sign) :]
    return " " * (width - len(s)) + s


def _bad(verb: str, v: Any) -> str:
    return f"%!{verb}({_type(v)}={go_sprint(v)})" if v is not None else f"%!{verb}(<nil>)"


def _format(verb: str, flags: str, width: int | None, prec: int | None, v: Any, nested: bool = False) -> str:
    if verb == "T":
        return _pad(_type(v), flags, width)
    if verb == "U" and _is_int(v):
        return _pad(f"U+{v:04X}", flags, width)
    if isinstance(v, list):  # fmt applies the verb to each element (and to each key and value of a map)
        return "[" + " ".join(_format(verb, flags, width, prec, x, True) for x in v) + "]"
    if isinstance(v, dict):
        return (
            "map["
            + " ".join(
                f"{_format(verb, flags, width, prec, k, True)}:{_format(verb, flags, width, prec, v[k], True)}"
                for k in sorted(v)
            )
            + "]"
        )
    if v is None and nested:
        return _pad("<nil>", flags, width)
    if verb in "v":
        if isinstance(v, float):
            return _pad(_go_float(v) if prec is None else f"{v:.{prec}g}", flags, width)
        return _pad(go_sprint(v), flags, width)
    if verb == "s":
        if isinstance(v, str):
            return _pad(v if prec is None else v[:prec], flags, width)
        if isinstance(v, list):
            return "[" + " ".join(_format("s", flags, width, prec, x) for x in v) + "]"
        if isinstance(v, dict):
            return (
                "map["
                + " ".join(
                    f"{_format('s', flags, width, prec, k)}:{_format('s', flags, width, prec, v[k])}" for k in sorted(v)
                )
                + "]"
            )
        return _bad(verb, v)
    if verb == "q":
        if isinstance(v, str):
            return _pad(_go_quote(v), flags, width)
        if _is_int(v):
            return _pad("'" + _go_quote(chr(v))[1:-1].replace("'", "\\'") + "'", flags, width)
        if isinstance(v, list):
            return "[" + " ".join(_format("q", flags, width, prec, x) for x in v) + "]"
        return _bad(verb, v)
    if verb == "t":
        return _pad(("true" if v else "false"), flags, width) if isinstance(v, bool) else _bad(verb, v)
    if verb in "dboxXc":
        if _is_int(v):
            if verb == "c":
                return _pad(chr(v), flags, width)
            base = {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}[verb]
            s = format(abs(v), base)
            if prec is not None and len(s) < prec:
                s = "0" * (prec - len(s)) + s
            if "#" in flags and verb in "xX":
                s = ("0x" if verb == "x" else "0X") + s
            sign = "-" if v < 0 else "+" if "+" in flags else " " if " " in flags else ""
            return _pad(sign + s, flags, width, numeric=True)
        if verb in "xX" and isinstance(v, str):
            s = v.encode().hex()
            return _pad(s.upper() if verb == "X" else s, flags, width)
        if verb in "xX" and isinstance(v, float):
            return _bad(verb, v) if False else _pad(float.hex(v), flags, width)
        if isinstance(v, list):
            return "[" + " ".join(_format(verb, flags, width, prec, x) for x in v) + "]"
        return _bad(verb, v)
    if verb in "feEgG":
        if isinstance(v, float) or (_is_int(v) and False):
            p = 6 if prec is None else prec
            if verb in "gG" and prec is None:
                s = _go_float(v) if verb == "g" else _go_float(v).upper()
            else:
                s = f"{v:{'+' if '+' in flags else ''}.{p}{verb}}"
                if verb in "eE":
                    s = re.sub(r"([eE][+-])(\d)$", r"\g<1>0\2", s)
            if "+" in flags and not s.startswith(("+", "-")):
                s = "+" + s
            return _pad(s, flags, width, numeric=True)
        return _bad(verb, v)
    return f"%!{verb}({_type(v)}={go_sprint(v)})"


def printf(fmt: str, args: list[Any]) -> str:
    out: list[str] = []
    pos = 0
    argi = 0
    while True:
        j = fmt.find("%", pos)
        if j < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:j])
        m = _VERB.match(fmt, j)
        if m is None:
            out.append("%!(NOVERB)")
            break
        flags, width_s, prec_s, argnum, verb = m.groups()
        if argnum is not None:
            argi = int(argnum) - 1
        pos = m.end()
        if verb == "%":
            out.append("%")
            continue
        width = prec = None
        if width_s == "*":
            width = args[argi] if argi < len(args) and _is_int(args[argi]) else None
            argi += 1
        elif width_s:
            width = int(width_s)
        if prec_s == "*":
            prec = args[argi] if argi < len(args) and _is_int(args[argi]) else None
            argi += 1
        elif prec_s is not None:
            prec = int(prec_s) if prec_s else 0
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_format(verb, flags, width, prec, args[argi]))
        argi += 1
    if argi < len(args):
        extra = ", ".join(f"{_type(a)}={go_sprint(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
