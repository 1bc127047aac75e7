"""The built distribution: the wheel installs the man pages and the completion scripts where man(1), bash-completion,
zsh and fish look for them, and carries the package metadata (license, authors, URLs, classifiers).

The wheel is built by pip with the project's build backend (hatchling, a test dependency), offline.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

from kates_cli import __version__

ROOT = Path(__file__).resolve().parents[2]
DATA = f"kates-{__version__}.data/data/"
DIST_INFO = f"kates-{__version__}.dist-info/"
# the Apache License 2.0 as published (https://www.apache.org/licenses/LICENSE-2.0.txt), byte for byte
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

# where each committed file is installed, relative to the install prefix
SHARED = {
    **{f"share/man/man1/{p.name}": p for p in sorted((ROOT / "man").glob("*.1"))},
    "share/bash-completion/completions/kates": ROOT / "completions" / "kates.bash",
    "share/zsh/site-functions/_kates": ROOT / "completions" / "_kates",
    "share/fish/vendor_completions.d/kates.fish": ROOT / "completions" / "kates.fish",
}


def _run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd)
    assert proc.returncode == 0, proc
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        str(out),
        str(ROOT),
    )
    (built,) = out.glob("kates-*.whl")
    return built


def test_the_wheel_carries_the_man_pages_and_completion_scripts_as_shared_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        data = {n.removeprefix(DATA): zf.read(n) for n in zf.namelist() if n.startswith(DATA)}
    assert sorted(data) == sorted(SHARED)
    assert "share/man/man1/kates-completion.1" in data and "share/man/man1/kates-watch.1" in data
    for rel, source in SHARED.items():
        assert data[rel] == source.read_bytes(), rel


def test_the_wheel_carries_the_shell_reaper_beside_the_python_one(wheel: Path) -> None:
    """hook.Reaper runs kates_cli/cli/reaper.sh by path: a wheel without it would leave hooks of a SIGKILLed
    kates running."""
    with zipfile.ZipFile(wheel) as zf:
        for name in ("reaper.sh", "reaper.py"):
            assert zf.read(f"kates_cli/cli/{name}") == (ROOT / "kates_cli" / "cli" / name).read_bytes()


def test_installing_the_wheel_puts_them_under_the_prefix_and_man_finds_them(wheel: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    # --ignore-installed: never uninstall the kates of the running environment (pip would, for --prefix)
    _run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-index",
        "--ignore-installed",
        "--prefix",
        str(prefix),
        str(wheel),
    )
    for rel, source in SHARED.items():
        assert (prefix / rel).read_bytes() == source.read_bytes(), rel
    site = sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)})
    env = dict(os.environ, PYTHONPATH=site)
    # the installed command prints the installed script, byte for byte
    for shell, rel in (("bash", "bash-completion/completions/kates"), ("zsh", "zsh/site-functions/_kates")):
        out = _run(str(prefix / "bin" / "kates"), "completion", shell, env=env)
        assert out.stdout == (prefix / "share" / rel).read_text()
    assert (prefix / "bin" / "kubectl_complete-kates").exists()
    man = shutil.which("man")
    if man:  # man(1) finds the pages through MANPATH=<prefix>/share/man
        found = _run(man, "-w", "kates-get", env=dict(env, MANPATH=str(prefix / "share" / "man")))
        assert found.stdout.strip() == str(prefix / "share/man/man1/kates-get.1")


def test_the_wheel_metadata_names_the_license_authors_urls_and_classifiers(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        meta = HeaderParser().parsestr(zf.read(f"{DIST_INFO}METADATA").decode())
        shipped_license = zf.read(f"{DIST_INFO}licenses/LICENSE")
    assert meta["Name"] == "kates" and meta["Version"] == __version__
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Author"] == "The kates authors"
    assert meta["Requires-Python"] == ">=3.11"
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert urls and all(u.startswith("https://") for u in urls.values()), urls
    classifiers = meta.get_all("Classifier") or []
    for expected in ("Environment :: Console", "Programming Language :: Python :: 3.11", "Typing :: Typed"):
        assert expected in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the license expression says it (PEP 639)
    assert shipped_license == (ROOT / "LICENSE").read_bytes()


def test_the_license_file_is_the_apache_2_text_that_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(text).hexdigest() == APACHE_2_SHA256
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()


def test_the_sdist_carries_what_the_wheel_installs(tmp_path: Path) -> None:
    _run(sys.executable, "-c", f"import hatchling.build as b; b.build_sdist({str(tmp_path)!r})", cwd=ROOT)
    (sdist,) = tmp_path.glob("kates-*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert {"LICENSE", "README.md", "pyproject.toml"} <= names
    assert {str(source.relative_to(ROOT)) for source in SHARED.values()} <= names
