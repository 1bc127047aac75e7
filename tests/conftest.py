"""Shared test helpers: waiting on conditions with deadlines (never bare sleeps), and the figures table printed at
the end of the session (tests/figures.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

from hypothesis import settings

from tests import figures

# Property tests draw the same inputs on every run (a fuzz test that fails one CI run in a hundred is a flaky test),
# with no per-example deadline (the machine is shared and noisy; hangs are caught by pytest-timeout and by tests'
# own bounds). `HYPOTHESIS_PROFILE=explore` draws fresh inputs, for a human hunting new bugs.
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

T = TypeVar("T")

# The user's kuberc (~/.kube/kuberc, $KUBERC) changes what kates and kubectl print, and every kates or kubectl the
# tests start inherits this process's environment: turn kuberc off for all of them. A test that sets its own kuberc
# (the e2e runners' `env` with KUBERC, KUBECTL_KUBERC or HOME, or a `--kuberc` argument) turns it back on for itself
# (tests/e2e/conftest.py `_env`); in-process tests of kuberc set their own environment (tests/unit/test_kuberc.py).
KUBERC_OFF = {"KUBECTL_KUBERC": "false"}


def without_user_kuberc(env: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """`env` (changed in place) with kuberc turned off and the user's $KUBERC dropped."""
    env.pop("KUBERC", None)
    env.update(KUBERC_OFF)
    return env


without_user_kuberc(os.environ)


def wait_for(condition: Callable[[], T], timeout: float = 30.0, what: str = "condition", interval: float = 0.05) -> T:
    """Poll `condition` until it returns something truthy; fail the test with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    last: T = condition()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
        last = condition()
    return last


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = figures.render()
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)
    figures.write_json()
