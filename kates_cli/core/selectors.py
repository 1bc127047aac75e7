"""Client-side evaluation of label and field selectors, and resourceVersion comparison.

Invariants:
- `Selector.matches(obj)` agrees with the API server for the label-selector grammar (=, ==, !=, in, notin, exists,
  !exists) and for equality field selectors on any dotted path (metadata.name, status.phase, ...).
- A selector that cannot be parsed raises UsageError at construction, never later; its message is one line
  (control characters in the input are escaped).
- `compare_rv` follows KEP-5504 (k8s.io/apimachinery util/resourceversion): a comparable resourceVersion is a
  decimal integer with no leading zeros and not "0"; anything else is incomparable (None).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import ApiError, UsageError
from .records import record

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from typing import Any

_LABEL_IN = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")
_VALUE = re.compile(r"[A-Za-z0-9_.-]*")
_TERM = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9_.-]*))?\s*$")


def shown(text: str) -> str:
    """User input inside a one-line message: control characters (newlines, NUL, ...) escaped as in Python."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    terms: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    terms.append("".join(cur))
    return [t for t in terms if t.strip()]


@record(frozen=True)
class _Req:
    """One requirement of a label selector: a key, an operator and its values."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()


class LabelSelector:
    def __init__(self, text: str | None):
        self.text = text or ""
        self.reqs: list[_Req] = []
        for term in _split_terms(self.text):
            m = _LABEL_IN.match(term)
            if m:
                values = tuple(v.strip() for v in m.group(3).split(","))  # as the server: "()" and "(x,)" hold ""
                if not all(_VALUE.fullmatch(v) for v in values):
                    raise UsageError(
                        f'invalid label selector "{shown(self.text)}": cannot parse "{shown(term.strip())}"'
                    )
                self.reqs.append(_Req(m.group(1), m.group(2), values))
                continue
            m = _TERM.match(term)
            if not m or (m.group(1) and m.group(3)):
                raise UsageError(f'invalid label selector "{shown(self.text)}": cannot parse "{shown(term.strip())}"')
            neg, key, op, value = m.groups()
            if op is None:
                self.reqs.append(_Req(key, "!exists" if neg else "exists"))
            else:
                self.reqs.append(_Req(key, "!=" if op == "!=" else "=", (value or "",)))

    def matches(self, labels: dict[str, str] | None) -> bool:
        labels = labels or {}
        for r in self.reqs:
            present = r.key in labels
            value = labels.get(r.key)
            want = r.values[0] if r.values else None  # exists/!exists have no value
            ok = {
                "exists": present,
                "!exists": not present,
                "=": present and value == want,
                "!=": not present or value != want,
                "in": present and value in r.values,
                "notin": not present or value not in r.values,
            }[r.op]
            if not ok:
                return False
        return True


class FieldSelector:
    def __init__(self, text: str | None):
        self.text = text or ""
        self.reqs: list[_Req] = []
        for term in _split_terms(self.text):
            m = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
            if not m:
                raise UsageError(f'invalid field selector "{shown(self.text)}": cannot parse "{shown(term.strip())}"')
            self.reqs.append(_Req(m.group(1), "!=" if m.group(2) == "!=" else "=", (m.group(3),)))

    def matches(self, obj: dict[str, Any]) -> bool:
        for r in self.reqs:
            value: Any = obj
            for part in r.key.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            text = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
            if (text == r.values[0]) != (r.op == "="):
                return False
        return True


@lru_cache(maxsize=1024)  # a watch compares the same few versions many times per event; small: no growth
def parse_rv(rv: object) -> int | None:
    """The integer value of a comparable resourceVersion (KEP-5504), else None."""
    if not isinstance(rv, str) or not rv or not rv.isdigit() or rv[0] == "0" or not rv.isascii():
        return None
    return int(rv)


def compare_rv(a: object, b: object) -> int | None:
    """-1, 0 or 1 as a is older, equal or newer than b; None when either is not comparable."""
    x, y = parse_rv(a), parse_rv(b)
    if x is None or y is None:
        return None
    return (x > y) - (x < y)


def bad_selector_error(resource: str, labels: str | None, fields: str | None, exc: ApiError) -> UsageError:
    """The server refused a list's or watch's selectors (400): a usage error, worded as kubectl words it."""
    what = f'unable to find {resource} that match label selector "{labels or ""}", field selector "{fields or ""}"'
    return UsageError(f"{what}: {exc.message}", status=exc.status)
