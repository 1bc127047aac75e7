"""The kubectl parity table: one `Case` per behaviour that kates and kubectl 1.37 share, run end to end in plain mode
(no terminal) against the same objects on the real control plane.

A case passes when both tools give the same bytes on stdout (or the same after masking ages), the same exit status
class (success or failure: kubectl exits 1 for every failure, kates documents distinct codes), and both stderrs hold
the case's key words. Cases live in `tests/e2e/parity_cases/<area>.py` as a module-level `CASES` list; the one test
in `test_parity.py` collects every module there, so areas never edit a shared file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.controlplane.launcher import ControlPlane

AGE = re.compile(r"(?<=\s)\d+[smhd](\d+[smh])?(?=\s|$)")

READ_ONLY = ("get", "api-resources", "version", "logs")

Setup = Callable[[ControlPlane, str], Any]


@dataclass(frozen=True)
class Case:
    """One row of the parity table.

    `args` go to both tools after `{ns}` (the test's namespace) and `{dir}` (a scratch directory holding `files`)
    are replaced; `kates_args` replaces them for kates only, where kates spells something differently on purpose.
    `stdout` is "same" (bytes), "masked" (ages masked, runs of spaces collapsed) or "ignore".
    `stderr_words` must appear in both stderrs; `kates_stderr_words` in kates's only.
    `setup(cluster, ns)` creates objects as admin, without kates.
    """

    id: str
    args: tuple[str, ...]
    setup: Setup | None = None
    stdin: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    stdout: str = "same"
    stderr_words: tuple[str, ...] = ()
    kates_stderr_words: tuple[str, ...] = ()
    kates_args: tuple[str, ...] | None = None
    env: dict[str, str] = field(default_factory=dict)
    # a read-only row (get, api-resources, version, logs) retries an exact mismatch three times, because an age may
    # tick between the two commands; a row that changes objects runs once unless it says otherwise, or a rerun could
    # compare two alike failures
    retries: int | None = None

    @property
    def attempts(self) -> int:
        if self.retries is not None:
            return self.retries
        return 3 if _command(self.args) in READ_ONLY else 1


GLOBAL_VALUED = ("--context", "--kubeconfig", "-n", "--namespace")  # global options written before the command


def _command(args: tuple[str, ...]) -> str | None:
    """The command word of `args`: the first word that is neither a global option nor its value."""
    i = 0
    while i < len(args):
        if args[i] in GLOBAL_VALUED:
            i += 2
        elif args[i].startswith("-"):
            i += 1
        else:
            return args[i]
    return None


def masked(text: str) -> str:
    """Mask AGE cells and collapse runs of spaces, so that a tick between two commands compares equal."""
    return "\n".join(re.sub(r" {2,}", "  ", AGE.sub("<age>", line)) for line in text.splitlines())


def age_digits(text: str) -> str:
    """Zero the digits of AGE cells only: `2m7s` and `2m8s` compare equal, every other byte must match (an age whose
    length changed, `9s` to `10s`, moves the columns and is retried instead)."""
    return AGE.sub(lambda m: re.sub(r"[0-9]", "0", m.group(0)), text)


def expand(args: tuple[str, ...], ns: str, scratch: str) -> list[str]:
    return [a.replace("{ns}", ns).replace("{dir}", scratch) for a in args]
