"""Parity rows for the command line's grammar (issue 10): short options with `=` or an attached value, boolean
flags with `=VALUE`, options before the command name, pflag's errors, and bad selectors."""

from __future__ import annotations

from tests.controlplane.launcher import ControlPlane
from tests.e2e.parity import Case


def two_configmaps(cluster: ControlPlane, ns: str) -> None:
    """`a` labelled a=b and owner=<ns> (so that -A finds only this test's), `b` unlabelled."""
    for name, labels in (("a", {"a": "b", "owner": ns}), ("b", {})):
        body = {"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}
        code, got = cluster.request("POST", f"/api/v1/namespaces/{ns}/configmaps", body)
        assert code == 201, got


BAD_BOOL = 'invalid argument "x" for "-A, --all-namespaces" flag: strconv.ParseBool: parsing "x": invalid syntax'

CASES = [
    Case("argv-short-equals", ("get", "-n={ns}", "cm", "-o=name"), setup=two_configmaps),
    Case("argv-short-attached", ("get", "cm", "-n{ns}", "-l=a=b", "-o=name"), setup=two_configmaps),
    Case("argv-short-equals-empty-is-value", ("get", "cm", "-n", "{ns}", "-l=", "-o=name"), setup=two_configmaps),
    Case("argv-show-labels-false", ("get", "cm", "--show-labels=false", "-n", "{ns}"), setup=two_configmaps),
    Case("argv-show-labels-T", ("get", "cm", "--show-labels=T", "-n", "{ns}"), setup=two_configmaps),
    Case("argv-all-namespaces-true", ("get", "cm", "-A=true", "-l=owner={ns}", "-o=name"), setup=two_configmaps),
    Case("argv-all-namespaces-0", ("get", "cm", "-A=0", "-n", "{ns}", "-o", "name"), setup=two_configmaps),
    Case("argv-options-before-command", ("-o=name", "-n", "{ns}", "get", "cm", "-l", "a=b"), setup=two_configmaps),
    Case(
        "argv-bool-does-not-take-next",
        ("get", "cm", "--show-labels", "false", "-n", "{ns}"),
        stderr_words=('configmaps "false" not found',),
    ),
    Case("argv-bad-bool", ("get", "cm", "--all-namespaces=x"), stderr_words=(BAD_BOOL,)),
    Case("argv-bad-bool-short", ("get", "cm", "-A=x"), stderr_words=(BAD_BOOL,)),
    Case(
        "argv-bad-bool-wait",
        ("delete", "cm", "a", "-n", "{ns}", "--wait=maybe"),
        setup=two_configmaps,
        stderr_words=(
            'invalid argument "maybe" for "--wait" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
        ),
    ),
    Case("argv-missing-value", ("get", "cm", "-o"), stderr_words=("flag needs an argument: 'o' in -o",)),
    Case("argv-missing-value-long", ("get", "cm", "--selector"), stderr_words=("flag needs an argument: --selector",)),
    Case(
        "argv-bad-label-selector",
        ("get", "cm", "-n", "{ns}", "-l", "a b"),
        stderr_words=(
            'label selector "a b", field selector ""',
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
        ),
    ),
    Case(
        "argv-bad-field-selector",
        ("get", "cm", "-n", "{ns}", "--field-selector=foo"),
        stderr_words=('field selector "foo"', "invalid selector: 'foo'; can't understand 'foo'"),
    ),
]
