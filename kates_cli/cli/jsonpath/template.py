"""The public template API: JSONPath, the relaxed paths of custom columns and --sort-by, and a custom column's cell.

Reading a custom-columns spec or file, and printing the table, is cli/customcolumns.py's."""

from __future__ import annotations

import re
from typing import Any

from kates_cli.errors import UsageError

from .evaluate import _Evaluator, _Group
from .gofmt import _INVALID, _Error, _escape_terminal, _go_quote, _json, _sprint, _text
from .parser import _parse


class JSONPath:
    """A parsed kubectl JSONPath template."""

    template: str

    def __init__(self, template: str, *, allow_missing_keys: bool = True) -> None:
        """An empty template prints nothing, as client-go's does (`-o jsonpath=`, kubectl's usage error, is the
        flag's, refused where the flag is read: an empty `-o jsonpath-file` prints nothing in kubectl)."""
        self.template = template
        self.allow_missing_keys = allow_missing_keys
        try:
            self._nodes = _parse(template)
        except _Error as e:
            raise UsageError(f"error parsing jsonpath {template}, {e.message}") from None

    @classmethod
    def _compile(cls, template: str) -> JSONPath:
        """A template as custom columns and --sort-by build it: errors are client-go's bare message."""
        path = cls.__new__(cls)
        path.template = template
        path.allow_missing_keys = True
        try:
            path._nodes = _parse(template)
        except _Error as e:
            raise UsageError(e.message, hint=f"in the JSONPath expression {template}") from None
        return path

    def __repr__(self) -> str:
        return f"JSONPath({self.template!r})"

    def _groups(self, data: Any) -> list[_Group]:
        return _Evaluator(self.allow_missing_keys).find(self._nodes, data)

    def _run(self, data: Any) -> list[_Group]:
        try:
            return self._groups(data)
        except _Error as e:
            raise UsageError(
                f"error executing jsonpath {_go_quote(self.template)}: Error executing template: {e.message}",
                hint=f"template was: {self.template}",
            ) from None

    def render(self, data: Any) -> str:
        """kubectl's `-o jsonpath=TEMPLATE` output for one object (a list is one object with `items`)."""
        return "".join(" ".join(_text(v) for v in values) for _, values in self._run(data))

    def render_json(self, data: Any) -> str:
        """kubectl's exact `-o jsonpath-as-json=TEMPLATE` output: one indented JSON array (and a newline) per result
        group; text outside braces and `{"..."}` literals are groups of their own."""
        return "".join(_json(values, "    ") + "\n" for _, values in self._run(data))

    def find(self, data: Any) -> list[Any]:
        """The values of all `{}` expressions, flattened (text outside braces excluded). For a template with one
        expression, kubectl's `-o jsonpath-as-json` is this list printed as one array; `render_json` is exact."""
        return [None if v is _INVALID else v for is_text, values in self._run(data) if not is_text for v in values]


_RELAXED = re.compile(r"\{\.?([^{}]+)\}|\.?([^{}]+)")


def relaxed_path(expression: str) -> str:
    """kubectl's RelaxedJSONPathExpression: `a.b`, `.a.b`, `{a.b}` and `{.a.b}` all become `{.a.b}`."""
    if not expression:
        return expression
    match = _RELAXED.fullmatch(expression)
    if match is None:
        raise UsageError(
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'"
        )
    return "{." + (match.group(1) or match.group(2)) + "}"


def column_cell(path: JSONPath, obj: Any) -> str:
    """One custom-columns cell, as kubectl prints it (before its tabwriter aligns the row)."""
    try:
        groups = path._groups(obj)
    except _Error as e:
        raise UsageError(e.message, hint=f"in the custom column {path.template}") from None
    cells = ["<none>"] if not groups or not groups[0][1] else []
    cells.extend(_escape_terminal(_sprint(v)) for _, values in groups for v in values)
    return ",".join(cells)
