"""core/readview.py: a hook run's reads see its snapshot plus its own writes (pure logic)."""

from __future__ import annotations

from kates_cli.core.accumulator import Accumulator, Query, QueryState, make_entry
from kates_cli.core.readview import RunView, selection_of
from kates_cli.core.selection import Selection


def secret(ns, name, rv, **labels):
    meta = {"namespace": ns, "name": name, "resourceVersion": rv, "uid": f"u-{name}", "labels": labels}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": {"v": rv}}


def qstate(name="secrets", namespace=None, labels=None, fields=None, resource="secrets"):
    return QueryState(Query(name, "secret", namespace, labels, fields), "", resource, "v1", "Secret")


def synced_acc(*states_and_objs):
    acc = Accumulator([s for s, _ in states_and_objs])
    for s, objs in states_and_objs:
        acc.replace(s.query.name, [make_entry(o) for o in objs], "100")
    return acc


def test_a_run_keeps_seeing_its_snapshot_while_the_watch_moves_on():
    s = qstate(namespace="app")
    acc = synced_acc((s, [secret("app", "db", "10")]))
    data = acc.snapshot_changes()[1]
    run = RunView(acc.taken_views)
    acc.event("secrets", "MODIFIED", make_entry(secret("app", "db", "20")))
    acc.event("secrets", "ADDED", make_entry(secret("app", "new", "21")))
    answer = run.answer(Selection("", "secrets", "app", name="db"))
    assert answer is not None and answer.source == "secrets" and not answer.dependency
    [entry] = answer.entries
    assert entry.rv == "10" and entry.raw in data  # the very bytes of the stdin snapshot
    listed = run.answer(Selection("", "secrets", "app"))
    assert listed is not None and [e.key for e in listed.entries] == [("app", "db")]


def test_a_read_no_view_covers_is_not_answered():
    s = qstate(namespace="app", labels="tier=db")
    acc = synced_acc((s, [secret("app", "db", "10", tier="db")]))
    acc.snapshot_changes()
    run = RunView(acc.taken_views)
    assert run.answer(Selection("", "secrets", "app", name="db")) is None  # it may exist outside the labels
    assert run.answer(Selection("", "configmaps", "app", name="db")) is None
    assert run.answer(Selection("", "secrets", None)) is None
    hit = run.answer(Selection("", "secrets", "app", label_selector="tier=db"))
    assert hit is not None and len(hit.entries) == 1


def test_a_missing_object_is_an_empty_answer_not_a_miss():
    acc = synced_acc((qstate(namespace="app"), []))
    acc.snapshot_changes()
    answer = RunView(acc.taken_views).answer(Selection("", "secrets", "app", name="gone"))
    assert answer is not None and answer.entries == []


def test_the_runs_own_writes_are_read_back():
    s = qstate(namespace="app", labels="tier=db")
    acc = synced_acc((s, [secret("app", "db", "10", tier="db"), secret("app", "old", "11", tier="db")]))
    acc.snapshot_changes()
    run = RunView(acc.taken_views)
    sel = Selection("", "secrets", "app", label_selector="tier=db")
    run.record_write("update", "", "secrets", secret("app", "db", "30", tier="db"))
    run.record_write("create", "", "secrets", secret("app", "made", "31", tier="db"))
    run.record_write("create", "", "secrets", secret("app", "elsewhere", "32", tier="web"))  # outside the scope
    run.record_write("delete", "", "secrets", {"metadata": {"namespace": "app", "name": "old"}})
    run.record_write("update", "", "secrets", secret("other", "db", "33", tier="db"))  # not this view's namespace
    answer = run.answer(sel)
    assert answer is not None
    assert [(e.key[1], e.rv) for e in answer.entries] == [("db", "30"), ("made", "31")]
    assert answer.entries[0].raw == make_entry(secret("app", "db", "30", tier="db")).raw
    # a write that moves an object out of the scope masks it
    run.record_write("update", "", "secrets", secret("app", "made", "40", tier="web"))
    answer = run.answer(sel)
    assert answer is not None and [e.key[1] for e in answer.entries] == ["db"]


def test_an_older_write_never_replaces_a_newer_one():
    acc = synced_acc((qstate(namespace="app"), [secret("app", "db", "50")]))
    acc.snapshot_changes()
    run = RunView(acc.taken_views)
    sel = Selection("", "secrets", "app", name="db")
    run.record_write("update", "", "secrets", secret("app", "db", "40"))  # older than the snapshot's
    assert run.answer(sel).entries[0].rv == "50"  # type: ignore[union-attr]
    run.record_write("update", "", "secrets", secret("app", "db", "70"))
    run.record_write("update", "", "secrets", secret("app", "db", "60"))  # arrived late
    assert run.answer(sel).entries[0].rv == "70"  # type: ignore[union-attr]


def test_the_snapshot_the_run_got_is_not_changed_by_the_runs_writes():
    acc = synced_acc((qstate(namespace="app"), [secret("app", "db", "10")]))
    acc.snapshot_changes()
    run = RunView(acc.taken_views)
    view_before = dict(acc.taken_views["secrets"][1])
    run.record_write("delete", "", "secrets", {"metadata": {"namespace": "app", "name": "db"}})
    assert acc.taken_views["secrets"][1] == view_before
    assert run.answer(Selection("", "secrets", "app", name="db")).entries == []  # type: ignore[union-attr]


def test_queries_answer_before_dependencies_and_dependencies_read_are_the_batch():
    q = qstate(namespace="app")
    dep = qstate("dependency", namespace="app", fields="metadata.name=db")
    other = qstate("dependency", namespace="app", fields="metadata.name=api", resource="configmaps")
    acc = synced_acc((q, [secret("app", "db", "10")]))
    acc.snapshot_changes()
    views = dict(acc.taken_views)
    views["dependency:secrets app/db"] = (dep, {("app", "db"): make_entry(secret("app", "db", "10"))})
    views["dependency:configmaps app/api"] = (other, {})
    run = RunView(views)
    answer = run.answer(Selection("", "secrets", "app", name="db"))
    assert answer is not None and answer.source == "secrets"  # the query, first
    assert run.read_selections() == []
    answer = run.answer(Selection("", "configmaps", "app", field_selector="metadata.name=api"))
    assert answer is not None and answer.dependency and answer.entries == []
    assert run.read_selections() == [Selection("", "configmaps", "app", name="api")]


def test_a_dependency_added_during_the_run_answers_frozen_and_counts_as_read():
    acc = synced_acc((qstate(namespace="app", resource="configmaps"), []))
    acc.snapshot_changes()
    run = RunView(acc.taken_views)
    sel = Selection("", "secrets", "app", name="db")
    assert run.answer(sel) is None
    dep = qstate("dependency", namespace="app", fields=sel.watch_field_selector)
    live = {("app", "db"): make_entry(secret("app", "db", "10"))}
    run.add("dependency:secrets app/db", dep, live)
    live[("app", "db")] = make_entry(secret("app", "db", "11"))  # the dependency's stream moves on
    assert run.answer(sel).entries[0].rv == "10"  # type: ignore[union-attr]
    assert run.read_selections() == [sel] == [selection_of(dep)]


def test_a_dependency_on_a_server_evaluated_field_selector_answers_its_own_read():
    sel = Selection("", "secrets", "app", field_selector="type=Opaque")
    dep = qstate("dependency", namespace="app", fields="type=Opaque")
    obj = secret("app", "db", "10")
    obj["type"] = "Opaque"
    run = RunView({"dependency:x": (dep, {("app", "db"): make_entry(obj)})})
    answer = run.answer(sel)
    assert answer is not None and [e.key for e in answer.entries] == [("app", "db")]
    assert run.answer(Selection("", "secrets", "app", field_selector="type=Other")) is None
