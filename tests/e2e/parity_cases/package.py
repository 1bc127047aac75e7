"""Parity rows for the package area: `completion SHELL` (the scripts differ: each tool completes its own commands)."""

from __future__ import annotations

from tests.e2e.parity import Case

CASES = [
    Case("package-completion-bash", ("completion", "bash"), stdout="ignore"),
    Case("package-completion-zsh", ("completion", "zsh"), stdout="ignore"),
    Case("package-completion-fish", ("completion", "fish"), stdout="ignore"),
    Case("package-completion-no-shell", ("completion",), stderr_words=("error: Shell not specified.",)),
    Case("package-completion-tcsh", ("completion", "tcsh"), stderr_words=('error: Unsupported shell type "tcsh".',)),
    Case(
        "package-completion-two-shells",
        ("completion", "bash", "zsh"),
        stderr_words=("error: Too many arguments. Expected only the shell type.",),
    ),
]
