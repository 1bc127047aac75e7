"""Warnings on stderr as kubectl prints them: the API server's `Warning` headers and kates's own warnings.

`install()` (called by main()) makes every server warning of this process a `Warning: <text>` line on stderr, each
distinct text once, `Warning:` in yellow on a colour terminal (kubectl's rules: a terminal, TERM not dumb, no
NO_COLOR). `warn(text)` writes one of kates's own warnings in the same form.
"""

from __future__ import annotations

import os
import sys

from ..core import server_warnings

_writer: server_warnings.WarningWriter | None = None


def _color() -> bool:
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM") != "dumb" and "NO_COLOR" not in os.environ


def install() -> server_warnings.WarningWriter:
    global _writer
    _writer = server_warnings.WarningWriter(lambda: sys.stderr, color=_color())
    server_warnings.set_handler(_writer)
    return _writer


def warn(text: str) -> None:
    (_writer or install()).write(text)
