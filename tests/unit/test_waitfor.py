"""`kates wait`'s rules (cli/waitfor.py), fed scripted stream changes: no cluster, no threads."""

from __future__ import annotations

from typing import Any

import pytest

from kates_cli.cli.waitfor import Progress, Watched, parse_conditions, split_jsonpath_input
from kates_cli.errors import KatesError, NotFound, TimedOut, UsageError


def cm(name: str, uid: str = "u1", **extra: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "uid": uid}, **extra}


def named(*names: str, index: int = 0) -> Watched:
    return Watched(f"w{index}", "configmap", "configmaps", "configmaps", "ns", list(names))


def each(*names: str) -> list[Watched]:
    """One stream per named object, as kates wait follows up to 10 of a kind."""
    return [named(name, index=i) for i, name in enumerate(names)]


def messages(errors: list[KatesError]) -> list[str]:
    return [e.message for e in errors]


def test_parse_conditions_as_kubectl() -> None:
    conds = parse_conditions(["Delete", "condition=Ready", "condition=Ready=false", "jsonpath={.a}=1", "create"])
    assert [(c.kind, c.name, c.value) for c in conds] == [
        ("delete", "", ""),
        ("condition", "Ready", "true"),
        ("condition", "Ready", "false"),
        ("jsonpath", "", "1"),
        ("create", "", ""),
    ]
    for bad, message in (
        ([], "unrecognized condition: []"),
        (["bogus"], 'unrecognized condition: "bogus"'),
        (["jsonpath="], "jsonpath expression cannot be empty"),
        (["jsonpath={.a}=1=2"], "jsonpath wait format must be"),
        (["jsonpath={.a}="], "jsonpath wait has to have a value after equal sign"),
        (["jsonpath={.a"], "unexpected path string"),
    ):
        with pytest.raises(UsageError) as exc:
            parse_conditions(bad)
        assert exc.value.message.startswith(message), (bad, exc.value.message)


def test_split_jsonpath_input_keeps_double_equals() -> None:
    assert split_jsonpath_input("a.b.c====d.e.f===g.h.i===") == ["a.b.c====d.e.f==", "g.h.i==", ""]
    assert split_jsonpath_input("{.a}") == ["{.a}"]


def test_condition_needs_the_current_generation_and_folds_case() -> None:
    (ready,) = parse_conditions(["condition=ready=TRUE"])
    obj = {"metadata": {"generation": 2}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert ready.holds(obj)
    obj["status"]["observedGeneration"] = 1
    assert not ready.holds(obj)  # the status is about an older spec
    obj["status"]["conditions"][0]["observedGeneration"] = 2
    assert ready.holds(obj)  # the condition's own observedGeneration wins


def test_jsonpath_values() -> None:
    (any_value,) = parse_conditions(["jsonpath={.spec.n}"])
    (three,) = parse_conditions(["jsonpath=.spec.n=3"])
    assert not any_value.holds({"spec": {}}) and any_value.holds({"spec": {"n": 0}})
    assert three.holds({"spec": {"n": 3}}) and not three.holds({"spec": {"n": 4}})
    with pytest.raises(KatesError, match="nested object or list"):
        three.holds({"spec": {"n": [3]}})


def test_conditions_in_order_each_printed_once() -> None:
    p = Progress([named("a", "b")], parse_conditions(["create", "jsonpath={.data.x}=1"]))
    assert p.replace("w0", [cm("a", data={"x": "1"})]) == []  # create: nothing until every object exists
    assert p.event("w0", "ADDED", cm("b")) == ["configmap/a condition met"] * 2 + ["configmap/b condition met"]
    assert not p.done and messages(p.timeout_errors()) == ["timed out waiting for the condition on configmaps/b"]
    assert p.event("w0", "MODIFIED", cm("b", data={"x": "1"})) == ["configmap/b condition met"]
    assert p.done


def test_create_phase_timeout_names_no_object() -> None:
    p = Progress([named("a")], parse_conditions(["create"]))
    assert p.replace("w0", []) == [] and not p.done
    assert messages(p.timeout_errors()) == ["timed out waiting for the condition"]


def test_delete_seen_between_events_and_across_a_relist() -> None:
    p = Progress([named("a")], parse_conditions(["delete"]))
    p.replace("w0", [cm("a")])
    assert p.event("w0", "DELETED", cm("a")) == ["configmap/a condition met"]
    # deleted and created again while the watch was down: the relist shows another uid
    p = Progress([named("a")], parse_conditions(["delete"]))
    p.replace("w0", [cm("a", uid="u1")])
    assert p.replace("w0", [cm("a", uid="u2")]) == ["configmap/a condition met"] and p.done


def test_missing_named_objects() -> None:
    p = Progress([named("a", "zz")], parse_conditions(["jsonpath={.data.x}=1"]))
    assert p.replace("w0", [cm("a", data={"x": "1"})]) == ["configmap/a condition met"]
    assert p.finished and not p.done  # missing at its turn: its error, once the others are done with
    assert [type(e) for e in p.errors] == [NotFound] and messages(p.errors) == ['configmaps "zz" not found']
    p = Progress([named("zz")], parse_conditions(["delete"]))
    assert p.replace("w0", []) == [] and p.done  # nothing to wait for, nothing printed (kubectl)
    # gone while waited on: kubectl's watch takes a delete as "not yet", and waits on (no error)
    p = Progress([named("a")], parse_conditions(["condition=Ready"]))
    p.replace("w0", [cm("a")])
    assert p.event("w0", "DELETED", cm("a")) == [] and not p.finished and p.errors == []
    assert messages(p.timeout_errors()) == ["timed out waiting for the condition on configmaps/a"]
    ready = cm("a", uid="u2", status={"conditions": [{"type": "Ready", "status": "True"}]})
    assert p.event("w0", "ADDED", ready) == ["configmap/a condition met"] and p.done  # created again, and met


def test_any_says_which_condition_held() -> None:
    p = Progress([named("a")], parse_conditions(["condition=Complete", "condition=Failed"]), any_=True)
    assert p.replace("w0", [cm("a")]) == []
    failed = cm("a", status={"conditions": [{"type": "Failed", "status": "True"}]})
    assert p.event("w0", "MODIFIED", failed) == ["configmap/a condition met: condition=Failed"] and p.done


def test_selection_is_fixed_at_the_start_and_several_kinds_in_order() -> None:
    cms = Watched("w0", "configmap", "configmaps", "configmaps", "ns")
    svcs = Watched("w1", "service", "services", "services", "ns")
    p = Progress([cms, svcs], parse_conditions(["jsonpath={.data.x}=1"]))
    assert p.replace("w1", [cm("web", data={"x": "1"})]) == []  # the other stream has not answered yet
    assert p.replace("w0", [cm("b"), cm("a")]) == []  # a is waited on first
    assert p.event("w0", "ADDED", cm("c", data={"x": "1"})) == []  # not in the selection taken at the start
    assert p.event("w0", "MODIFIED", cm("a", data={"x": "1"})) == ["configmap/a condition met"]
    both = ["configmap/b condition met", "service/web condition met"]
    assert p.event("w0", "MODIFIED", cm("b", data={"x": "1"})) == both
    assert p.done
    empty = Progress([Watched("w0", "configmap", "configmaps", "configmaps", "ns")], parse_conditions(["delete"]))
    assert empty.replace("w0", []) == [] and empty.done
    none = Progress([Watched("w0", "configmap", "configmaps", "configmaps", "ns")], parse_conditions(["condition=A"]))
    none.replace("w0", [])
    assert none.finished and messages(none.errors) == ["no matching resources found"]


def test_for_completes_the_condition_kinds() -> None:
    import os
    import subprocess
    import sys

    env = dict(os.environ, _KATES_COMPLETE="bash_complete", COMP_WORDS="kates wait cm/a --for c", COMP_CWORD="4")
    proc = subprocess.run([sys.executable, "-m", "kates_cli"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stdout.split() == ["plain,create", "plain,condition="], proc


def test_check_once_reports_every_object_not_met_and_prints_the_others() -> None:
    p = Progress([named("a", "b", "c")], parse_conditions(["jsonpath={.data.x}=1"]), once=True)
    lines = p.replace("w0", [cm("a"), cm("b", data={"x": "1"}), cm("c")])
    assert lines == ["configmap/b condition met"] and p.finished and not p.done
    assert messages(p.errors) == ["condition not met for configmaps/a", "condition not met for configmaps/c"]
    assert {type(e) for e in p.errors} == {TimedOut}


def test_a_timeout_names_every_object_not_done() -> None:
    p = Progress([named("a", "b")], parse_conditions(["delete"]))
    p.replace("w0", [cm("a"), cm("b")])
    assert messages(p.timeout_errors()) == [
        "timed out waiting for the condition on configmaps/a",
        "timed out waiting for the condition on configmaps/b",
    ]


def test_create_over_a_selection_of_several_kinds_needs_one_object_in_all() -> None:
    sel = [Watched(f"w{i}", k, k + "s", k + "s", "ns") for i, k in enumerate(("configmap", "secret"))]
    p = Progress(sel, parse_conditions(["create"]))
    p.replace("w0", [])
    assert p.replace("w1", [cm("s")]) == ["secret/s condition met"] and p.done


@pytest.mark.parametrize(
    "args, message",
    [
        (["wait", "--for=create"], "error: You must provide one or more resources by argument or filename.\n"),
        (["wait", "cm/a"], "error: unrecognized condition: []\n"),
        (["wait", "cm/a", "--for=ready"], 'error: unrecognized condition: "ready"\n'),
        (
            ["wait", "-f", "x.yaml", "cm/a", "--for=create"],
            "error: resource/name arguments cannot be provided when a path is specified\n",
        ),
        (
            ["wait", "cm/a", "--for=create", "--timeout=soon"],
            'error: invalid argument "soon" for "--timeout" flag: time: invalid duration "soon"\n',
        ),
        (
            ["wait", "-f", "x.yaml", "cm", "--for=create"],
            "error: when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well\n",
        ),
        (
            ["wait", "cm", "a", "-l", "x", "--for=create"],
            "error: name cannot be provided when a selector is specified\n",
        ),
        (
            ["wait", "cm/a", "-l", "x", "--for=create"],
            "error: selectors and the all flag cannot be used when passing resource/name arguments\n",
        ),
        (  # kubectl's one line, its formats sorted
            ["wait", "cm/a", "--for=create", "-o", "wide"],
            'error: unable to match a printer suitable for the output format "wide", allowed formats are: '
            "go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,kyaml,name,template,"
            "templatefile,yaml\n",
        ),
    ],
)
def test_usage_errors_before_any_request(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from kates_cli.cli.app import main
    from kates_cli.errors import ExitCode

    assert main(args) == ExitCode.USAGE
    assert capsys.readouterr().err.startswith(message)


def test_a_condition_is_about_the_object_of_that_name_now() -> None:
    p = Progress([named("a")], parse_conditions(["create", "jsonpath={.data.x}=1"]))
    p.replace("w0", [cm("a", uid="u1")])
    p.event("w0", "DELETED", cm("a", uid="u1"))
    assert p.errors == [] and not p.finished  # deleted while waited on: waited on still
    assert p.event("w0", "ADDED", cm("a", uid="u2", data={"x": "1"})) == ["configmap/a condition met"] and p.done


def test_any_with_create_waits_for_a_selection_to_find_something() -> None:
    sel = Watched("w0", "configmap", "configmaps", "configmaps", "ns")
    p = Progress([sel], parse_conditions(["create", "condition=Ready"]), any_=True)
    assert p.replace("w0", []) == [] and p.errors == [] and not p.finished
    assert p.event("w0", "ADDED", cm("a")) == ["configmap/a condition met: create"] and p.done


def test_a_named_object_is_read_when_its_turn_comes() -> None:
    """kubectl reads each named object as it visits it: one created while another is waited on is waited on."""
    x1 = {"data": {"x": "1"}}
    p = Progress(each("a", "b"), parse_conditions(["jsonpath={.data.x}=1"]))
    assert p.replace("w0", [cm("a")]) == [] and p.replace("w1", []) == []  # b missing at the start: no error
    assert p.event("w1", "ADDED", cm("b", **x1)) == [] and p.errors == []
    assert p.event("w0", "MODIFIED", cm("a", **x1)) == ["configmap/a condition met", "configmap/b condition met"]
    assert p.done


def test_an_object_deleted_before_its_turn_is_its_error_and_the_next_is_waited_on() -> None:
    x1 = {"data": {"x": "1"}}
    p = Progress(each("a", "b", "c"), parse_conditions(["jsonpath={.data.x}=1"]))
    for i, name in enumerate("abc"):
        p.replace(f"w{i}", [cm(name, **(x1 if name == "c" else {}))])
    assert p.event("w1", "DELETED", cm("b")) == [] and p.errors == []  # b's turn has not come
    assert p.event("w0", "MODIFIED", cm("a", **x1)) == ["configmap/a condition met", "configmap/c condition met"]
    assert p.finished and not p.done and messages(p.errors) == ['configmaps "b" not found']


def test_every_error_is_kept_in_order_once_and_at_a_timeout() -> None:
    """A missing object no longer hides the others' errors: each is reported, in kubectl's order."""
    x1 = {"data": {"x": "1"}}
    once = Progress(each("a", "b", "c", "d"), parse_conditions(["jsonpath={.data.x}=1"]), once=True)
    for i, objs in enumerate(([cm("a")], [], [cm("c", **x1)], [cm("d", data={"x": {"y": 1}})])):
        once.replace(f"w{i}", objs)
    assert once.finished and messages(once.errors) == [
        "condition not met for configmaps/a",
        'configmaps "b" not found',
        "jsonpath leads to a nested object or list which is not supported",
    ]
    # at a timeout: the object waited on timed out; after it, a missing one is NotFound, a present one timed out
    p = Progress(each("a", "b", "c"), parse_conditions(["jsonpath={.data.x}=1"]))
    for i, objs in enumerate(([cm("a")], [], [cm("c", **x1)])):
        p.replace(f"w{i}", objs)
    assert [(type(e), e.message) for e in p.timeout_errors()] == [
        (TimedOut, "timed out waiting for the condition on configmaps/a"),
        (NotFound, 'configmaps "b" not found'),
        (TimedOut, "timed out waiting for the condition on configmaps/c"),
    ]
    # with --for=delete every NotFound is dropped (kubectl): a missing object is passed over, at a timeout too
    d = Progress(each("a", "b", "c"), parse_conditions(["delete"]))
    for i, objs in enumerate(([cm("a")], [], [cm("c")])):
        d.replace(f"w{i}", objs)
    assert messages(d.timeout_errors()) == [
        "timed out waiting for the condition on configmaps/a",
        "timed out waiting for the condition on configmaps/c",
    ]
    assert d.event("w0", "DELETED", cm("a")) == ["configmap/a condition met"] and d.errors == []


def versioned(name: str, rv: int, **extra: Any) -> dict[str, Any]:
    obj = cm(name, **extra)
    obj["metadata"]["resourceVersion"] = str(rv)
    return obj


def test_with_reads_the_object_read_at_its_turn_decides_not_a_stream_behind() -> None:
    """kubectl GETs each object when a condition's wait on it begins: a stream that has not yet delivered a create
    or a delete made before then does not decide whether the object exists."""
    x1 = {"data": {"x": "1"}}
    p = Progress(each("a", "b", "c"), parse_conditions(["jsonpath={.data.x}=1"]), reads=True)
    for i, objs in enumerate(([versioned("a", 2)], [], [versioned("c", 3, **x1)])):
        assert p.replace(f"w{i}", objs, "3") == []
    a = p.wanted
    assert a is not None and a.key == ("ns", "a")  # nothing is decided before a is read
    assert p.read(a, versioned("a", 2)) == [] and p.wanted is None
    # b is created (rv 4), then a changes (rv 5); a's event comes first: b's turn, b read, found and met
    assert p.event("w0", "MODIFIED", versioned("a", 5, **x1)) == ["configmap/a condition met"]
    b = p.wanted
    assert b is not None and b.key == ("ns", "b")
    assert p.read(b, versioned("b", 4, **x1)) == ["configmap/b condition met"]
    c = p.wanted
    assert c is not None and p.read(c, versioned("c", 3, **x1)) == ["configmap/c condition met"] and p.done
    assert p.event("w1", "ADDED", versioned("b", 4, **x1)) == []  # the stream's news, late, changes nothing
    # the other way round: b deleted (rv 4) before its turn, its stream still holding it: the read says gone
    p = Progress(each("a", "b"), parse_conditions(["jsonpath={.data.x}=1"]), reads=True)
    p.replace("w0", [versioned("a", 2, **x1)], "3")
    p.replace("w1", [versioned("b", 3, **x1)], "3")
    assert p.wanted is not None and p.read(p.wanted, versioned("a", 2, **x1)) == ["configmap/a condition met"]
    assert p.wanted is not None and p.read(p.wanted, None) == []
    assert p.finished and messages(p.errors) == ['configmaps "b" not found']


def test_with_reads_what_was_read_stands_until_the_stream_is_as_new() -> None:
    p = Progress(each("a"), parse_conditions(["jsonpath={.data.x}=1"]), reads=True)
    p.replace("w0", [versioned("a", 3)], "3")
    assert p.wanted is not None
    target = p.wanted
    assert p.read(target, versioned("a", 5)) == []
    assert p.current(target) == versioned("a", 5)  # the stream (rv 3) is behind the read
    assert p.event("w0", "MODIFIED", versioned("a", 4, data={"x": "1"})) == []  # older than the read: not it
    assert p.event("w0", "DELETED", versioned("a", 6)) == [] and p.current(target) is None  # gone after the read
    assert p.errors == [] and not p.finished  # deleted while waited on: waited on still
    assert p.event("w0", "ADDED", versioned("a", 7, data={"x": "1"})) == ["configmap/a condition met"] and p.done


def test_a_refused_watch_is_403_or_405_as_kubectls_is_forbidden_or_method_not_supported() -> None:
    """What makes `wait` follow each object instead of the kind, and `delete --wait` pass over an object it may not
    watch: 403 and 405 (kubectl's IsForbidden, IsMethodNotSupported), not 401, 404 or a 500."""
    from kates_cli.cli.wait import refused
    from kates_cli.errors import from_status

    assert refused(from_status(403, None)) and refused(from_status(405, None))
    assert not any(refused(from_status(code, None)) for code in (401, 404, 500))


def test_a_deletion_seen_by_one_objects_stream_counts_past_the_version_its_turn_read() -> None:
    """wait --for=delete on more than 10 names under a Role with resourceNames: one stream per name stands in for the
    kind's; a DELETED event was handed on at the lists' resourceVersion, older than the object its turn read (a
    graceful deletion bumps it), so the deletion never counted and the wait ran to its timeout."""
    import threading
    from types import SimpleNamespace

    from kates_cli.cli.wait import _Parts
    from kates_cli.core.accumulator import make_entry

    def pod(name: str, rv: str) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": rv, "uid": "u-" + name}}

    names = [f"p{i}" for i in range(11)]
    progress = Progress([Watched("w0", "pod", "pods", "pods", "ns", names)], parse_conditions(["delete"]), reads=True)
    feed = SimpleNamespace(changed=threading.Condition(), lines=[], progress=progress, id="w0")
    parts = _Parts(feed, names)  # type: ignore[arg-type]
    for n in names:
        parts.part(n).replace("w0", [make_entry(pod(n, "100"))], "500")
    target = progress.wanted
    assert target is not None and target.key[1] == "p0"
    progress.read(target, pod("p0", "600"))  # its turn reads it after the lists: terminating, a newer version
    parts.part("p0").event("w0", "DELETED", make_entry(pod("p0", "700")))
    assert progress.cursor >= 1  # p0's deletion counted: the wait moved on
