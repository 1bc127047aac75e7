"""The kubectl parity table (tests/e2e/parity.py): every row runs kates and kubectl on the same objects."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest

from kates_cli.cli import fastget
from tests.controlplane.launcher import ControlPlane

from . import parity_cases
from .conftest import Result, Runner
from .parity import Case, age_digits, expand, masked


def _cases() -> list[Case]:
    found: list[Case] = []
    for info in sorted(pkgutil.iter_modules(parity_cases.__path__), key=lambda m: m.name):
        found += importlib.import_module(f"{parity_cases.__name__}.{info.name}").CASES
    ids = [c.id for c in found]
    assert len(ids) == len(set(ids)), f"duplicate parity case ids: {ids}"
    return found


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_parity_with_kubectl(
    case: Case, cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    _check(case, cluster, ns, kates, kubectl, tmp_path)


def _fast(case: Case) -> bool:
    """Whether kates reads the case's command line on its fast path (cli/fastget.py)."""
    return fastget.parse(list(expand(case.kates_args or case.args, "ns", "/dir"))) is not None


FAST_CASES = [c for c in CASES if _fast(c)]


@pytest.mark.parametrize("case", FAST_CASES, ids=[c.id for c in FAST_CASES])
def test_parity_with_kubectl_on_the_full_path(
    case: Case, cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    """The rows that `test_parity_with_kubectl` runs on the fast path of `get`, run again on the full (click) path:
    both paths must print what kubectl prints."""

    def full(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> Result:
        return kates(*args, env={**(env or {}), "KATES_NO_FASTPATH": "1"}, **kwargs)

    _check(case, cluster, ns, full, kubectl, tmp_path)


def test_the_commonest_get_rows_take_the_fast_path() -> None:
    """The fast path is not dead code: the parity table's plain `get` rows take it."""
    assert len(FAST_CASES) >= 10, [c.id for c in FAST_CASES]


def _check(case: Case, cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path) -> None:
    for name, text in case.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    if case.setup is not None:
        case.setup(cluster, ns)
    theirs_args = expand(case.args, ns, str(tmp_path))
    mine_args = expand(case.kates_args if case.kates_args is not None else case.args, ns, str(tmp_path))
    for _attempt in range(case.attempts):
        theirs = kubectl(*theirs_args, input=case.stdin, env=case.env)
        mine = kates(*mine_args, input=case.stdin, env=case.env)
        if case.stdout != "same" or age_digits(mine.out) == age_digits(theirs.out):
            break
    assert (mine.code == 0) == (theirs.code == 0), f"exit status class differs\nkates: {mine}\nkubectl: {theirs}"
    if case.stdout == "same":  # byte for byte, but for the digits of an age that ticked between the two commands
        assert age_digits(mine.out) == age_digits(theirs.out), (
            f"stdout differs\nkates:\n{mine.out}\nkubectl:\n{theirs.out}"
        )
    elif case.stdout == "masked":
        assert masked(mine.out) == masked(theirs.out), f"stdout differs\nkates:\n{mine.out}\nkubectl:\n{theirs.out}"
    for word in case.stderr_words:
        assert word in theirs.err, f"kubectl's stderr lacks {word!r} (the case is wrong): {theirs.err!r}"
        assert word in mine.err, f"kates's stderr lacks {word!r}: {mine.err!r}\nkubectl's: {theirs.err!r}"
    for word in case.kates_stderr_words:
        assert word in mine.err, f"kates's stderr lacks {word!r}: {mine.err!r}"
