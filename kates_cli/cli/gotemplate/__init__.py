"""kubectl's `-o go-template` / `-o template`: Go's text/template language as cli-runtime's template printer runs it.

Written from Go's text/template documentation and source and from observing kubectl 1.37 against a live API server.
Values are JSON-decoded Python data (kubectl decodes an object with apimachinery's json, so integers stay int64 and
print as `3`, other numbers are float64 and print as Go's `%v`: `1.5`, `1e+21`).

Invariants:
- A template is parsed once, in `GoTemplate.__init__`; a syntax error is a `UsageError` with Go's message
  (`error parsing template TEXT, template: output:LINE: ...`), raised before any object is fetched.
- Execution never mutates the parsed template or the data. A missing map key is Go's invalid value (prints
  `<no value>`) or, with `allow_missing_keys=False`, an error `map has no entry for key "k"`; every execution error is
  a `UsageError` with kubectl's message (`error executing template "TEXT": template: output:L:C: executing ...`).
- Printing a value (maps as `map[k:v]` in key order, lists as `[a b]`, nil as `<nil>`) walks an explicit stack, so
  deeply nested objects print without Python recursion. Template nesting (`{{template}}` calling itself) is bounded
  by Go's limit, not Python's. The parser and the executor recurse on the template's own nesting (`{{if}}` inside
  `{{range}}` ...): a template nested some hundreds of levels deep is refused with a `UsageError`, never a traceback.
- This package imports only the standard library, `kates_cli.errors` and `..jsonpath.gofmt`.
"""

from __future__ import annotations

from typing import IO, Any

from ...errors import UsageError
from ..jsonpath.gofmt import _go_quote, _json, _sprint
from .execute import ExecError, Executor
from .lexer import ParseError
from .parser import parse


class GoTemplate:
    def __init__(self, template: str, *, allow_missing_keys: bool = True) -> None:
        self.template = template
        self.allow_missing_keys = allow_missing_keys
        try:
            self.body, self.templates = parse(template)
        except ParseError as exc:
            raise UsageError(f"error parsing template {template}, template: output:{exc.line}: {exc.message}") from None
        except RecursionError:  # control structures nested hundreds deep in the template text itself
            raise UsageError(
                f"error parsing template {template}, template: output: nested too deeply for kates"
            ) from None

    def render(self, data: Any) -> str:
        """The text the template prints for `data`; an execution error is a `UsageError` with kubectl's message."""
        text, err = self._run(data)
        if err is not None:
            raise err
        return text

    def write(self, out: IO[str], data: Any) -> None:
        """Print as kubectl does: on an execution error, the text printed before it and kubectl's debugging dump go
        to `out` (kubectl writes them to stdout), then the error is raised."""
        text, err = self._run(data)
        out.write(text)
        if err is not None:
            out.write(
                f"Error executing template: {err.go_message}. Printing more information for debugging the template:\n"
                f"\ttemplate was:\n\t\t{self.template}\n\traw data was:\n\t\t{_json(data)}\n"
                f"\tobject given to template engine was:\n\t\t{_sprint(data)}\n\n"
            )
            out.flush()
            raise err

    def _run(self, data: Any) -> tuple[str, _ExecUsageError | None]:
        ex = Executor(self.template, self.templates, self.allow_missing_keys)
        try:
            return ex.run(self.body, data), None
        except ExecError as exc:
            message = exc.message
        except RecursionError:  # {{template}} recursing deeper than Python allows (Go allows 100000 levels)
            message = "template: output: exceeded maximum template depth (100000)"
        return "".join(ex.out), _ExecUsageError(
            f"error executing template {_go_quote(self.template)}: {message}", message
        )


class _ExecUsageError(UsageError):
    def __init__(self, message: str, go_message: str) -> None:
        super().__init__(message)
        self.go_message = go_message


__all__ = ["GoTemplate"]
