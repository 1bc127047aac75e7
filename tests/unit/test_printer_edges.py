"""Deeply nested objects through every printer and parser the printers' edges touch (issue 15, section 2), at the
interpreter's default recursion limit: -o json, yaml and kyaml, custom columns (a cell and a whole table),
--sort-by over lists and tables, kubectl's tabwriter over thousands of columns, and -f manifests and patches as
YAML and as JSON up to libyaml's own nesting limit (past it, one usage error). tests/e2e/test_printer_edges.py
shows the same against kubectl on the live control plane."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from kates_cli.cli import render
from kates_cli.cli.customcolumns import custom_columns, parse_spec
from kates_cli.cli.jsonpath.gosort import sort_list, sort_table
from kates_cli.cli.manifests import load, parse_value
from kates_cli.cli.tabwriter import TabWriter
from kates_cli.errors import UsageError


def nested(depth: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"leaf": "bottom"}
    for i in range(depth):
        spec = {"a": [spec]} if i % 2 else {"b": spec}
    return spec


def test_deep_objects_print_and_sort_at_the_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 1000
    objs = [{"metadata": {"name": f"o{i}"}, "spec": nested(3000), "n": str(2 - i)} for i in range(3)]
    assert render.to_json(objs[0]).count("bottom") == 1
    assert render.to_yaml(objs[0]).count("bottom") == 1
    assert render.to_kyaml(objs[0]).count("bottom") == 1
    text, error = custom_columns(parse_spec("NAME:.metadata.name,SPEC:.spec,N:.n"), objs)
    assert error is None and text.count("bottom") == 3 and text.startswith("NAME   SPEC"), text[:80]
    assert [o["metadata"]["name"] for o in sort_list(objs, ".n")] == ["o2", "o1", "o0"]
    assert sort_table(objs, ".n") == [2, 1, 0]
    with pytest.raises(UsageError, match="unsortable type: map"):
        sort_list(objs, ".spec")


def test_the_tabwriter_takes_thousands_of_columns() -> None:
    """Go formats one column per level of recursion; kates's stack of frames does not recurse."""
    writer = TabWriter()
    text = writer.write("\t".join(["c"] * 5000) + "\n" + "\t".join(["dd"] * 5000) + "\n") + writer.flush()
    assert text == "c     " * 4999 + "c\n" + "dd    " * 4999 + "dd\n"


@pytest.mark.parametrize("depth", [300, 600])
def test_deep_manifests_and_patches_load_as_json_and_yaml(tmp_path: Path, depth: int) -> None:
    """kates refused -f manifests deeper than 250 levels (kubectl takes them); up to libyaml's limit of 1,000 levels
    they load whole, as JSON and as YAML, and deeper ones are one usage error, never a RecursionError."""
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "deep"}, "spec": nested(depth)}
    for name, text in (("m.json", json.dumps(obj)), ("m.yaml", render.to_yaml(obj))):
        path = tmp_path / name
        path.write_text(text)
        (manifest,) = load([str(path)])
        assert manifest.obj == obj
        assert parse_value(text, name) == obj
    deeper = tmp_path / "deeper.json"
    deeper.write_text("[" * 1100 + "]" * 1100)
    with pytest.raises(UsageError, match="nesting depth"):
        load([str(deeper)])
