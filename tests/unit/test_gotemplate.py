"""The Go template engine (kates_cli/cli/gotemplate): lexer, parser and executor.

The big table's expected text comes from Go's own text/template (tests/unit/data/gotemplate_probe: Go 1.26 with
kubectl's `exists` and `base64decode` copied from k8s.io/cli-runtime), over data decoded as kubectl decodes an object
(integers int64, other numbers float64). A recorded `PARSE ...` is a parse error, `TEXT|ERR ...` an execution error
after TEXT was printed. The end-to-end comparison with kubectl itself is tests/e2e/test_gotemplate.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from kates_cli.cli.gotemplate import GoTemplate
from kates_cli.cli.gotemplate.lexer import lex
from kates_cli.cli.gotemplate.parser import Branch, Field, parse
from kates_cli.errors import UsageError

RECORDED = json.loads((Path(__file__).parent / "data" / "go-template-cases.json").read_text())
KNOWN_DIFFERENCES = {"{{- 3}} {{-3}} {{3 -}} {{3-}}"}  # Go says `bad number syntax: "3-"`, kates `"-"`


def _outcome(template: str, data: Any) -> str:
    t = None
    try:
        t = GoTemplate(template)
    except UsageError as exc:
        return "PARSE template: " + str(exc).split(", template: ", 1)[1]
    out = io.StringIO()
    try:
        t.write(out, data)
    except UsageError as exc:
        return out.getvalue().split("Error executing template: ")[0] + "|ERR " + str(exc).split('": ', 1)[1]
    return out.getvalue()


@pytest.mark.parametrize(
    "case",
    [c for c in RECORDED["cases"] if c["template"] not in KNOWN_DIFFERENCES],
    ids=lambda c: c["template"][:60],
)
def test_prints_what_go_text_template_prints(case: dict[str, str]) -> None:
    assert _outcome(case["template"], json.loads(json.dumps(RECORDED["data"]))) == case["go"]


def test_the_recorded_table_is_large_and_covers_errors() -> None:
    outcomes = [c["go"] for c in RECORDED["cases"]]
    assert len(outcomes) >= 100
    assert sum(o.startswith("PARSE") for o in outcomes) >= 20
    assert sum("|ERR" in o for o in outcomes) >= 20


def test_lexer_trims_spaces_around_trim_markers_only() -> None:
    texts = [t.value for t in lex("a \n {{- .x -}} \n b {{.y}} c {{-3}}") if t.kind == "text"]
    assert texts == ["a", "b ", " c "]  # `{{-3}}` is the number -3, not a trim marker
    assert GoTemplate("a \n {{- /* note */ -}} \n b").render({}) == "ab"


def test_parser_builds_branches_and_field_chains() -> None:
    body, templates = parse('{{define "t"}}x{{end}}{{if .a.b}}{{.c}}{{else if .d}}y{{else}}z{{end}}')
    assert list(templates) == ["t"]
    (branch,) = body
    assert isinstance(branch, Branch) and branch.kind == "if"
    cond = branch.pipe.cmds[0].args[0]
    assert isinstance(cond, Field) and cond.names == ["a", "b"]
    assert branch.else_body is not None and isinstance(branch.else_body[0], Branch)


def test_missing_keys_are_errors_when_not_allowed() -> None:
    t = GoTemplate("{{.a}}-{{.b}}", allow_missing_keys=False)
    with pytest.raises(UsageError, match='map has no entry for key "b"'):
        t.render({"a": 1})
    assert GoTemplate("{{.a}}-{{.b}}").render({"a": 1}) == "1-<no value>"
    with pytest.raises(UsageError, match=r'at <\.b\.c>: map has no entry for key "b"'):
        GoTemplate("{{.b.c}}", allow_missing_keys=False).render({"a": 1})


def test_an_execution_error_prints_kubectls_debugging_dump() -> None:
    out = io.StringIO()
    with pytest.raises(UsageError) as info:
        GoTemplate("x{{.a.b}}").write(out, {"a": "s<"})
    assert str(info.value).startswith('error executing template "x{{.a.b}}": template: output:1:5: executing')
    assert out.getvalue() == (
        'xError executing template: template: output:1:5: executing "output" at <.a.b>: can\'t evaluate field b in '
        "type interface {}. Printing more information for debugging the template:\n\ttemplate was:\n\t\tx{{.a.b}}\n"
        '\traw data was:\n\t\t{"a":"s\\u003c"}\n\tobject given to template engine was:\n\t\tmap[a:s<]\n\n'
    )


def test_objects_nested_thousands_deep_print_without_recursion() -> None:
    deep: Any = "leaf"
    for i in range(20000):
        deep = {"k": [deep]} if i % 2 else {"k": deep}
    text = GoTemplate("{{.k}}").render(deep)
    assert text.count("map[") == 19999 and text.count("leaf") == 1 and text.count("]") == 19999 + 10000
    out = io.StringIO()
    with pytest.raises(UsageError):
        GoTemplate("{{.k.nope.x}}").write(out, {"k": [deep]})  # the dump prints the deep object too
    assert out.getvalue().count("map[") == 20001 and out.getvalue().count('{"k":') == 20001  # Go value, raw JSON


def test_templates_may_recurse() -> None:
    t = GoTemplate('{{define "r"}}{{if .}}{{len .}}{{template "r" (slice . 1)}}{{end}}{{end}}{{template "r" .l}}')
    assert t.render({"l": [1, 2, 3]}) == "321"


def test_a_template_nested_too_deeply_for_python_is_a_usage_error() -> None:
    assert GoTemplate("{{if .}}" * 50 + "x" + "{{end}}" * 50).render({"a": 1}) == "x"
    with pytest.raises(UsageError, match="nested too deeply"):
        GoTemplate("{{if .}}" * 5000 + "x" + "{{end}}" * 5000)
