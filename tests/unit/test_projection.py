"""Projections (issue 14, section 1): the `jq=` word of a query, and a projected query's snapshot, changes and
deltas in the accumulator (pure logic, scripted events)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from kates_cli.cli.app import main
from kates_cli.cli.queries import parse_query, split_query
from kates_cli.core.accumulator import Accumulator, Query, QueryState, make_entry
from kates_cli.core.projection import ProjectionError
from kates_cli.core.readview import RunView
from kates_cli.core.selection import Selection
from kates_cli.errors import ExitCode, UsageError
from tests.unit.test_query_fuzz import listener  # noqa: F401  (a fixture: a server that counts connections)

SPEC = "{name: .metadata.name, replicas: .spec.replicas}"

# -- the grammar -------------------------------------------------------------------------------------------------


def test_jq_takes_the_rest_of_the_query_verbatim() -> None:
    text = "web=deploy ns=prod l=app=web jq={name: .metadata.name, c: [.spec.template.spec.containers[] | .name]}"
    assert split_query(text) == [
        "web=deploy",
        "ns=prod",
        "l=app=web",
        "jq={name: .metadata.name, c: [.spec.template.spec.containers[] | .name]}",
    ]
    q = parse_query(text, "default")
    assert (q.name, q.kind, q.namespace, q.label_selector) == ("web", "deploy", "prod", "app=web")
    assert q.jq == "{name: .metadata.name, c: [.spec.template.spec.containers[] | .name]}"


@pytest.mark.parametrize(
    ("text", "jq"),
    [
        (f"deploy jq={SPEC}", SPEC),
        ('cm jq=.data | select(.v == "a b")  ', '.data | select(.v == "a b")'),  # jq's own quotes kept
        ("cm jq='.data | keys'", ".data | keys"),  # one pair of single quotes dropped (never jq syntax)
        ('cm "jq=.data | keys"', ".data | keys"),  # the whole word quoted, as for l= and f=
        ("cm l=a, jq=.data", ".data"),  # never taken for the continuation of a selector
        ("cm l='x in (a, b)' jq=.metadata", ".metadata"),
    ],
)
def test_jq_filters_in_a_query(text: str, jq: str) -> None:
    assert parse_query(text, "default").jq == jq


def test_a_query_without_jq_has_none_and_a_query_named_jq_is_a_name() -> None:
    assert parse_query("web=deploy ns=prod", "default").jq is None
    q = parse_query("jq=cm", "default")
    assert (q.name, q.kind, q.jq) == ("jq", "cm", None)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("web=deploy jq={name: ", 'invalid query "web=deploy jq={name: ": the jq filter does not compile: syntax'),
        ("cm jq=.a ns=prod", "the jq filter does not compile: syntax error"),  # jq= comes last
        ("cm jq=$nope", "$nope is not defined"),
        ("cm jq=", "jq= holds no filter"),
        ("cm jq=''", "jq= holds no filter"),
    ],
)
def test_a_filter_that_does_not_compile_is_a_usage_error_naming_the_query(text: str, why: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_query(text, "default")
    assert why in err.value.message and "\n" not in err.value.message
    assert err.value.message.startswith(f'invalid query "{text}": ')


def test_a_bad_filter_exits_2_before_any_connection(
    listener: list[int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["watch", "-q", "cms=cm", "-q", "web=deploy jq={name: .metadata.name", "--once"]) == ExitCode.USAGE
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith('error: invalid query "web=deploy jq={name: .metadata.name": the jq filter does not')
    assert err[1].startswith("hint: jq=FILTER comes last: it takes the rest of the query")
    assert len(err) == 2 and listener[0] == 0


def test_jq_is_imported_only_for_a_query_with_a_filter() -> None:
    code = (
        "import sys\n"
        "from kates_cli.cli.queries import parse_query\n"
        "from kates_cli.core.accumulator import Accumulator, QueryState\n"
        "Accumulator([QueryState(parse_query('web=deploy ns=prod l=a=b', None))])\n"
        "assert 'jq' not in sys.modules, 'jq imported without a filter'\n"
        "parse_query('web=deploy jq=.spec', None)\n"
        "assert 'jq' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the accumulator -------------------------------------------------------------------------------------------------


def deploy(name: str, rv: int, replicas: int = 1, ready: int = 0, ns: str = "prod", uid: str = "") -> dict[str, Any]:
    meta = {"name": name, "namespace": ns, "resourceVersion": str(rv), "uid": uid or f"u-{name}"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {"replicas": replicas},
        "status": {"readyReplicas": ready},
    }


def projected(jq: str = SPEC, name: str = "web") -> QueryState:
    return QueryState(Query(name, "deploy", None, jq=jq), "apps", "deployments", "apps/v1", "Deployment")


def bootstrapped(state: QueryState, *objs: dict[str, Any]) -> Accumulator:
    acc = Accumulator([state])
    acc.replace(state.query.name, [make_entry(o) for o in objs], "10")
    return acc


def take(acc: Accumulator) -> tuple[bool, bytes, list[tuple[str, str]]]:
    changed, data, deltas = acc.snapshot_json()
    return changed, data, [(d.type, d.name) for d in deltas]


def test_the_snapshot_holds_the_projections_in_namespace_then_name_order() -> None:
    acc = bootstrapped(projected(), deploy("b", 5, 2), deploy("a", 6, 3), deploy("a", 7, 1, ns="dev"))
    changed, data, deltas = take(acc)
    assert changed and deltas == [("add", "a"), ("add", "a"), ("add", "b")]
    assert data == b'{"web":[{"name":"a","replicas":1},{"name":"a","replicas":3},{"name":"b","replicas":2}]}'


def test_a_status_only_update_is_no_change_and_a_spec_change_is_one() -> None:
    acc = bootstrapped(projected(), deploy("web", 5))
    first = take(acc)
    for rv in range(11, 31):  # 20 status updates
        acc.event("web", "MODIFIED", make_entry(deploy("web", rv, ready=rv)))
        assert take(acc) == (False, first[1], [])
    acc.event("web", "MODIFIED", make_entry(deploy("web", 31, replicas=2, ready=30)))
    assert take(acc) == (True, b'{"web":[{"name":"web","replicas":2}]}', [("update", "web")])
    assert acc.update({}) is False


def test_a_filter_yielding_nothing_drops_the_object_and_several_results_are_all_kept() -> None:
    acc = bootstrapped(projected(".spec.replicas as $r | select($r > 0) | range($r) | {n: .}"), deploy("a", 5, 2))
    acc.replace("web", [make_entry(deploy("a", 5, 2)), make_entry(deploy("b", 6, 0))], "10")
    assert take(acc) == (True, b'{"web":[{"n":0},{"n":1}]}', [("add", "a")])  # b yields nothing: absent
    acc.event("web", "MODIFIED", make_entry(deploy("b", 11, 1)))
    assert take(acc) == (True, b'{"web":[{"n":0},{"n":1},{"n":0}]}', [("add", "b")])
    acc.event("web", "MODIFIED", make_entry(deploy("a", 12, 0)))
    assert take(acc) == (True, b'{"web":[{"n":0}]}', [("delete", "a")])  # still watched, no longer projected
    acc.event("web", "DELETED", make_entry(deploy("a", 13, 0)))
    assert take(acc)[0] is False


def test_equal_projections_give_equal_bytes() -> None:
    one = bootstrapped(projected('{b: .spec.replicas, a: "<x&y>"}'), deploy("web", 5))
    two = bootstrapped(projected('{a: "<x&y>", b: .spec.replicas}'), deploy("web", 9))
    assert take(one)[1] == take(two)[1] == b'{"web":[{"a":"\\u003cx\\u0026y\\u003e","b":1}]}'


def test_a_recreated_object_with_the_same_projection_is_no_change() -> None:
    acc = bootstrapped(projected(), deploy("web", 5))
    take(acc)
    acc.event("web", "DELETED", make_entry(deploy("web", 11)))
    acc.event("web", "ADDED", make_entry(deploy("web", 12, uid="another")))
    assert take(acc)[0] is False  # the projection holds no uid: put .metadata.uid in it to see recreations


def test_own_writes_overlay_the_projection_only_when_it_changes() -> None:
    acc = bootstrapped(projected(), deploy("web", 5))
    take(acc)
    acc.record_write("update", "apps", "deployments", deploy("web", 20, ready=1))  # a hook's update-status
    assert take(acc)[0] is False
    acc.record_write("update", "apps", "deployments", deploy("web", 21, replicas=4, ready=1))
    assert take(acc) == (True, b'{"web":[{"name":"web","replicas":4}]}', [("update", "web")])
    acc.event("web", "MODIFIED", make_entry(deploy("web", 21, replicas=4, ready=1)))  # the watch confirms it
    assert take(acc)[0] is False


def test_reads_of_a_run_see_the_whole_objects() -> None:
    acc = bootstrapped(projected(), deploy("web", 5, ready=1))
    data = acc.snapshot_changes()[1]
    [entry] = RunView(acc.taken_views).answer(Selection("apps", "deployments", "prod", name="web")).entries  # type: ignore[union-attr]
    assert entry.obj == deploy("web", 5, ready=1) and entry.raw not in data
    snap: dict[str, list[Any]] = {}
    acc.event("web", "MODIFIED", make_entry(deploy("web", 11, replicas=3)))
    assert acc.update(snap) is True and snap == {"web": [{"name": "web", "replicas": 3}]}
    assert acc.status() == {"web": {"synced": True, "count": 1}}


def test_a_filter_failing_on_an_object_names_it_and_takes_nothing() -> None:
    acc = bootstrapped(projected(".spec.replicas + 1"), deploy("ok", 5))
    assert take(acc)[1] == b'{"web":[2]}'
    bad = deploy("bad", 11)
    bad["spec"]["replicas"] = "three"
    acc.event("web", "ADDED", make_entry(bad))
    acc.event("web", "MODIFIED", make_entry(deploy("ok", 12, 4)))
    with pytest.raises(ProjectionError) as err:
        acc.snapshot_json()
    assert err.value.message == (
        'query web: the jq filter failed on deployment.apps/bad in namespace prod: string ("three") and number (1) '
        "cannot be added"
    )
    assert err.value.hint is not None and "try (...) catch empty" in err.value.hint
    assert err.value.exit_code == ExitCode.ERROR
    acc.event("web", "DELETED", make_entry(deploy("bad", 13)))  # nothing was taken: ok's change is still there
    assert take(acc) == (True, b'{"web":[5]}', [("update", "ok")])


def test_a_library_query_with_a_bad_filter_is_a_usage_error_and_filtered_update_refuses_projections() -> None:
    with pytest.raises(UsageError, match=r"^query web: the jq filter does not compile: syntax error"):
        projected("{")
    acc = bootstrapped(projected(), deploy("web", 5))
    with pytest.raises(UsageError, match="filtered_update works on whole objects, and query web is projected"):
        acc.filtered_update({}, lambda obj: True)


def test_dependencies_and_unprojected_queries_keep_whole_objects() -> None:
    plain = QueryState(Query("all", "deploy"), "apps", "deployments", "apps/v1", "Deployment")
    acc = Accumulator([projected(), plain])
    for name in ("web", "all"):
        acc.replace(name, [make_entry(deploy("web", 5))], "10")
    take(acc)
    acc.event("web", "MODIFIED", make_entry(deploy("web", 11, ready=1)))
    acc.event("all", "MODIFIED", make_entry(deploy("web", 11, ready=1)))
    changed, data, deltas = take(acc)
    assert changed and deltas == [("update", "web")]  # from the plain query only
    assert b'"web":[{"name":"web","replicas":1}]' in data and b'"readyReplicas":1' in data


def test_a_filter_yielding_without_end_fails_naming_the_object() -> None:
    acc = bootstrapped(projected("repeat(.metadata.name)"), deploy("web", 5))
    with pytest.raises(ProjectionError, match=r"failed on deployment.apps/web in namespace prod: it yields more than"):
        acc.snapshot_json()
