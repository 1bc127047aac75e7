"""Parity rows for `-o yaml` (issue 10, §1): kubectl's bytes for awkward strings, keys, numbers, blocks and lists."""

from __future__ import annotations

from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import WIDGET_CRD, create, ensure_crd
from tests.e2e.parity import Case

AWKWARD = {
    "y": "n",
    "on": "off",
    "1e3": "0o17",
    "0x1F": "~",
    "x08": "1_000",
    ".5": ".inf",
    "-": "- a",
    "a10": "2001-12-14",
    "a2": "a: b",
    "B": "a #b",
    "_x": " lead",
    "trail": "trail ",
    "block": "line 1\nline 2\n",
    "keep": "kept\n\n",
    "strip": "no newline\nat the end",
    "indent": "  indented\nfirst line",
    "tab": "a\tb",
    "emoji": "😀 and é",
    "quote": 'it\'s "quoted" \\',
    "empty": "",
    "long": " ".join(["folded"] * 30),
    "crlf": "a\r\nb",
}


def _configmap(cluster: ControlPlane, ns: str) -> None:
    create(
        cluster,
        f"/api/v1/namespaces/{ns}/configmaps",
        {"metadata": {"name": "awkward", "labels": {"y": "n", "on": "1e3"}}, "data": AWKWARD},
    )


def _widget(cluster: ControlPlane, ns: str) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    spec = {
        "numbers": [0, -1, 1.5, 0.0001, 0.00001, 1e21, 1234567.5, 9223372036854775807, 12345678901234567890],
        "flags": [True, False, None],
        "empty": {"map": {}, "list": []},
        "nested": [{"a": ["x", {"b": []}]}, ["y", ["on"]]],
        "keys": {"": 1, " lead": 2, "a: b": 3, "😀": 4, "x" * 130: 5, "multi\nline": 6, "é": 7},
        "strings": AWKWARD,
    }
    create(
        cluster,
        f"/apis/example.com/v1/namespaces/{ns}/widgets",
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec},
    )


CASES = [
    Case("yaml-configmap-awkward-strings", ("get", "cm", "awkward", "-n", "{ns}", "-o", "yaml"), setup=_configmap),
    Case("yaml-list-of-configmaps", ("get", "cm", "-n", "{ns}", "-o", "yaml"), setup=_configmap),
    Case("yaml-widget-numbers-keys-nesting", ("get", "widget", "w", "-n", "{ns}", "-o", "yaml"), setup=_widget),
    Case("yaml-empty-list", ("get", "cm", "-n", "{ns}", "-l", "none=here", "-o", "yaml")),
]
