"""The suite does not depend on the kuberc of the machine running it: a `~/.kube/kuberc` (or `$KUBERC`) whose
defaults would change every `get`'s output is ignored by the kates and kubectl the tests start, unless a test sets
a kuberc of its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, Runner, create, kubectl_path
from .test_wait import Background

USER_KUBERC = {
    "apiVersion": "kubectl.config.k8s.io/v1beta1",
    "kind": "Preference",
    "defaults": [{"command": "get", "options": [{"name": "output", "default": "name"}]}],
}


def ageless(table: str) -> list[str]:
    """A table's lines without the AGE column (the last), which may tick between two runs."""
    return [line.rsplit(None, 1)[0] for line in table.splitlines()]


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME holding a kuberc that makes every `get` print names, as the suite's own environment (inherited by every
    kates and kubectl it starts), and a $KUBERC naming it as a user might have exported."""
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "kuberc").write_text(yaml.safe_dump(USER_KUBERC))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KUBERC", str(home / ".kube" / "kuberc"))
    return home


def test_a_user_kuberc_does_not_change_what_the_tests_see(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, user_home: Path, cache_dir: Path
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "one"}, "data": {"k": "v"}})
    mine, theirs = kates("get", "cm", "one", "-n", ns), kubectl("get", "cm", "one", "-n", ns)
    assert mine.code == theirs.code == 0, (mine, theirs)
    assert theirs.out.startswith("NAME   DATA   AGE\none    1      "), theirs  # the table, not `configmap/one`
    assert (ageless(mine.out), mine.err) == (ageless(theirs.out), theirs.err), (mine, theirs)
    # the other ways tests start kates and kubectl build their environment from the suite's own: isolated too
    for argv in ([*KATES, "get", "cm", "one", "-n", ns], [kubectl_path(), "get", "cm", "one", "-n", ns]):
        background = Background(cluster, cache_dir, argv).result()
        assert (background.code, ageless(background.out)) == (0, ageless(theirs.out)), background

    # the same kuberc, set by the test itself: both clients use it (so it would have changed the output above)
    own = {"HOME": str(user_home)}
    mine, theirs = kates("get", "cm", "one", "-n", ns, env=own), kubectl("get", "cm", "one", "-n", ns, env=own)
    assert (mine.code, mine.out) == (theirs.code, theirs.out) == (0, "configmap/one\n"), (mine, theirs)
    assert os.environ["KUBECTL_KUBERC"] == "false"
