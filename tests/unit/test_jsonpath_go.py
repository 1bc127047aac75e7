"""kates's JSONPath against kubectl's own (issue 15, section 2): client-go's util/jsonpath run as `kubectl get -o
jsonpath=` and `-o jsonpath-as-json=` run it (cli-runtime's JSONPathPrintFlags.ToPrinter and JSONPathPrinter,
`--allow-missing-template-keys` true unless a case says otherwise, objects decoded as kubectl decodes the API
server's JSON), built from the Go module cache (tests/godiff/jsonpath), over a few thousand seeded templates and
objects in one batch.

Each case compares the bytes printed (a template is the bytes of kubectl's argv: text that is not UTF-8 reaches kates
as Python's surrogate escapes, and its stdout writes them back as the same bytes) and the error: a parse error is
kubectl's whole message; an evaluation error is kubectl's message up to its debugging dump (kates prints `template
was:` as a hint and leaves out the `%#v` dump of the object, a deliberate difference the README states).

Go's `*` and `..` visit a map's keys in random order; kates visits them sorted. So a case whose template holds `*`
or `..` keeps only objects with one key per map (that order is the only one; others are dropped), and every case is
deterministic. Paths mostly follow the object's own keys and lists, so that most templates find something.

A second test runs objects nested 3,000 levels deep (6,000 levels of JSON) and templates nested as deep through both.

Every case that is not identical must be on DEPARTURES, with its reason; the test fails on any other difference and
when the identical count changes.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kates_cli.cli.get import parse_output
from kates_cli.cli.jsonpath import JSONPath
from kates_cli.core import deepjson
from kates_cli.errors import UsageError
from tests import figures
from tests.godiff.build import go_program

SEED = 15
CASES = 7800  # generated; those whose maps Go would walk in random order are dropped
TOTAL = 6070
IDENTICAL = 6011
DUMP = ". Printing more information for debugging the template:\n"

# -- objects -------------------------------------------------------------------------------------------------------

PLAIN_KEYS = ["a", "b", "c", "name", "items", "metadata", "spec", "kind", "x_1", "é", "日本", "true", "range", "end"]
ODD_KEYS = [
    "٣",
    "ǅx",
    "Ⅻ",
    "x²",
    "x.y",
    "a b",
    "a-b",
    "a/b",
    "",
    "0",
    "1",
    "-1",
    "@",
    "$",
    "k'q",
    'k"q',
    "a\\b",
    "{}",
    "[x]",
    "a,b",
    "🙂",
]
KEYS = PLAIN_KEYS + ODD_KEYS
STRINGS = [
    "",
    "x",
    "abc",
    "<&>",
    "é",
    "日本語",
    "🙂",
    "a b",
    "\n",
    "tab\there",
    "\u2028",
    "null",
    "1",
    "true",
    "ü\u0301",
]
NUMBERS = [
    "0",
    "-0",
    "1",
    "-7",
    "42",
    "1.5",
    "-2.25",
    "1.0",
    "0.1",
    "1e3",
    "1E+3",
    "2.5e-7",
    "1e21",
    "1e20",
    "123456.7",
    "1234567.5",
    "0.0001",
    "0.00001",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "123456789012345678901234567890",
    "1.7976931348623157e308",
    "5e-324",
    "-0.0",
]


class Num(str):
    """A number as its JSON text, so that every shape kubectl may read (exponents, big ints) is exercised."""


def dumps(v: Any) -> str:
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{dumps(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def value(rng: random.Random, depth: int, one_key: bool) -> Any:
    kind = rng.randrange(10 if depth < 4 else 5)
    if kind <= 1:
        return rng.choice(STRINGS)
    if kind == 2:
        return Num(rng.choice(NUMBERS))
    if kind == 3:
        return rng.choice([True, False, None, Num(str(rng.randrange(-5, 6)))])
    if kind == 4:
        return rng.choice([{}, [], "", Num("3")])
    if kind <= 7:
        return mapping(rng, depth + 1, one_key)
    return [value(rng, depth + 1, one_key) for _ in range(rng.randrange(0, 6))]


def mapping(rng: random.Random, depth: int, one_key: bool) -> dict[str, Any]:
    n = 1 if one_key else rng.randrange(1, 6)
    return {rng.choice(KEYS if rng.random() < 0.3 else PLAIN_KEYS[:8]): value(rng, depth, one_key) for _ in range(n)}


# -- templates -----------------------------------------------------------------------------------------------------

BAD_BYTES = ["\udcff", "\udc80", "\udcc3", "\udce9\udc80"]  # argv bytes that are not UTF-8, as Python holds them
TEXTS = ["", "x", " ", "\n", "name: ", "\t", "é", "🙂", "a}b", "$", "@", "[0]", "'", '"', "\\", "\\n", "%v", "\r"]
LITERALS = [
    r"\n",
    r"\t",
    r"\\",
    r"\x41",
    r"\xff",
    r"\xc3\xa9",
    r"\xe9",
    r"\u00e9",
    r"\U0001F642",
    r"\101",
    r"\377",
    r"\a\b\f\v\r",
    "é",
    "日本",
    "<&>",
    " ",
    "x",
    "",
]
BAD_LITERALS = [r"\q", r"\x4", r"\ud800", r"\U00110000", r"\400", r"\'", r"\""]  # \' and \" only in their quotes
FILTER_LITERALS = [
    "'x'",
    '"abc"',
    "'é'",
    "''",
    "1",
    "-7",
    "0",
    "1.5",
    ".5",
    "1.",
    "+3",
    "-0.0",
    "1e3",
    "99999999999999999999",
    "9223372036854775807",
    "true",
    "false",
    "nil",
    "null",
    "@.b",
    "@.a",
    "'a\\'b'",
    "'\\xff'",
    "1.2.3",
    "--1",
]
OPS = ["==", "!=", "<", ">", "<=", ">=", "=", "<>", "=~", "==="]
MUTATIONS = "{}[]()'\".,:?@$\\ *-\n\t\r+=!<>٣ǅⅫª²\u0301\u00a0\u2028"  # Unicode digits, letters and not
UNKNOWN = object()  # a path segment whose value the generator does not follow


def key_segment(rng: random.Random, key: str) -> str:
    form = rng.randrange(6)
    if form == 0:
        return f"['{key}']"
    if form == 1:
        return "." + "".join("\\" + c if c in " \t.,[]$@{}\\" else c for c in key)
    if form == 2 and rng.random() < 0.2:
        return f'["{key}"]'
    return "." + key


def filter_literal(rng: random.Random, v: Any) -> str:
    """A literal to compare with `v`: often `v` itself, written as the template would write it."""
    if rng.random() < 0.5:
        return rng.choice(FILTER_LITERALS)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Num):
        return str(v) if rng.random() < 0.7 else rng.choice(["0", "1", "-1", "2.5", "100"])
    if isinstance(v, str) and "'" not in v and "\n" not in v and "\\" not in v:
        return f"'{v}'"
    return rng.choice(FILTER_LITERALS)


def filter_segment(rng: random.Random, items: list[Any]) -> str:
    pad = rng.choice(["", " "])
    sample = rng.choice(items) if items else None
    if isinstance(sample, dict) and sample and rng.random() < 0.8:
        key = rng.choice(list(sample))
        left, v = "@" + key_segment(rng, key), sample[key]
    elif sample is not None and not isinstance(sample, dict | list):
        left, v = "@", sample
    else:
        left, v = rng.choice(["@", "@.a", "@.b", "@.name", "@.a.b", "@[0]", "@.*", "$.a", "@.zz"]), None
    if rng.random() < 0.15:
        return f"[?({left})]"
    op = rng.choice(OPS[:6] if rng.random() < 0.95 else OPS)
    return f"[?({left}{pad}{op}{pad}{filter_literal(rng, v)})]"


def list_segment(rng: random.Random, v: list[Any]) -> tuple[str, Any]:
    n = len(v)
    kind = rng.randrange(8)
    if kind <= 2 and n:
        i = rng.randrange(n)
        return (f"[{i}]", v[i]) if rng.random() < 0.7 else (f"[{i - n}]", v[i])
    if kind == 3:
        return rng.choice(["[*]", "[ * ]", "[:]"]), (v[0] if n else UNKNOWN)
    if kind == 4:
        parts = [rng.choice(["", str(rng.randrange(-n - 1, n + 2))]) for _ in range(3)]
        return "[" + ":".join(parts[: rng.randrange(2, 4)]) + "]", (v[0] if n else UNKNOWN)
    if kind == 5:
        return f"[{rng.randrange(n + 1)},{rng.randrange(-n - 1, n + 1)}]", UNKNOWN
    return filter_segment(rng, v), (v[0] if n else UNKNOWN)


def segment(rng: random.Random, v: Any, missing: bool) -> tuple[str, Any]:
    """One path segment after a value `v` (UNKNOWN: anything goes) and the value it leads to."""
    if isinstance(v, dict) and v and rng.random() < 0.8:
        key = rng.choice(list(v))
        return key_segment(rng, key), v[key]
    if isinstance(v, list) and rng.random() < 0.8:
        return list_segment(rng, v)
    kind = rng.randrange(20)
    if kind <= 6:
        return key_segment(rng, "zz" if missing and rng.random() < 0.3 else rng.choice(KEYS)), UNKNOWN
    if kind == 7:
        return rng.choice([".*", "[*]", "[ * ]"]), UNKNOWN
    if kind <= 9:
        return ".." + rng.choice([*PLAIN_KEYS[:6], "*", "[0]", "x\\.y", ""]), UNKNOWN
    if kind <= 11:
        return f"[{rng.randrange(-4, 5)}]", UNKNOWN
    if kind == 12:
        parts = [rng.choice(["", str(rng.randrange(-4, 6))]) for _ in range(3)]
        return "[" + ":".join(parts[: rng.randrange(2, 4)]) + "]", UNKNOWN
    if kind == 13:
        items = [rng.choice(["0", "1", "-1", "'a'", "'b'", "'x.y'", "", "*", ".a", "0:2"]) for _ in range(2)]
        return "[" + rng.choice([",", ", ", " , "]).join(items) + "]", UNKNOWN
    if kind <= 15:
        return filter_segment(rng, []), UNKNOWN
    if kind == 16:
        bad = ["[]", "[a]", "[0", "[1:2:3:4]", "[-]", "[x:y]", "[?(@.a)", "[?@.a]", "[01]", "[+1]", "[0:0]", "[::-1]"]
        return rng.choice(bad), UNKNOWN
    if kind == 17:
        return rng.choice([" ", "  ", ".", "..", "...", "$", "@", ".a.", "\\", "a", "."]), UNKNOWN
    return rng.choice([".true", ".range", ".end", "[0][0]", "[-1:]", "[::2]", "[:-1]"]), UNKNOWN


def expression(rng: random.Random, v: Any, missing: bool) -> tuple[str, Any]:
    head = rng.choice(["", "", "", "$", "@", " ", "$."])
    text = head
    for _ in range(rng.randrange(0 if rng.random() < 0.1 else 1, 5)):
        seg, v = segment(rng, v, missing)
        text += seg
    return text, v


def literal(rng: random.Random) -> str:
    quote = rng.choice(['"', "'"])
    body = "".join(rng.choice(LITERALS) for _ in range(rng.randrange(0, 4)))
    if rng.random() < 0.1:
        body += rng.choice(BAD_LITERALS)
    if rng.random() < 0.15:
        body += rng.choice(BAD_BYTES)
    return quote + body + quote


def piece(rng: random.Random, v: Any, missing: bool, depth: int) -> str:
    kind = rng.randrange(12)
    if kind <= 5:
        return "{" + expression(rng, v, missing)[0] + "}"
    if kind <= 7:
        return "{" + literal(rng) + "}"
    if kind == 8:
        text = rng.choice(TEXTS)
        return text + (rng.choice(BAD_BYTES) if rng.random() < 0.3 else "")
    if kind <= 10 and depth < 2:
        over, inner = expression(rng, v, missing)
        body = "".join(piece(rng, inner, missing, depth + 1) for _ in range(rng.randrange(1, 4)))
        return "{range " + over + "}" + body + rng.choice(["{end}", "{end}", "{end}", "{ end }", ""])
    return rng.choice(["{end}", "{range}", "{@}", "{$}", "{.}", "{}", "{ }", "{true}", "{false}", "{1}", "{-1.5}"])


def template(rng: random.Random, obj: Any) -> str:
    missing = rng.random() < 0.2
    text = "".join(piece(rng, obj, missing, 0) for _ in range(rng.randrange(1, 4)))
    if rng.random() < 0.08:  # a broken template: kubectl's parse errors
        for _ in range(rng.randrange(1, 3)):
            at = rng.randrange(len(text) + 1)
            if rng.random() < 0.5:
                text = text[:at] + rng.choice(MUTATIONS) + text[at:]
            else:
                text = text[:at] + text[at + 1 :]
    return text


def cases(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        one_key = rng.random() < 0.5  # Go's map order is random; a map of one key has one order
        obj = mapping(rng, 0, one_key)
        if rng.random() < 0.5:  # a List's items (the only key, when maps have one)
            obj = {} if one_key else obj
            obj["items"] = [mapping(rng, 2, one_key) for _ in range(rng.randrange(0, 4))]
        # as Python reads argv: escaped bytes that happen to form UTF-8 (a mutation joined two) are that text
        text = template(rng, obj).encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
        if not one_key and ("*" in text or ".." in text):
            continue
        out.append(
            {
                "t": text,
                "f": "jsonpath-as-json" if rng.random() < 0.2 else "jsonpath",
                "m": rng.random() > 0.1,
                "o": dumps(obj),
            }
        )
    return out


DEPTH = 3000  # levels of {"a": [...]}: 6,000 levels of JSON (apimachinery's decoder allows 10,000)


def deep_cases() -> list[dict[str, Any]]:
    """Objects and templates nested thousands of levels deep: kubectl prints them, and kates must too (no
    RecursionError in the JSON reader, the parser, the evaluator or the printers)."""
    deep = '{"a":[' * DEPTH + '{"b":"x","n":1.5e300}' + "]}" * DEPTH
    wide = "{" + ",".join(f'"k{i}":{{"v":{i}}}' for i in range(2000)) + "}"
    templates = [
        "{$}",
        "{.a[0]" + ".a[0]" * (DEPTH - 1) + ".b}",
        "{range .a[*]}" * DEPTH + "{.b}{.n}" + "{end}" * DEPTH,
        "{range " + ".a[*]" * DEPTH + "}{@}{end}",
        "{..b}",
        "{..n}",
        "{.a[*]}",
        "{..a[?(@.b=='x')].b}",
        '{range ..a}{"-"}{end}',
        '{"x"}' * 3000,
        "{" + " " * 20000 + ".a[0].a[0].a[0].b}",
    ]
    formats = ("jsonpath", "jsonpath-as-json")
    out = [{"t": t, "f": f, "m": True, "o": deep} for t in templates for f in formats]
    out = [c for c in out if c["f"] == "jsonpath" or c["t"] not in ("{$}", "{.a[*]}")]  # indented: 144 MB each
    return [*out, {"t": "{.k1999.v}{.*.zz}", "f": "jsonpath", "m": True, "o": wide}]


# -- running both --------------------------------------------------------------------------------------------------

Outcome = tuple[bytes, str | None]


def kubectl(batch: list[dict[str, Any]]) -> list[Outcome]:
    lines = "".join(
        json.dumps(
            {
                "t": base64.b64encode(c["t"].encode("utf-8", "surrogateescape")).decode(),
                "f": c["f"],
                "m": c["m"],
                "n": c.get("n", 1),
            }
        )[:-1]
        + f', "o": {c["o"]}}}\n'  # the object's own text: every number shape reaches kubectl's decoder
        for c in batch
    )
    proc = subprocess.run([go_program("jsonpath")], input=lines.encode(), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    out = []
    for line in proc.stdout.splitlines():
        answer = json.loads(line)
        err = answer["err"] and base64.b64decode(answer["err"]).decode("utf-8", "surrogateescape")
        out.append((base64.b64decode(answer["out"] or ""), err.split(DUMP)[0] if err else None))
    assert len(out) == len(batch)
    return out


def kates(case: dict[str, Any]) -> Outcome:
    try:
        # as `-o jsonpath=T` reads it: an empty T is the flag's usage error (an empty template prints nothing)
        path = parse_output(f"{case['f']}={case['t']}", None, case["m"]).columns[0][1]
        obj = deepjson.loads(case["o"].encode())
        text = path.render_json(obj) if case["f"] == "jsonpath-as-json" else path.render(obj)
    except UsageError as e:
        return b"", e.message
    return text.encode("utf-8", "surrogateescape"), None


# -- deliberate departures -------------------------------------------------------------------------------------------

Departure = Callable[[dict[str, Any], Outcome, Outcome], bool]
DEPARTURES: dict[str, Departure] = {
    # A {range} over no values still runs its body once, on nothing (Go's zero reflect.Value), to find its {end}.
    # An index, slice or filter applied directly to that nothing (`{range .none[*]}{[0]}{end}`), or a {range}
    # nested in such a body, makes client-go call Type() or Interface() on the zero Value: kubectl dies with a Go
    # panic and a goroutine dump (exit 2). kates treats the nothing as a null, as client-go treats a nil value
    # everywhere else (skipped), and prints the rest of the template.
    "kubectl panics": lambda case, mine, theirs: bool(
        theirs[1]
        and theirs[1].startswith("panic: reflect: call of reflect.Value.")
        and theirs[1].endswith(" on zero Value")
    ),
}


def departure(case: dict[str, Any], mine: Outcome, theirs: Outcome) -> str | None:
    for reason, applies in DEPARTURES.items():
        if applies(case, mine, theirs):
            return reason
    return None


def test_objects_and_templates_nested_thousands_deep_print_as_kubectl_prints_them() -> None:
    batch = deep_cases()
    for case, go in zip(batch, kubectl(batch), strict=True):
        assert go[1] is None, (case["t"][:80], go[1][:300])
        assert kates(case) == go, case["t"][:80]


def test_jsonpath_matches_kubectls_on_generated_templates_and_objects() -> None:
    batch = cases(SEED, CASES)
    theirs = kubectl(batch)
    identical = 0
    departed: dict[str, int] = {}
    differ = []
    for case, go in zip(batch, theirs, strict=True):
        mine = kates(case)
        if mine == go:
            identical += 1
            continue
        reason = departure(case, mine, go)
        if reason is None:
            differ.append((case["t"], case["f"], case["m"], case["o"], mine, go))
        else:
            departed[reason] = departed.get(reason, 0) + 1
    figures.record("differential", "jsonpath", identical=identical, total=len(batch), **departed)
    assert not differ, "\n".join(repr(d) for d in differ[:10]) + f"\n... {len(differ)} differ"
    assert (identical, len(batch)) == (IDENTICAL, TOTAL), "the count moved: check the new cases, then update it"


def test_a_jsonpath_file_is_read_as_its_bytes(tmp_path: Path) -> None:
    """`-o jsonpath-file=` holding bytes that are not UTF-8 and CRLF: kubectl prints them as they are (kates stopped
    with an internal error, UnicodeDecodeError, and turned CRLF into LF)."""
    template = b'{"\xff"}\xfe{.a}\r\n'
    (tmp_path / "t").write_bytes(template)
    mine = parse_output(f"jsonpath-file={tmp_path / 't'}").columns[0][1].render({"a": 1})
    case = {"t": template.decode("utf-8", "surrogateescape"), "f": "jsonpath", "m": True, "o": '{"a":1}'}
    assert mine.encode("utf-8", "surrogateescape") == b"\xff\xfe1\r\n" == kubectl([case])[0][0]


def test_one_template_prints_every_object_of_a_watch_where_kubectls_printer_breaks_after_a_range() -> None:
    """kubectl get -w prints every object with one printer, and client-go's JSONPath keeps state from the last run
    (its parser's root is left at a `{range}`'s body): from the second object on, a template holding a `{range}`
    fails with `not in range, nothing to end` and the watch ends. kates's templates keep no state between objects,
    so each object prints as the first did (a deliberate difference, in the README)."""
    obj = '{"k":"a","items":[{"a":"x"},{"a":"y"}]}'
    ranged = {"t": '{range .items[*]}[{.a}]{end}{.k}{"\\n"}', "f": "jsonpath", "m": True, "o": obj}
    plain = {"t": '{.k}{.items[*].a}{"\\n"}', "f": "jsonpath", "m": True, "o": obj}
    theirs = kubectl([ranged, {**ranged, "n": 2}, {**plain, "n": 2}])
    assert theirs[0] == (b"[x][y]a\n", None)
    assert theirs[1][1] is not None and theirs[1][1].endswith("Error executing template: not in range, nothing to end")
    assert theirs[2] == (b"ax y\nax y\n", None)  # without a range, kubectl's printer prints every object alike
    path = JSONPath(ranged["t"])
    data = deepjson.loads(obj.encode())
    assert [path.render(data) for _ in range(2)] == ["[x][y]a\n"] * 2
