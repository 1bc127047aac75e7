"""Man pages and completion scripts are generated from the CLI definition, committed, and checked for staleness."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kates_cli.cli import gendocs, info

ROOT = Path(__file__).resolve().parents[2]


def test_generated_files_are_current() -> None:
    assert gendocs.stale(ROOT) == [], "run `nox -s gen` and commit the result"


def test_stale_check_notices_a_changed_help_text(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert gendocs.main([str(tmp_path)]) == 0  # a fresh, current copy
    assert gendocs.main(["--check", str(tmp_path)]) == 0
    monkeypatch.setattr(info.version, "__doc__", "Print the versions, differently.")
    assert gendocs.stale(tmp_path) == ["man/kates-version.1", "man/kates.1"]  # the page and the command list
    assert gendocs.main(["--check", str(tmp_path)]) == 1


def test_every_command_has_a_page_and_the_watch_page_documents_the_hook_protocol() -> None:
    pages = {p.name for p in (ROOT / "man").glob("*.1")}
    assert {"kates.1", "kates-get.1", "kates-watch.1", "kates-logs.1", "kates-update-status.1"} <= pages
    watch = (ROOT / "man" / "kates-watch.1").read_text()
    for needle in ("HOOK PROTOCOL", "KATES_DELTAS", "KATES_RUN", "COALESCING", "COHERENCE", "EXIT STATUS"):
        assert needle in watch


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "man").glob("*.1")))
def test_man_pages_render_without_warnings(page: str) -> None:
    path = ROOT / "man" / page
    groff = shutil.which("groff")
    assert groff, "groff is needed to check the man pages"
    proc = subprocess.run([groff, "-ww", "-man", "-Tutf8", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    man = shutil.which("man")
    if man:
        proc = subprocess.run(
            [man, "-l", str(path)],
            capture_output=True,
            text=True,
            env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"),
        )
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        assert page.removesuffix(".1").upper() in proc.stdout
