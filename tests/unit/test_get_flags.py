"""`kates get`'s decisions that need no server: -o as kubectl's printer flags read it, the flag combinations kubectl
refuses before asking anything, which -f inputs imply a single item, and what -w's printers hand a template with
--output-watch-events."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kates_cli.cli.get import OUTPUTS, check_printer_flags, parse_output
from kates_cli.cli.getwatch import KindPrinter
from kates_cli.cli.manifests import one_file
from kates_cli.errors import UsageError

NO_PRINTER = '^unable to match a printer suitable for the output format "{}"$'


@pytest.mark.parametrize(
    ("spelling", "fmt"), [("JSON", "json"), ("Yaml", "yaml"), ("NAME", "name"), ("KYAML", "kyaml")]
)
def test_kubectl_lowercases_json_yaml_kyaml_and_name(spelling: str, fmt: str) -> None:
    assert parse_output(spelling).format == fmt


@pytest.mark.parametrize("text", ["WIDE", "Wide", "Jsonpath={.a}", "CUSTOM-COLUMNS=A:.a", "Go-Template={{.a}}"])
def test_nothing_else_is_lowercased(text: str) -> None:
    with pytest.raises(UsageError, match=NO_PRINTER.format(re.escape(text))):
        parse_output(text)


def test_the_hint_lists_every_format_kates_takes() -> None:
    with pytest.raises(UsageError) as info:
        parse_output("bogus")
    hint = info.value.hint or ""
    for fmt in ("wide", "json", "yaml", "kyaml", "name", "jsonpath=", "jsonpath-as-json=", "jsonpath-file="):
        assert fmt in hint.split(": ", 1)[1].split(", "), hint
    for fmt in ("custom-columns=", "custom-columns-file=", "go-template=", "go-template-file=", "template="):
        assert fmt in OUTPUTS
    assert "templatefile=" in hint.split(", "), hint


@pytest.mark.parametrize("text", ["custom-columns", "custom-columns-file", "custom-columns=", "custom-columns-file="])
def test_custom_columns_without_columns_is_kubectls_error(text: str) -> None:
    with pytest.raises(UsageError, match=r"^custom-columns format specified but no custom columns given$"):
        parse_output(text)


def test_custom_columns_take_their_spec_from_template(tmp_path: Path) -> None:
    out = parse_output("custom-columns", "NAME:.metadata.name,KIND:.kind")
    assert out.format == "custom-columns" and [h for h, _ in out.columns] == ["NAME", "KIND"]
    spec = tmp_path / "cols.txt"
    spec.write_text("NAME   KIND\n.metadata.name   .kind\n")
    out = parse_output("custom-columns-file", str(spec))
    assert out.from_file and [h for h, _ in out.columns] == ["NAME", "KIND"]


@pytest.mark.parametrize(
    "text", ["jsonpath={.a}", "jsonpath-as-json={.a}", "go-template={{.a}}", "template={{.a}}", "custom-columns=A:.a"]
)
def test_a_format_with_its_template_and_template_matches_no_printer(text: str) -> None:
    """kubectl's printers take the template from --template or from -o, never both."""
    with pytest.raises(UsageError, match=NO_PRINTER.format(re.escape(text))):
        parse_output(text, "{.b}")
    assert parse_output("json", "{.b}").format == "json"  # a format without a template ignores it, as kubectl


@pytest.mark.parametrize(
    ("output", "show_labels", "label_columns", "words"),
    [
        ("json", True, None, "--show-labels option cannot be used with json printer"),
        ("JSON", True, None, "--show-labels option cannot be used with JSON printer"),
        ("name", True, None, "--show-labels option cannot be used with name printer"),
        ("custom-columns", True, None, "--show-labels option cannot be used with custom-columns printer"),
        (
            "custom-columns=A:.a",
            False,
            ["app"],
            "--label-columns option cannot be used with custom-columns=A:.a printer",
        ),
        ("custom-columns-file=x", False, ["a,b"], "--label-columns option cannot be used with custom-columns-file=x"),
    ],
)
def test_printer_flags_kubectl_refuses(
    output: str, show_labels: bool, label_columns: list[str] | None, words: str
) -> None:
    with pytest.raises(UsageError, match=f"^{re.escape(words)}"):
        check_printer_flags(output, show_labels, label_columns)


@pytest.mark.parametrize(
    ("output", "show_labels", "label_columns"),
    [(None, True, ["a"]), ("wide", True, ["a"]), ("json", False, ["a"]), ("yaml", False, None), ("name", False, [])],
)
def test_printer_flags_kubectl_takes(output: str | None, show_labels: bool, label_columns: list[str] | None) -> None:
    check_printer_flags(output, show_labels, label_columns)


def test_only_one_file_implies_one_item(tmp_path: Path) -> None:
    """cli-runtime's builder: one file to visit (a file, or a directory holding one manifest file), never stdin."""
    one, two, nested = tmp_path / "one", tmp_path / "two", tmp_path / "nested"
    for d in (one, two, nested / "sub"):
        d.mkdir(parents=True)
    (one / "a.yaml").write_text("{}")
    (one / "notes.txt").write_text("")  # not a manifest file: never read
    (two / "a.yaml").write_text("{}")
    (two / "b.json").write_text("")
    (nested / "a.yml").write_text("{}")
    (nested / "sub" / "b.yaml").write_text("{}")
    assert one_file([str(one / "a.yaml")])
    assert one_file([str(one)])
    assert one_file([str(nested)])  # its subdirectory is not read without -R
    assert not one_file([str(nested)], recursive=True)
    assert not one_file([str(two)])
    assert not one_file(["-"])
    assert not one_file([str(one / "a.yaml"), str(one / "a.yaml")])


def _printer(output: str, template: str | None, events: bool) -> KindPrinter:
    """A -w printer of ConfigMaps, for its rendering alone (no server: state and client are never used)."""
    ref = SimpleNamespace(kind_group="configmap", namespaced=True)
    view = {"no_headers": False, "show_kind": False, "show_labels": False, "label_columns": []}
    opts = {"all_namespaces": False}
    out: Any = parse_output(output, template)
    return KindPrinter(
        None,
        None,
        ref,
        out,
        view,
        opts,
        events,
        threading.Lock(),
        threading.Event(),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("output", "with_events", "without"),
    [
        ('jsonpath={.type} {.object.metadata.name}{"\\n"}', "ADDED a\n", " \n"),
        ("jsonpath={.metadata.name}", "", "a"),
        ('go-template={{.type}} {{.object.metadata.name}}{{"\\n"}}', "ADDED a\n", "<no value> <no value>\n"),
        ("jsonpath-as-json={.type}", '[\n    "ADDED"\n]\n', "[]\n"),
    ],
)
def test_watch_event_templates_read_the_event(output: str, with_events: str, without: str) -> None:
    """With --output-watch-events a template reads kubectl's metav1.WatchEvent ({type, object}); without, the
    object."""
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}}
    for events, want in ((True, with_events), (False, without)):
        text = io.StringIO()
        _printer(output, None, events)._render("ADDED", obj, text)
        assert text.getvalue() == want, (events, text.getvalue())


def test_watch_event_lines_are_gos_json() -> None:
    obj = {"kind": "X", "metadata": {"name": "a"}, "spec": {"f": 1e-6, "s": "<&>", "n": 1e20}}
    text = io.StringIO()
    _printer("json", None, True)._render("MODIFIED", obj, text)
    assert text.getvalue() == (
        '{"type":"MODIFIED","object":{"kind":"X","metadata":{"name":"a"},'
        '"spec":{"f":0.000001,"n":100000000000000000000,"s":"\\u003c\\u0026\\u003e"}}}\n'
    )
