"""Dependencies from Python, against the real control plane: objects watched because they were read (issue 13,
section 2): their changes as deltas named "dependency", shared streams, release, limits and errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kates_cli import Client
from kates_cli.core.accumulator import Accumulator, Query
from kates_cli.core.deltas import Delta
from kates_cli.core.selection import Selection
from kates_cli.errors import ExitCode, Forbidden, ResourceTypeNotFound
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from . import serviceaccounts as sa
from .conftest import Runner, create, ensure_crd, schemaless_crd

MERGE = "application/merge-patch+json"


@pytest.fixture
def client(cluster: ControlPlane, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("KATES_CACHE_DIR", str(cache_dir))
    with Client(str(cluster.kubeconfig)) as c:
        yield c


class Lists:
    """A StreamObserver counting initial-set requests per query name (one per API list+watch a stream opens)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def listed(self, query: str) -> None:
        with self.lock:
            self.counts[query] = self.counts.get(query, 0) + 1

    def event(self, query: str, event_type: str) -> None:
        pass

    def restarted(self, query: str, reason: str) -> None:
        pass


def secret(cluster: ControlPlane, ns: str, name: str, value: str = "v1") -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": name}, "stringData": {"k": value}})


def patch_secret(cluster: ControlPlane, ns: str, name: str, value: str) -> None:
    code, body = cluster.request(
        "PATCH", f"/api/v1/namespaces/{ns}/secrets/{name}", {"stringData": {"k": value}}, MERGE
    )
    assert code == 200, body


def patch_cm(cluster: ControlPlane, ns: str, name: str, value: str) -> None:
    code, body = cluster.request("PATCH", f"/api/v1/namespaces/{ns}/configmaps/{name}", {"data": {"k": value}}, MERGE)
    assert code == 200, body


def bootstrapped(acc: Accumulator) -> None:
    assert acc.wait(30), "no bootstrap"
    acc.update_with_deltas({})


def next_deltas(acc: Accumulator, timeout: float = 10) -> list[Delta]:
    """The deltas of the next change (waiting for it)."""
    assert acc.wait(timeout), "no change"
    changed, deltas = acc.update_with_deltas({})
    assert changed
    return deltas


def shown(deltas: list[Delta]) -> list[tuple[str, str, str, str]]:
    return [(d.type, d.query, d.kind, d.name) for d in deltas]


def test_a_dependency_on_one_secret_raises_its_changes_as_dependency_deltas(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    secret(cluster, ns, "db")
    secret(cluster, ns, "other")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "marker"}})
    with client.watch(Query("cms", "cm", ns)) as acc:
        bootstrapped(acc)
        generation = acc.generation
        dep = acc.depend(Selection("", "secrets", ns, "db"))
        # its first bootstrap is the baseline: it raised no change (generation unchanged once depend returned)
        assert acc.generation == generation
        assert [e.obj["data"]["k"] for e in acc.view_of(dep).values()] == ["djE="]
        assert acc.dependencies() == {Selection("", "secrets", ns, "db"): 1}
        assert dep.id == f"dependency:secrets {ns}/db" and dep.state.query.field_selector == "metadata.name=db"

        patch_secret(cluster, ns, "other", "v2")  # not depended on: no change
        patch_secret(cluster, ns, "db", "v2")
        assert shown(next_deltas(acc)) == [("update", "dependency", "Secret", "db")]
        assert acc.view_of(dep)[(ns, "db")].obj["data"]["k"] == "djI="
        # the take that delivered it saw the dependency's view, after the queries'
        assert list(acc.taken_views) == ["cms", dep.id]
        assert acc.taken_views[dep.id][1][(ns, "db")].obj["data"]["k"] == "djI="
        found = acc.find(Selection("", "secrets", ns, "db"))
        assert found is not None and found[0] == dep.id
        assert acc.find(Selection("", "secrets", ns, "other")) is None  # the dependency covers db only


def test_identical_dependencies_share_one_stream_and_release_stops_it(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    secret(cluster, ns, "db")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "marker"}})
    lists = Lists()
    with client.watch(Query("cms", "cm", ns), observer=lists) as acc:
        bootstrapped(acc)
        streams = len(acc.streams)
        a = acc.depend(Selection("", "secrets", ns, "db"), holder="a")
        # the same read spelled as a field selector is the same dependency
        b = acc.depend(Selection("", "secrets", ns, field_selector="metadata.name=db"), holder="b")
        assert b is a
        assert acc.depend(Selection("", "secrets", ns, "db"), holder="a") is a  # one reference per holder
        assert lists.counts == {"cms": 1, "dependency": 1}  # one list+watch for both holders
        assert len(acc.streams) == streams + 1
        assert acc.dependencies() == {Selection("", "secrets", ns, "db"): 2}

        assert acc.release("a") == []  # b still holds it
        assert acc.dependencies() == {Selection("", "secrets", ns, "db"): 1}
        assert acc.release("b") == [Selection("", "secrets", ns, "db")]
        assert acc.dependencies() == {}
        assert len(acc.streams) == streams
        a.stream.join(10)
        assert not a.stream._thread.is_alive(), "the released dependency's stream still runs"

        patch_secret(cluster, ns, "db", "v2")  # no stream watches it any more
        patch_cm(cluster, ns, "marker", "1")
        assert shown(next_deltas(acc)) == [("update", "cms", "ConfigMap", "marker")]


# -- the Python API: query batches -----------------------------------------------------------------------------

GADGETS = schemaless_crd("deps.kates.test", "gadgets", "Gadget")  # watched by these tests only: its watches count


def server_watches(cluster: ControlPlane, resource: str) -> int:
    """The API server's own count of open WATCH requests on `resource` (apiserver_longrunning_requests) within one
    namespace (scope "namespace", or "resource" for a watch of one name): the controller manager's informers
    (garbage collector, quotas) watch every resource across all namespaces (scope "cluster"), from a moment the
    test does not choose."""
    code, text = cluster.request("GET", "/metrics", accept="text/plain")
    assert code == 200, text
    total = 0
    for line in str(text).splitlines():
        if line.startswith("apiserver_longrunning_requests{") and 'verb="WATCH"' in line:
            if f'resource="{resource}"' in line and 'scope="cluster"' not in line:
                total += int(float(line.rsplit(" ", 1)[1]))
    return total


def gadget(cluster: ControlPlane, ns: str, name: str) -> None:
    create(
        cluster,
        f"/apis/deps.kates.test/v1/namespaces/{ns}/gadgets",
        {"apiVersion": "deps.kates.test/v1", "kind": "Gadget", "metadata": {"name": name}, "spec": {}},
    )


def patch_gadget(cluster: ControlPlane, ns: str, name: str, value: str) -> None:
    code, body = cluster.request(
        "PATCH", f"/apis/deps.kates.test/v1/namespaces/{ns}/gadgets/{name}", {"spec": {"v": value}}, MERGE
    )
    assert code == 200, body


def test_a_batch_that_no_longer_reads_a_dependency_releases_it_and_its_api_watch_ends(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    ensure_crd(cluster, GADGETS)
    for name in ("a", "b"):
        gadget(cluster, ns, name)
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "marker"}})
    assert server_watches(cluster, "gadgets") == 0
    with client.watch(Query("cms", "cm", ns)) as acc:
        bootstrapped(acc)
        with acc.batch("reconciler"):
            got = acc.get("gadget", "a", ns)
            assert got is not None and got["kind"] == "Gadget" and got["metadata"]["name"] == "a"
            assert [o["metadata"]["name"] for o in acc.list("gadgets", ns, field_selector="metadata.name=b")] == ["b"]
            assert acc.get("gadget", "absent", ns) is None  # a read of nothing still watches it
        with acc.batch("other"):  # the same read by another holder shares the API watch
            assert acc.get("gadgets.deps.kates.test", "a", ns) is not None
        # each depend returned after its watch's initial events: every watch it opened is open on the server now
        wait_for(lambda: server_watches(cluster, "gadgets") == 3, what="three gadget watches on the server")
        a, b, absent = (Selection("deps.kates.test", "gadgets", ns, name) for name in ("a", "b", "absent"))
        assert acc.dependencies() == {a: 2, b: 1, absent: 1}
        figures.record("dependencies", "python batches: 3 distinct reads, 4 references", server_watches=3, references=4)

        patch_gadget(cluster, ns, "a", "1")
        assert shown(next_deltas(acc)) == [("update", "dependency", "Gadget", "a")]

        with pytest.raises(RuntimeError), acc.batch("reconciler"):  # a failing batch releases nothing
            raise RuntimeError("the reconcile failed before reading anything")
        assert len(acc.dependencies()) == 3

        with acc.batch("reconciler"):  # reads only a now
            assert (acc.get("gadget", "a", ns) or {})["spec"] == {"v": "1"}
        assert acc.dependencies() == {a: 2}
        wait_for(lambda: server_watches(cluster, "gadgets") == 1, what="the released watches to end on the server")

        with acc.batch("reconciler"):
            pass
        assert acc.dependencies() == {a: 1}  # "other" still reads it
        assert server_watches(cluster, "gadgets") == 1
        with acc.batch("other"):
            pass
        assert acc.dependencies() == {}
        wait_for(lambda: server_watches(cluster, "gadgets") == 0, what="the last watch to end on the server")
        figures.record("dependencies", "python batches: after every holder's empty batch", server_watches=0)
        patch_gadget(cluster, ns, "a", "2")  # watched by nobody now: no change
        patch_cm(cluster, ns, "marker", "1")
        assert shown(next_deltas(acc)) == [("update", "cms", "ConfigMap", "marker")]


def test_reads_covered_by_a_query_are_answered_from_it_without_a_watch(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c1"}, "data": {"k": "v"}})
    lists = Lists()
    with client.watch(Query("cms", "cm", ns), observer=lists) as acc:
        bootstrapped(acc)
        with acc.batch():
            assert (acc.get("cm", "c1", ns) or {}).get("data") == {"k": "v"}
            assert "c1" in [o["metadata"]["name"] for o in acc.list("configmaps", ns)]
        assert acc.dependencies() == {} and lists.counts == {"cms": 1}


# -- errors: forbidden and missing kinds, before and after the bootstrap -----------------------------------------


def grant(cluster: ControlPlane, ns: str, name: str, account: str, rules: list[dict[str, Any]]) -> None:
    """A Role `name` with `rules`, bound to the ServiceAccount `account` (set-up as admin, not through kates)."""
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}"
    create(cluster, f"{rbac}/roles", {"metadata": {"name": name}, "rules": rules})
    create(
        cluster,
        f"{rbac}/rolebindings",
        {
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": ns}],
        },
    )


def account_client(cluster: ControlPlane, ns: str, tmp_path: Path, secrets_verbs: list[str]) -> Client:
    """A client as the ServiceAccount "reader": get, list and watch on configmaps; `secrets_verbs` on secrets
    (through the RoleBinding "secrets", which a test may delete)."""
    sa.service_account(cluster, ns, "reader")
    every = ["get", "list", "watch"]
    grant(cluster, ns, "cms", "reader", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": every}])
    grant(cluster, ns, "secrets", "reader", [{"apiGroups": [""], "resources": ["secrets"], "verbs": secrets_verbs}])
    kc = sa.kubeconfig(cluster, sa.token(cluster, ns, "reader"), ns, tmp_path / "kc")
    return Client(str(kc))


def test_a_dependency_without_the_watch_verb_fails_clearly_and_registers_nothing(
    cluster: ControlPlane, ns: str, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KATES_CACHE_DIR", str(cache_dir))
    secret(cluster, ns, "db")
    with account_client(cluster, ns, tmp_path, ["get", "list"]) as c, c.watch(Query("cms", "cm", ns)) as acc:
        bootstrapped(acc)
        streams = len(acc.streams)
        with pytest.raises(Forbidden) as info:
            acc.depend(Selection("", "secrets", ns, "db"))
        err = info.value
        assert err.exit_code == ExitCode.FORBIDDEN
        assert err.message.startswith(f"cannot watch secrets (dependency secrets {ns}/db): "), err.message
        assert "list and watch verbs on secrets" in (err.hint or "")
        assert acc.dependencies() == {} and len(acc.streams) == streams and acc.error is None
        with pytest.raises(Forbidden), acc.batch():  # the same through the Python API
            acc.get("secret", "db", ns)


def test_a_dependency_on_a_kind_the_server_does_not_serve_names_it(client: Client, ns: str) -> None:
    with client.watch(Query("cms", "cm", ns)) as acc:
        bootstrapped(acc)
        with pytest.raises(ResourceTypeNotFound) as info:
            acc.depend(Selection("nowhere.kates.test", "things", ns, "x"))
        assert info.value.message == 'the server doesn\'t have a resource type "things" in group "nowhere.kates.test"'
        assert info.value.exit_code == ExitCode.USAGE
        with pytest.raises(ResourceTypeNotFound):
            acc.get("things.nowhere.kates.test", "x", ns)
        assert acc.dependencies() == {}


def test_a_dependency_whose_watch_is_forbidden_later_is_dropped_once_and_the_watch_goes_on(
    cluster: ControlPlane, ns: str, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KATES_CACHE_DIR", str(cache_dir))
    secret(cluster, ns, "db")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "marker"}})
    notices: list[str] = []
    with (
        account_client(cluster, ns, tmp_path, ["get", "list", "watch"]) as c,
        # the server ends each watch within a second, so the revoked right is met at the next reconnect
        c.watch(Query("cms", "cm", ns), stall_timeout=2.0, notice=notices.append) as acc,
    ):
        bootstrapped(acc)
        acc.depend(Selection("", "secrets", ns, "db"), holder="a")
        acc.depend(Selection("", "secrets", ns, "db"), holder="b")
        code, body = cluster.request(
            "DELETE", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/secrets"
        )
        assert code == 200, body
        wait_for(lambda: acc.dependencies() == {}, what="the dependency dropped")
        dropped = [n for n in notices if "dependency" in n]
        assert len(dropped) == 1 and dropped[0].startswith(f"kates: dependency secrets {ns}/db dropped: cannot "), (
            notices
        )
        assert acc.error is None
        patch_cm(cluster, ns, "marker", "1")  # the watch goes on
        assert shown(next_deltas(acc)) == [("update", "cms", "ConfigMap", "marker")]
        with pytest.raises(Forbidden):  # a later read registers it again, and fails clearly then
            acc.depend(Selection("", "secrets", ns, "db"))


def test_the_query_name_dependency_is_a_usage_error(kates: Runner) -> None:
    out = kates("watch", "-q", "dependency=secrets", "--once")
    assert out.code == ExitCode.USAGE, out
    lines = out.err.splitlines()
    assert lines[0] == (
        'error: invalid query "dependency=secrets": the query name "dependency" is reserved: deltas name changes '
        "of dependencies so"
    ), out.err
    assert len(lines) <= 2 and out.out == ""


def test_a_dependency_whose_kind_is_deleted_reports_its_objects_deleted_and_is_dropped(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    sprockets = schemaless_crd("deps.kates.test", "sprockets", "Sprocket")
    ensure_crd(cluster, sprockets)
    path = f"/apis/deps.kates.test/v1/namespaces/{ns}/sprockets"
    create(cluster, path, {"apiVersion": "deps.kates.test/v1", "kind": "Sprocket", "metadata": {"name": "s1"}})
    notices: list[str] = []
    with client.watch(Query("cms", "cm", ns), stall_timeout=2.0, notice=notices.append) as acc:
        bootstrapped(acc)
        acc.depend(Selection("deps.kates.test", "sprockets", ns), holder="a")
        code, body = cluster.request(
            "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sprockets.deps.kates.test"
        )
        assert code == 200, body
        # its objects are gone with the kind: said as deletes, then the dependency is dropped (once)
        assert shown(next_deltas(acc, 60)) == [("delete", "dependency", "Sprocket", "s1")]
        wait_for(lambda: acc.dependencies() == {}, what="the dependency dropped")
        dropped = [n for n in notices if "dependency" in n]
        assert len(dropped) == 1 and dropped[0].startswith(f"kates: dependency sprockets.deps.kates.test in {ns}"), (
            notices
        )
        assert "no longer serves sprockets.deps.kates.test" in dropped[0] and acc.error is None


def test_many_threads_reading_one_secret_at_once_open_one_watch(cluster: ControlPlane, client: Client, ns: str) -> None:
    secret(cluster, ns, "db")
    lists = Lists()
    with client.watch(Query("cms", "cm", ns), observer=lists) as acc:
        bootstrapped(acc)
        barrier = threading.Barrier(8)
        got: list[Any] = [None] * 8

        def read(i: int) -> None:
            barrier.wait()
            with acc.batch(f"reader-{i}"):
                got[i] = acc.get("secret", "db", ns)

        threads = [threading.Thread(target=read, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert all(g is not None and g["metadata"]["name"] == "db" for g in got)
        assert lists.counts == {"cms": 1, "dependency": 1}
        assert acc.dependencies() == {Selection("", "secrets", ns, "db"): 8}
