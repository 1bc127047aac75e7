"""Record kubectl's `-o yaml` for the tricky values that tests/unit/test_yamlout.py checks the emitter against.

One Widget per case (the WIDGET_CRD of tests/e2e/conftest.py must be served), holding the value in `spec.v`; the
record keeps the server's raw JSON of `spec` and kubectl's YAML from `spec:` on. Run against a local control plane:

    KUBECONFIG=... python tests/unit/data/record_yaml_cases.py tests/unit/data/kubectl-yaml-cases.json
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

KUBECTL = str(Path(sys.executable).parent / "kubectl")
NS = "yaml-cases"
LONG = "word " * 30
CASES: dict[str, Any] = {
    "bool-y": "y",
    "bool-Y": "Y",
    "bool-yes": "yes",
    "bool-No": "No",
    "bool-on": "on",
    "bool-OFF": "OFF",
    "bool-true": "true",
    "bool-False": "False",
    "not-bool-yEs": "yEs",
    "null": "null",
    "null-Null": "Null",
    "null-tilde": "~",
    "not-null-nULL": "nULL",
    "empty": "",
    "octal-0o17": "0o17",
    "hex-0x1F": "0x1F",
    "octal-017": "017",
    "float-08": "08",
    "float-1e3": "1e3",
    "int-underscore": "1_000",
    "float-dot5": ".5",
    "float-inf": ".inf",
    "float-neg-Inf": "-.Inf",
    "not-float-iNf": ".iNf",
    "int-plus": "+1",
    "int-minus": "-1",
    "int-binary": "0b101",
    "int-binary-sign": "0b-1",
    "base60-int": "1:20",
    "base60-float": "190:20:30.15",
    "not-number-0x": "0x",
    "merge-key": "<<",
    "int64-overflow": "18446744073709551616",
    "date": "2001-12-14",
    "timestamp": "2001-12-14T21:59:43Z",
    "timestamp-space": "2001-12-14 21:59:43.10",
    "not-date-feb30": "2001-02-30",
    "date-short": "2001-1-1",
    "timestamp-offset": "2001-12-14t21:59:43.10-05:00",
    "dash-space": "- a",
    "dash": "-a",
    "colon-space-lead": ": a",
    "colon-space": "a: b",
    "colon": "a:b",
    "colon-end": "a:",
    "space-hash": "a #b",
    "hash": "a#b",
    "hash-lead": "#a",
    "question-space": "? a",
    "question": "?a",
    "at": "@a",
    "backtick": "`a",
    "quote-lead": "'a",
    "dquote-lead": '"a',
    "doc-start": "---",
    "doc-start-x": "--- x",
    "doc-end": "...",
    "comma": "a,b",
    "bracket": "[a]",
    "brace": "{a}",
    "pipe": "|a",
    "lead-space": " a",
    "trail-space": "a ",
    "two-spaces": "a  b",
    "space": " ",
    "apostrophe": "it's",
    "backslash": "a\\b",
    "dquote": 'a"b',
    "tab": "a\tb",
    "tab-only": "\t",
    "lf": "a\nb",
    "lf-end": "a\n",
    "lf-lf-end": "a\n\n",
    "lf-lead": "\na",
    "lf-only": "\n",
    "lf-space-lead": " a\nb",
    "space-lf": "a \nb",
    "lf-space": "a\n b",
    "crlf": "a\r\nb",
    "cr": "a\rb",
    "lf-tab": "a\n\tb",
    "lf-emoji": "a\n😀",
    "latin": "é",
    "cjk": "日本語",
    "emoji": "😀",
    "line-separator": "a\u2028b",
    "bom": "\ufeffa b",
    "nbsp": "\xa0",
    "nul": "a\x00b",
    "esc": "a\x1bb",
    "bell": "a\x07b",
    "fold-plain": LONG.strip(),
    "fold-plain-trailing": LONG,
    "no-fold": "x" * 120,
    "fold-double": "\t" + LONG.strip(),
    "fold-single": "'" + LONG.strip(),
    "fold-double-two-spaces": "\t" + "abcdefghi  " * 12,
    "numbers": [
        0,
        -1,
        9223372036854775807,
        1.5,
        0.0001,
        0.00001,
        1e21,
        1e20,
        1234567.5,
        1.0,
        100,
        12345678901234567890,
    ],
    "bools": [True, False, None],
    "nested": {"b": {"c": ["x", {"d": [], "e": {}}, ["y", ["z"]]]}, "a": [{"k": "v", "l": ["m"]}]},
    "empty-map": {},
    "empty-list": [],
    "keys": {
        "y": 1,
        "on": 2,
        "1e3": 3,
        "": 4,
        "a b": 5,
        "a: b": 6,
        " lead": 7,
        "x" * 129: 8,
        "multi\nline": 9,
        "é": 10,
        "😀": 11,
        "k\ttab": 12,
        "- dash": 13,
    },
    "key-order": {
        k: 0 for k in ["a10", "a2", "B", "a", "_x", "-y", "1", "10", "9", "Z", "z", "a.b", "a-b", "a/b", "aB", "ab"]
    },
    "long-key-nested": {"k" * 130: {"a": [1, 2]}, "l" * 130: ["x", {"b": "c"}], "m\nn": "v"},
}


def kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KUBECTL, *args], input=stdin, capture_output=True, text=True, check=False)


def main(path: str) -> None:
    kubectl("create", "namespace", NS)
    records = []
    for i, (case, value) in enumerate(CASES.items()):
        name = f"c{i}"
        obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": NS}}
        made = kubectl("create", "-f", "-", stdin=json.dumps({**obj, "spec": {"v": value}}))
        assert made.returncode == 0, (case, made.stderr)
        raw = kubectl("get", "--raw", f"/apis/example.com/v1/namespaces/{NS}/widgets/{name}").stdout
        shown = kubectl("get", "widget", name, "-n", NS, "-o", "yaml")
        assert shown.returncode == 0, (case, shown.stderr)
        spec = shown.stdout[shown.stdout.index("\nspec:\n") + 1 :]
        records.append({"id": case, "spec": json.loads(raw)["spec"], "kubectl": spec})
    Path(path).write_text(json.dumps(records, indent=1, ensure_ascii=True) + "\n")
    kubectl("delete", "namespace", NS, "--wait=false")


if __name__ == "__main__":
    main(sys.argv[1])
