"""The output options `get` and `wait` share, as kubectl's commands share its PrintFlags: one declaration of each, so
both commands spell, default and explain them alike. Each function makes a fresh `typer.Option`, to be a parameter's
default; what the values mean is `get.parse_output`'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer

from . import completion


def output(help: str, formats: Sequence[str]) -> Any:
    """`-o/--output`, explained for the command, completing its own list of formats (kubectl's, in its order)."""
    return typer.Option(None, "--output", "-o", help=help, autocompletion=completion.formats(*formats))


def template() -> Any:
    """`--template`."""
    return typer.Option(
        None,
        "--template",
        help="The template of -o go-template or -o jsonpath (given without =TEMPLATE); alone it means -o go-template.",
    )


def allow_missing_template_keys() -> Any:
    """`--allow-missing-template-keys` (true by default, as in kubectl)."""
    return typer.Option(
        True,
        "--allow-missing-template-keys/--no-allow-missing-template-keys",
        help="A key missing from an object prints <no value> (go-template) or nothing (jsonpath); "
        "=false makes it an error, as in kubectl.",
    )


def show_managed_fields() -> Any:
    """`--show-managed-fields`."""
    return typer.Option(
        False, "--show-managed-fields", help="Keep metadata.managedFields in -o json/yaml (kubectl hides them)."
    )
