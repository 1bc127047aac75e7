"""Pure renderers: kubectl's tabwriter alignment and server-side Table decoration."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kates_cli.cli.render import (
    PagedTable,
    PlainTable,
    TableView,
    as_list,
    bold_first_line,
    cell_text,
    format_labels,
    json_bytes,
    to_json,
)

TABLE: dict[str, Any] = {
    "columnDefinitions": [
        {"name": "Name", "priority": 0},
        {"name": "Ready", "priority": 0},
        {"name": "Node", "priority": 1},
        {"name": "Age", "priority": 0},
    ],
    "rows": [
        {
            "cells": ["web-1", "1/1", None, "5m"],
            "object": {"metadata": {"name": "web-1", "namespace": "prod", "labels": {"b": "2", "app": "web"}}},
        },
        {"cells": ["a", "0/1", "n1", "10s"], "object": {"metadata": {"name": "a", "namespace": "dev"}}},
    ],
}


def test_plain_table_pads_like_kubectls_tabwriter() -> None:
    text = PlainTable().format([["NAME", "X", "AGE"], ["a", "1", "5m"]])
    # min width 6, padding 3, last column unpadded
    assert text == "NAME   X     AGE\na      1     5m\n"


def test_plain_table_remembers_widths_across_chunks() -> None:
    t = PlainTable()
    first = t.format([["NAME", "AGE"], ["long-name-here", "1s"]])
    second = t.format([["b", "2s"]])
    assert first.splitlines()[1].index("1s") == second.index("2s") == len("long-name-here") + 3


def test_table_view_hides_priority_columns_unless_wide() -> None:
    view = TableView()
    assert view.headers(TABLE) == ["NAME", "READY", "AGE"]
    assert view.rows(TABLE)[0] == ["web-1", "1/1", "5m"]
    wide = TableView(wide=True)
    assert wide.headers(TABLE) == ["NAME", "READY", "NODE", "AGE"]
    assert wide.rows(TABLE)[0] == ["web-1", "1/1", "", "5m"]


def test_table_view_decorations() -> None:
    view = TableView(with_namespace=True, kind_prefix="pod", show_labels=True, label_columns=["app", "x.io/b"])
    assert view.headers(TABLE) == ["NAMESPACE", "NAME", "READY", "AGE", "APP", "B", "LABELS"]
    assert view.rows(TABLE) == [
        ["prod", "pod/web-1", "1/1", "5m", "web", "", "app=web,b=2"],
        ["dev", "pod/a", "0/1", "10s", "", "", "<none>"],
    ]


def test_cell_text_follows_go_formatting() -> None:
    assert cell_text(3) == "3"
    assert cell_text(3.0) == "3"
    assert cell_text(1.5) == "1.5"
    assert cell_text(True) == "true"
    assert cell_text(["a", "b"]) == "[a b]"
    assert cell_text("line1\nline2") == "line1..."
    assert format_labels({}) == "<none>"


def test_cell_text_is_gos_v_of_the_decoded_value() -> None:
    """kubectl's table printer writes a cell that is not a string with fmt.Sprint: a float64 in %v's notation, a
    null inside a list as <nil>, an integer past int64 as the float64 Kubernetes decodes it to."""
    assert cell_text(1234567.5) == "1.2345675e+06"
    assert cell_text(1e20) == "1e+20"
    assert cell_text(1e-6) == "1e-06"
    assert cell_text(0.000123) == "0.000123"
    assert cell_text(2**63) == "9.223372036854776e+18"
    assert cell_text(2**63 - 1) == "9223372036854775807"
    assert cell_text([1, None, "x"]) == "[1 <nil> x]"
    assert cell_text({"b": None, "a": [1.5e7]}) == "map[a:[1.5e+07] b:<nil>]"
    assert cell_text(False) == "false"
    assert cell_text(["x\ny", "z"]) == "[x..."  # cut at the first line break, as every cell
    assert cell_text(["x\ny"], whole=True) == "[x\ny]"
    assert cell_text({"k": "\x1b[1m"}) == "map[k:^[[1m]"


def test_null_cell_is_empty_as_kubectl_prints_it() -> None:
    # a CRD printer column whose jsonPath finds nothing comes as null; kubectl prints nothing (built-in tables'
    # `<none>` is the server's own text)
    assert cell_text(None) == ""
    assert cell_text("<none>") == "<none>"


def test_bold_header_keeps_the_rows_plain() -> None:
    text = PlainTable().format([["NAME", "AGE"], ["a", "1s"]])
    assert bold_first_line(text) == "\x1b[1mNAME   AGE\x1b[0m\na      1s\n"


def test_json_is_kubectl_shaped() -> None:
    text = to_json(as_list([{"b": 1, "a": "é"}]))
    assert text.startswith('{\n    "apiVersion": "v1",\n    "items": [\n        {\n            "a": "é",')
    assert text.endswith('"metadata": {\n        "resourceVersion": ""\n    }\n}\n')


def _page(names: list[str]) -> tuple[list[list[str]], list[int]]:
    rows = [[n, "1"] for n in names]
    return rows, [max(len(n) for n in names), 1]


def test_paged_table_writes_in_kubectls_blocks_of_100_rows_per_page() -> None:
    table = PagedTable()
    first = [f"n{i:03d}" for i in range(150)]
    rows, widest = _page(first)
    text = table.page(rows, widest, ["NAME", "DATA"])
    assert text.splitlines() == ["NAME   DATA", *(f"{n}   1" for n in first[:100])]  # the header is not counted
    rows, widest = _page(["a-much-longer-name"])
    assert table.page(rows, widest) == ""  # held: short pages wait for a later flush, as kubectl's do
    rest = table.flush().splitlines()
    # the block still held is aligned with the later page's widest cell; what was written stays as it was
    assert rest[0] == "n100" + " " * 17 + "1" and rest[-1] == "a-much-longer-name   1"
    assert len(rest) == 51 and table.flush() == ""


def test_paged_table_widens_to_a_pages_whole_cells_in_bytes() -> None:
    # kubectl measures a page before printing it: a multi-line cell counts whole, and in bytes (é is 2)
    view = TableView()
    page = {"columnDefinitions": [{"name": "Name"}, {"name": "Note"}, {"name": "Age"}],
            "rows": [{"cells": ["é", "one\ntwo", "1s"]}]}  # fmt: skip
    assert view.rows(page) == [["é", "one...", "1s"]]
    assert view.widest(page) == [2, 7, 2]
    table = PagedTable(bold_header=True)
    table.page(view.rows(page), view.widest(page), view.headers(page))
    assert table.flush() == "\x1b[1mNAME   NOTE      AGE\x1b[0m\né      one...    1s\n"


_SPACED = st.text(st.sampled_from(["a", " ", "\n", "é", '"', "\\"]), max_size=6)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _SPACED,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_SPACED, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(_VALUES, st.integers(0, 2))
def test_json_bytes_is_the_json_modules_4_space_text_on_both_paths(obj: Any, depth: int) -> None:
    """Whether strings hold two spaces in a row (the split path) or not (the doubling path), at depths 0, 1 and 2,
    the text is the json module's with indent=4, sorted keys and UTF-8 kept, every line `depth` levels in."""
    want = json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False, separators=(",", ": ")).encode()
    pad = b"    " * depth
    assert json_bytes(obj, depth) == pad + want.replace(b"\n", b"\n" + pad)


def test_json_bytes_takes_both_paths() -> None:
    """The property above covers both ways of widening the indent (and the doubling path's two checks: no space at
    all, single spaces only): objects for each, at depth 0 and 1."""
    for obj in ({"a": {"b": ["xy"]}}, {"a": {"b": ["x y"]}}, {"a": {"b": ["x  y"]}}, {"a  b": [{}]}, [[], {}, "  "]):
        for depth in (0, 1):
            want = json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False).encode()
            pad = b"    " * depth
            assert json_bytes(obj, depth) == pad + want.replace(b"\n", b"\n" + pad)
