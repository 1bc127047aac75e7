"""The `-q` query grammar of `kates watch` (and of `kates rbac`, which grants what a watch reads).

Invariants:
- `[NAME=]KIND [ns=NAMESPACE[,NAMESPACE...]|ns=*] [l=LABEL_SELECTOR] [f=FIELD_SELECTOR] [jq=FILTER]`, words
  separated by spaces (ns=a,b: several namespaces, one stream each into the one query, core/accumulator.py);
  quoted or parenthesised set-based selectors stay one word (`split_query`). `jq=` comes last and takes the rest of
  the query verbatim (spaces, braces and jq's own quotes), so a filter needs no quoting of its own; one pair of
  single quotes around it is dropped (never valid jq). Quoting the whole word (`"jq=.a | .b"`) works as for the
  other keys.
- A query is parsed whole before any request: a bad word, selector or jq filter (compiled here, core/projection.py)
  is a UsageError naming the query.
- The query name "dependency" is reserved: deltas name the changes of dependencies (objects a hook read that no
  query covers) with it.
"""

from __future__ import annotations

import re

from ..errors import UsageError

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from ..core.accumulator import Query

QUERY_FORM = "[NAME=]KIND [ns=NAMESPACE[,NAMESPACE...]|ns=*] [l=LABEL_SELECTOR] [f=FIELD_SELECTOR] [jq=FILTER]"
JQ_KEY = "jq="
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def split_query(text: str) -> list[str]:
    """A query's words: split on whitespace outside quotes ('...' or "...", removed) and parentheses, so that a
    set-based selector stays one word when quoted or parenthesised: `l='env in (a, b)'`, `l=env in (a,b)`. A word
    after the first that starts with `jq=` is the rest of the text, verbatim (trailing spaces aside)."""
    words: list[str] = []
    cur: list[str] = []
    quote = ""
    depth = 0
    started = False
    for i, ch in enumerate(text):
        if not started and words and depth == 0 and text.startswith(JQ_KEY, i):
            words.append(text[i:].rstrip())
            return words
        if quote:
            if ch == quote:
                quote = ""
            else:
                cur.append(ch)
        elif ch in "'\"":
            quote, started = ch, True
        elif ch.isspace() and depth == 0:
            if started:
                words.append("".join(cur))
                cur, started = [], False
        else:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            cur.append(ch)
            started = True
    if quote:
        raise ValueError(f"an unclosed {quote} quote")
    if started:
        words.append("".join(cur))
    return words


_SET_OP = re.compile(r"^(in|notin)(\(.*)?$")


def _continues(selector: str, word: str) -> bool:
    """Whether `word` continues a set-based selector split by spaces: `l=env in (a,b)`, `l=a=1, b=2`."""
    return (
        selector.endswith((",", "(")) or word.startswith(("(", ",")) or bool(_SET_OP.match(word))
    ) and not selector.endswith("=")


def parse_query(text: str, default_namespace: str | None) -> Query:
    """One -q value -> Query. `default_namespace=None` means all namespaces.

    Grammar: `[NAME=]KIND [ns=NAMESPACE[,NAMESPACE...]|ns=*] [l=LABEL_SELECTOR] [f=FIELD_SELECTOR] [jq=FILTER]`,
    words separated by spaces. A selector may hold spaces when quoted (`l='env in (a, b)'`) or where its set-based
    syntax needs them (`l=env notin (x),!debug`): words after `l=`/`f=` that continue it (`in`, `notin`, `(...)`,
    after a comma) are joined to it with one space. `jq=` takes the rest of the query (`split_query`). Selectors
    and the filter are parsed here, so a bad one is a usage error before any request."""
    from ..core.accumulator import Query
    from ..core.dependencies import DEPENDENCY_QUERY
    from ..core.selectors import shown

    def bad(why: str) -> UsageError:
        return UsageError(
            f'invalid query "{shown(text)}": {why}', hint=f"expected {QUERY_FORM}, e.g. -q 'web=deploy ns=prod'"
        )

    try:
        tokens = split_query(text)
    except ValueError as exc:
        raise bad(str(exc)) from None
    if not tokens:
        raise bad("it is empty")
    head, rest = tokens[0], tokens[1:]
    name, sep, kind = head.partition("=")
    if not sep:
        name, kind = head, head
    if not kind or "=" in kind:
        raise bad("no KIND")
    if not _NAME.match(name):
        name = re.sub(r"[^A-Za-z0-9_-]", "_", name) if not sep else name
        if not _NAME.match(name):
            raise bad(f'"{shown(name)}" is not a valid query name (letters, digits, _ and -)')
    if name == DEPENDENCY_QUERY:
        raise bad(f'the query name "{DEPENDENCY_QUERY}" is reserved: deltas name changes of dependencies so')
    namespace = default_namespace
    selectors: dict[str, str] = {}
    last = ""  # the selector ("l" or "f") the previous word set, which a set-based word may continue
    jq: str | None = None
    for token in rest:
        if token.startswith(JQ_KEY):  # the last word (split_query): never a continued selector
            jq = token[len(JQ_KEY) :].strip()
            if len(jq) >= 2 and jq[0] == jq[-1] == "'":
                jq = jq[1:-1].strip()  # jq='...': single quotes are never jq syntax
            if not jq:
                raise bad("jq= holds no filter")
            continue
        if last and _continues(selectors[last], token):
            selectors[last] += " " + token
            continue
        key, eq, value = token.partition("=")
        if not eq or not value:
            raise bad(f'"{shown(token)}" is not KEY=VALUE')
        last = ""
        if key in ("ns", "namespace"):
            several = sorted({ns for ns in value.split(",") if ns})  # ns=a,b: one stream each (core/accumulator.py)
            if not several:
                raise bad(f'"{shown(token)}" names no namespace')
            namespace = None if value in ("*", "all") else ",".join(several)
        elif key in ("l", "labels", "selector"):
            selectors["l"] = value
            last = "l"
        elif key in ("f", "fields", "field-selector"):
            selectors["f"] = value
            last = "f"
        else:
            raise bad(f'unknown key "{shown(key)}"')
    from ..core.selectors import FieldSelector, LabelSelector

    labels, fields = selectors.get("l"), selectors.get("f")
    LabelSelector(labels)  # fail now, with a usage error, rather than in the stream
    FieldSelector(fields)
    if jq is not None:
        from ..core.projection import compile_filter

        try:
            compile_filter(jq)
        except UsageError as exc:
            raise UsageError(
                f'invalid query "{shown(text)}": {exc.message}',
                hint="jq=FILTER comes last: it takes the rest of the query, e.g. -q 'web=deploy jq={name: "
                ".metadata.name, replicas: .spec.replicas}'",
            ) from None
    return Query(name, kind, namespace, labels, fields, jq)
