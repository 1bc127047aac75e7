"""The kubectl parity table (tests/e2e/parity.py): every row runs kates and kubectl on the same objects."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

from tests.controlplane.launcher import ControlPlane

from . import parity_cases
from .conftest import Runner
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
