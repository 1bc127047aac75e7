"""`kates wait`'s rules (cli/waitfor.py), fed scripted stream changes: no cluster, no threads."""

from __future__ import annotations

from typing import Any

import pytest

from kates_cli.cli.waitfor import Progress, Watched, parse_conditions, split_jsonpath_input
from kates_cli.errors import KatesError, NotFound, UsageError


def cm(name: str, uid: str = "u1", **extra: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "uid": uid}, **extra}


def named(*names: str, index: int = 0) -> Watched:
    return Watched(f"w{index}", "configmap", "configmaps", "configmaps", "ns", list(names))


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
    assert not p.done and p.timeout_messages() == ["timed out waiting for the condition on configmaps/b"]
    assert p.event("w0", "MODIFIED", cm("b", data={"x": "1"})) == ["configmap/b condition met"]
    assert p.done


def test_create_phase_timeout_names_no_object() -> None:
    p = Progress([named("a")], parse_conditions(["create"]))
    assert p.replace("w0", []) == [] and not p.done
    assert p.timeout_messages() == ["timed out waiting for the condition"]


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
    assert isinstance(p.failure, NotFound) and p.failure.message == 'configmaps "zz" not found'
    p = Progress([named("zz")], parse_conditions(["delete"]))
    assert p.replace("w0", []) == [] and p.done  # nothing to wait for, nothing printed (kubectl)
    p = Progress([named("a")], parse_conditions(["condition=Ready"]))
    p.replace("w0", [cm("a")])
    p.event("w0", "DELETED", cm("a"))
    assert isinstance(p.failure, NotFound)  # gone while waited on


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
    assert none.failure is not None and none.failure.message == "no matching resources found"


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
    assert lines == ["configmap/b condition met"] and not p.done
    assert p.timeout_messages() == ["condition not met for configmaps/a", "condition not met for configmaps/c"]


def test_a_timeout_names_every_object_not_done() -> None:
    p = Progress([named("a", "b")], parse_conditions(["delete"]))
    p.replace("w0", [cm("a"), cm("b")])
    assert p.timeout_messages() == [
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
    assert p.failure is None  # with --for=create, a missing object is waited for
    assert p.event("w0", "ADDED", cm("a", uid="u2", data={"x": "1"})) == ["configmap/a condition met"] and p.done


def test_any_with_create_waits_for_a_selection_to_find_something() -> None:
    sel = Watched("w0", "configmap", "configmaps", "configmaps", "ns")
    p = Progress([sel], parse_conditions(["create", "condition=Ready"]), any_=True)
    assert p.replace("w0", []) == [] and p.failure is None and not p.done
    assert p.event("w0", "ADDED", cm("a")) == ["configmap/a condition met: create"] and p.done
