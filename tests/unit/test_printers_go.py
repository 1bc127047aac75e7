"""custom-columns and --sort-by against kubectl's own Go code (issue 15, section 2): k8s.io/kubectl v0.37.2's
pkg/cmd/get (SortObjects over a List; the SortingPrinter over a listed server-side Table; CustomColumnsPrinter from a
spec or a template file, with cli-runtime's tabwriter), built from the Go module cache by tests/godiff/build.py.
One Go process takes thousands of seeded cases (column specs, sort fields, object lists with mixed types, missing
fields, quantities, timestamps, line breaks and tabs, unicode); kates must give the same order, the same text and
the same error message.

Deliberate departures (DEPARTURES below; README, "Printers: kubectl's bytes"): where kubectl ends the process from
inside its sort comparator after an evaluation error (klog.Fatalf "Failed to get i values for <a Go-syntax dump of
the object> using ..."), kates reports the evaluation error itself (`error: <kubectl's JSONPath message>`, exit 2).
The message of kubectl's other in-comparator exit (an unsortable type) is compared as it is.
"""

from __future__ import annotations

import json
import random
import subprocess
from typing import Any

from kates_cli.cli.customcolumns import custom_columns, parse_file, parse_spec
from kates_cli.cli.jsonpath.gosort import sort_list, sort_table
from kates_cli.errors import KatesError
from tests import figures
from tests.godiff.build import go_program

SEED = 15
CASES = 2500  # per printer

# kubectl ends the process from its sort comparator (klog.Fatalf) with a Go-syntax dump of the object it could not
# evaluate; kates stops with the evaluation error (the message kubectl's found-check would have given).
DEPARTURES = {"Failed to get ": "kubectl's comparator dumps the object in Go syntax and exits 255"}

QUANTITIES = [
    "0", "1", "2", "10", "-1", "+1", "1.5", ".5", "5.", "1e3", "1E3", "1e-10", "2e-10", "1e+2", "100m", "1000m",
    "1k", "1K", "1Ki", "1Mi", "1M", "1G", "1Gi", "1T", "1Ti", "1P", "1Pi", "1E", "1Ei", "2Ei", "9Ei", "1n", "1u",
    "999n", "0.001", "1e", "e3", "1i", "1.2.3", "--1", "1e400", "123456789012345678901234567890", "0.0000000001",
    "1e-9", "1.0000000001", "-0", "+0", "00", "007", "1 ", " 1", "1m5", "1Mi5", "",
]  # fmt: skip
TIMESTAMPS = [
    "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", "2023-12-31T23:59:59Z", "2024-02-29T12:00:00Z",
    "2024-01-01T00:00:00.5Z", "1970-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00",
]  # fmt: skip
WORDS = [
    "a", "b", "B", "ab", "é", "ä", "日本", "🎉", "a b", "x\ny", "x\vy", "x\fy", "\tq", "q\t", "\x1b[31m", "r\r",
    "<&>", "null", "true", "", " ", "a,b", "ǅ", "\u200b", "\uff57\uff49\uff44\uff45", "trailing ",
]  # fmt: skip
KEYS = ["a", "b", "c", "name", "n", "items", "x.y"]


def _scalar(rng: random.Random) -> Any:
    kind = rng.randrange(10)
    if kind <= 2:
        return rng.choice(QUANTITIES)
    if kind == 3:
        return rng.choice(TIMESTAMPS)
    if kind <= 5:
        return rng.choice(WORDS)
    if kind == 6:
        return rng.choice([0, 1, -1, 7, 10**3, 2**53, 2**63 - 1, -(2**63), 2**63, 2**64, -(2**70)])
    if kind == 7:
        return rng.choice([0.5, -0.5, 1.0, 1e6, 1e21, 1e-7, 3.25, 100.0, 2.5e-10])
    if kind == 8:
        return rng.choice([True, False])
    return None


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 6)
    if kind < 6:
        return _scalar(rng)
    if kind == 6:
        return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randrange(0, 3))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]


def _objects(rng: random.Random, n: int) -> list[dict[str, Any]]:
    """Objects whose fields share one type family more often than not, so that most sorts complete."""
    style = rng.randrange(6)
    objs = []
    for i in range(n):
        obj: dict[str, Any] = {"metadata": {"name": f"o{i}", "labels": {"k": rng.choice(QUANTITIES)}}}
        for key in rng.sample(KEYS, rng.randrange(0, 4)):
            if style == 0:
                obj[key] = rng.choice(QUANTITIES)
            elif style == 1:
                obj[key] = rng.choice(TIMESTAMPS)
            elif style == 2:
                obj[key] = rng.randrange(-5, 5)
            elif style == 3:
                obj[key] = rng.choice([rng.randrange(-5, 5), rng.random() * 10, 2**63, 0.5])
            elif style == 4:
                obj[key] = rng.choice(WORDS)
            else:
                obj[key] = _value(rng)
        if rng.random() < 0.5:
            obj["spec"] = {"items": [_value(rng) for _ in range(rng.randrange(0, 3))], "n": rng.randrange(3)}
        objs.append(obj)
    return objs


def _path(rng: random.Random) -> str:
    key = rng.choice(KEYS)
    if rng.random() < 0.75:  # paths that evaluate on any object, so that most cases print or sort
        return rng.choice([f".{key}", key, f"{{.{key}}}", ".metadata.name", ".metadata.labels.k", ".spec.items[*]"])
    return rng.choice(
        [
            f".{key}",
            key,
            f"{{.{key}}}",
            f"{{{key}}}",
            ".metadata.name",
            ".metadata.labels.k",
            ".spec.n",
            ".spec.items[0]",
            ".spec.items[1]",
            ".spec.items[*]",
            ".spec.items[-1]",
            f".{key}[0]",
            f".{key}.a",
            ".spec",
            f"{{.{key}}}{{.b}}",  # not a relaxed path: kubectl sorts a table by it, and refuses it for a list
            f"{{.{key}}} x",
            "{.a",
            ".a[",
            ".nope",
            ".spec.items[?(@.a)]",
            "..a",
        ]
    )


def _sort_case(rng: random.Random) -> dict[str, Any]:
    n = rng.choice([0, 1, 1, 2, 3, 5, 8, 13, 14, 20, 40, 60, 120])
    return {"op": rng.choice(["sort", "tablesort"]), "field": _path(rng), "objects": _objects(rng, n)}


def _header(rng: random.Random) -> str:
    return rng.choice(["NAME", "A", "", "日本", "LONG_HEADER_NAME", "x y", "Ä", "B"])


def _cc_case(rng: random.Random) -> dict[str, Any]:
    n = rng.choice([0, 1, 2, 3, 5, 8])
    columns = [(_header(rng), _path(rng)) for _ in range(rng.randrange(1, 5))]
    objs = _objects(rng, n)
    if rng.random() < 0.2:
        spec = ",".join(f"{h}:{p}" if rng.random() < 0.95 else h for h, p in columns)
        return {"op": "cc", "spec": spec, "noHeaders": rng.random() < 0.3, "objects": objs}
    if rng.random() < 0.3:
        file = " ".join(h or "H" for h, _ in columns) + "\n" + "\t".join(p for _, p in columns) + "\n"
        file = rng.choice([file, file.replace("\n", "\r\n"), file + "extra line\n", file.rstrip("\n"), "A\n", ""])
        return {"op": "ccfile", "file": file, "noHeaders": rng.random() < 0.5, "objects": objs}
    spec = ",".join(f"{h}:{p}" for h, p in columns if "," not in p)
    return {"op": "cc", "spec": spec or "N:.metadata.name", "noHeaders": rng.random() < 0.2, "objects": objs}


def _kates(case: dict[str, Any], tmp: Any) -> dict[str, Any]:
    objs = json.loads(json.dumps(case["objects"]))  # a copy: kates must not depend on what Go did to them
    try:
        if case["op"] == "sort":
            order = [int(o["metadata"]["name"][1:]) for o in sort_list(objs, case["field"])]
            return {"order": order}
        if case["op"] == "tablesort":
            return {"order": sort_table(objs, case["field"])}
        if case["op"] == "cc":
            columns = parse_spec(case["spec"])
            no_headers = case["noHeaders"]
        else:
            path = tmp / "columns.txt"
            path.write_bytes(case["file"].encode())
            columns = parse_file(str(path))
            no_headers = False  # kubectl's template-file printer takes no --no-headers
        text, error = custom_columns(columns, objs, no_headers)
        return {"out": text} | ({"error": error.message} if error else {})
    except KatesError as exc:
        return {"error": exc.message}


def _compare(cases: list[dict[str, Any]], theirs: list[dict[str, Any]], tmp: Any) -> tuple[int, int, list[Any]]:
    same = departed = 0
    differ = []
    for case, go in zip(cases, theirs, strict=True):
        mine = _kates(case, tmp)
        if "exit" in go:  # kubectl ended the process from its comparator: kates reports an error
            go = {"error": go["exit"]}
            if any(go["error"].startswith(prefix) for prefix in DEPARTURES) and "error" in mine:
                departed += 1
                continue
        if mine == go:
            same += 1
        else:
            differ.append((case, mine, go))
    return same, departed, differ


def test_sort_by_and_custom_columns_match_kubectls_code(tmp_path: Any) -> None:
    rng = random.Random(SEED)
    sorts = [_sort_case(rng) for _ in range(CASES)]
    columns = [_cc_case(rng) for _ in range(CASES)]
    cases = sorts + columns
    lines = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)
    proc = subprocess.run([go_program("printers")], input=lines.encode(), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    theirs = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(theirs) == len(cases)
    failures = []
    for name, part, go in [("sort-by", sorts, theirs[:CASES]), ("custom-columns", columns, theirs[CASES:])]:
        same, departed, differ = _compare(part, go, tmp_path)
        figures.record("differential", name, identical=same, departures=departed, total=len(part))
        failures += differ
    assert not failures, f"{len(failures)} differ; first: {failures[:3]}"
