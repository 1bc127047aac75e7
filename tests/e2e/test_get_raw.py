"""`kates get --raw PATH` against kubectl's: the same body byte for byte, the same errors and refusals."""

from __future__ import annotations

import re
from pathlib import Path

from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, create
from .serviceaccounts import kubeconfig, service_account, token

SERVER_ERROR = re.compile(r"Error from server \((\w+)\): ")


def _same_message(mine: str, theirs: str) -> None:
    """kates's one `error: MESSAGE` line says what kubectl's `Error from server (Reason): MESSAGE` says."""
    first = theirs.splitlines()[0]
    assert SERVER_ERROR.match(first), theirs
    assert mine.splitlines()[0] == "error: " + SERVER_ERROR.sub("", first, count=1), (mine, theirs)


def test_raw_bodies_are_kubectls(cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "raw"}, "data": {"k": "yes\n"}})
    code, listed = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps")
    assert code == 200, listed
    # a list at one exact resourceVersion: its body (and continue token) cannot move between the two tools' requests,
    # as a plain list's does whenever anything else in the cluster changes (one CI run saw two revisions)
    at = listed["metadata"]["resourceVersion"]
    for path in (
        "/version",
        f"/api/v1/namespaces/{ns}/configmaps/raw",
        f"/api/v1/namespaces/{ns}/configmaps?limit=1&resourceVersion={at}&resourceVersionMatch=Exact",
        f"{cluster.server}/api/v1/namespaces/{ns}/configmaps/raw",
        "/healthz",
    ):
        mine, theirs = kates("get", "--raw", path), kubectl("get", "--raw", path)
        assert theirs.code == 0, theirs
        assert mine.code == 0, mine
        assert mine.out == theirs.out, path
        assert mine.err == theirs.err == ""
    assert '"k":"yes\\n"' in kates("get", "--raw", f"/api/v1/namespaces/{ns}/configmaps/raw").out


def test_raw_errors_are_kubectls(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    """A non-2xx answer: nothing on stdout, the server's message on stderr, kates's exit code for its kind."""
    missing = f"/api/v1/namespaces/{ns}/configmaps/missing"
    for path, code in ((missing, 4), ("/no/such/path", 4)):
        mine, theirs = kates("get", "--raw", path), kubectl("get", "--raw", path)
        assert theirs.code == 1 and theirs.out == "", theirs
        assert mine.code == code and mine.out == "", mine
        _same_message(mine.err, theirs.err)
    service_account(cluster, ns, "nobody")
    env = {"KUBECONFIG": str(kubeconfig(cluster, token(cluster, ns, "nobody"), ns, tmp_path / "kc"))}
    path = f"/api/v1/namespaces/{ns}/secrets"
    mine, theirs = kates("get", "--raw", path, env=env), kubectl("get", "--raw", path, env=env)
    assert theirs.code == 1 and "forbidden" in theirs.err, theirs
    assert mine.code == 5 and mine.out == "", mine
    _same_message(mine.err, theirs.err)


def test_raw_refusals_are_kubectls(kates: Runner, kubectl: Runner) -> None:
    for args in (
        ("get", "--raw", "/version", "cm"),
        ("get", "--raw", "/version", "-w"),
        ("get", "--raw", "/version", "-l", "a=b"),
        ("get", "--raw", "/version", "-o", "json"),
        ("get", "--raw", "version"),
    ):
        mine, theirs = kates(*args), kubectl(*args)
        assert theirs.code == 1 and theirs.out == "", theirs
        assert mine.code == 2 and mine.out == "", mine
        assert mine.err.splitlines()[0] == theirs.err.splitlines()[0], (mine, theirs)
