"""The project's commands. `nox -s tests` is the one test command (CI runs it); `nox -s demo` shows kates's main job.

Every session installs what it needs itself: Python packages into its virtualenv, and the control-plane binaries,
built from Go modules into a cache directory keyed by their pins (see tests/controlplane/build.py).
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

SOURCES = ["kates_cli", "tests", "bench", "noxfile.py"]


def _install(session: nox.Session) -> None:
    session.install("-e", ".[test]")


def _lint(session: nox.Session) -> None:
    session.run("ruff", "check", *SOURCES)
    session.run("ruff", "format", "--check", *SOURCES)


def _typecheck(session: nox.Session) -> None:
    session.run("mypy", "--strict", "kates_cli")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff")
    _lint(session)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    _install(session)
    _typecheck(session)


@nox.session
def tests(session: nox.Session) -> None:
    """Lint, typecheck, then every unit and end-to-end test against the local control plane."""
    _install(session)
    _lint(session)
    _typecheck(session)
    session.run("python", "-m", "tests.controlplane.build")
    session.run("pytest", *session.posargs)


@nox.session
def gen(session: nox.Session) -> None:
    """Regenerate the man pages and completion scripts from the CLI (tests fail when they are stale)."""
    _install(session)
    session.run("python", "-m", "kates_cli.cli.gendocs", ".")


@nox.session
def cluster(session: nox.Session) -> None:
    """Run the local control plane in the foreground and print its `export KUBECONFIG=...` line."""
    _install(session)
    session.run("python", "-m", "tests.controlplane", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Start the local control plane and run kates's main job against it."""
    _install(session)
    session.run("python", "-m", "tests.demo")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark suite (bench/): kates against kubectl and the kubernetes client on a local control plane.

    `nox -s bench` runs B0-B7 at N=1000 with 3 alternating rounds, prints the table and writes bench/results.json
    and bench/RESULTS.md; arguments go to `python -m bench.run`, e.g. `nox -s bench -- --smoke`,
    `nox -s bench -- --only B1,B3`, or the scale run `nox -s bench -- --scale [--scale-sizes 1000,10000,50000]
    [--churn-seconds 600]` (B1, B2 and B6 at each size, the cost per object at each; bench/results-scale.json and
    the scale section of bench/RESULTS.md). The client-go peer (bench/peers/clientgo) is built from the Go module
    cache on first use and cached.
    """
    _install(session)
    session.run("python", "-m", "tests.controlplane.build")
    session.run("python", "-m", "bench.run", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """The soak run of issue 11 (bench/soak.py): `kates watch` with three queries over 20,000 ConfigMaps under a
    patch storm of 100 merge patches a second for 10 minutes, on a control plane of its own. Prints kates's RSS
    curve (every 5 s), whether it is flat after warm-up, and the figures (hook runs, inconsistent snapshots, the
    final snapshot against the server's state); exits 1 when a check fails. Sizes:
    `nox -s soak -- --objects 20000 --minutes 10 --rate 100`.
    """
    _install(session)
    session.run("python", "-m", "tests.controlplane.build")
    session.run("python", "-m", "bench.soak", *session.posargs)
