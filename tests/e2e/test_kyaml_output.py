"""`-o kyaml` against kubectl 1.37 (KEP-5295): the same bytes for single objects, lists and `get -w`."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from tests import figures
from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, WIDGET_CRD, Runner, _env, create, ensure_crd, kubectl_path
from .test_yaml_output import _objects

# name -> a Widget's spec (preserve-unknown-fields: any JSON), each with strings, keys or numbers kyaml treats apart
CASES: dict[str, Any] = {
    "bool-words": {"v": ["yes", "no", "on", "off", "y", "n", "true", "False", "TRUE", "t", "f"]},
    "bool-word-keys": {"yes": "yes", "no": "no", "on": 1, "off": 0, "y": "y", "n": "n", "t": "t", "f": "f"},
    "null-words": {"null": "null", "Null": "~", "~": "", "NULL": None, "nil": "nil"},
    "numbers-as-strings": {"v": ["1e3", "0x10", "0o17", "0b101", "017", "1_000", ".5", "-1.5e-3", "+12", "1."]},
    "numbers-as-keys": {"1e3": 1, "0x10": 2, "017": 3, "1_000": 4, "12": 5, "1e400": 6, "0x1p-2": 7, "inf": 8},
    "leading-zeros": {"zip": "007", "00": "0", "0001": "01", "id": "0123456789"},
    "colons-hashes": {"a:b": "a: b", "#c": "# not a comment", "k#": "x #y", "url": "http://e.com/a?b=c#d"},
    "multi-line": {"text": "line one\nline two\n", "no-final": "a\nb", "blank": "\n\nx\n\n", "lone": "\n"},
    "multi-line-spaces": {"lead": " a\n  b\n\tc\n", "trail": "a \nb  \n", "deep": {"x": {"y": "p\nq"}}},
    "unicode": {"ja": "日本語", "emoji": "🚀 go", "ключ": "значение", "nbsp": "a\u00a0b", "ls": "a\u2028b"},
    "controls": {"bell": "\a\b\f\r\v", "esc": "\x1b[0m", "nul": "a\x00b"},
    "quotes-backslashes": {"dq": 'say "hi"', "bs": "C:\\path\\x", "sq": "it's", "tab": "a\tb", "both": '"\\'},
    "empty-strings": {"e": "", "": "empty key", "sp": " ", "sps": "   "},
    "empty-containers": {"m": {}, "l": [], "ml": [{}, []], "nested": {"a": {"b": {}}}, "ll": [[], [[]]]},
    "big-integers": {"max": 9223372036854775807, "min": -9223372036854775808, "over": 9223372036854775808},
    "huge-integers": {"u64": 18446744073709551615, "e20": 100000000000000000000, "e25": 10**25},
    "floats": {"half": 0.5, "third": 1 / 3, "tiny": 1.5e-7, "small": 0.000001, "big": 1e21, "neg": -2.5e-10},
    "integral-floats": {"one": 1.0, "k": 1000.0, "e20": 1e20, "neg": -0.0, "pi": 3.14159},
    "booleans-null": {"t": True, "f": False, "n": None, "list": [True, False, None, 0, ""]},
    "mixed-lists": {"l": [1, "a", {"k": "v"}, [2], None], "maps": [{"a": 1}, {"b": [{"c": {}}]}]},
    "deep-nesting": {"d": {"d": {"d": {"d": {"d": {"d": {"d": {"d": {"l": [[[[{"end": "x"}]]]]}}}}}}}}},
    "odd-keys": {"-a": 1, "a-": 2, "a.b": 3, ".a": 4, "a/b": 5, "/a": 6, "_a": 7, "a b": 8, "ä": 9, "A1": 10},
    "timestamps": {"2024-01-02": "2024-01-02", "2024-1-2": "x", "2024-13-01": "y", "2024-02-30": "z", "1:20": "1:20"},
    "indicators": {"v": ["- a", "? b", ": c", "[x]", "{y}", "&a", "*b", "!t", "|", ">", "'", "%", "@", "`"]},
    "long-line": {"v": "word " * 40, "k" * 100: "long key"},
}

DEEP_LEVELS = 300  # past Python's comfort: the printer is iterative


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"leaf": "bottom\nline"}
    for i in range(levels):
        node = {"n": node, "l": [i]} if i % 2 else {"n": [node]}
    return node


def _widget(ns: str, name: str, spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def test_kyaml_cases_are_kubectls_bytes(cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner) -> None:
    """Each case a single object (`get widget NAME -o kyaml`), then all of them as one List, then configmaps."""
    ensure_crd(cluster, WIDGET_CRD)
    for i, spec in enumerate(CASES.values()):
        create(cluster, f"/apis/example.com/v1/namespaces/{ns}/widgets", _widget(ns, f"k{i:02d}", spec))
    create(cluster, f"/apis/example.com/v1/namespaces/{ns}/widgets", _widget(ns, "deep", _deep(DEEP_LEVELS)))
    for i, spec in enumerate(list(CASES.values())[:6]):
        data = {k: v for k, v in spec.items() if isinstance(v, str) and k and all(c.isalnum() or c in "-._" for c in k)}
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"c{i}"}, "data": data})

    differ = []
    names = [f"k{i:02d}" for i in range(len(CASES))] + ["deep"]
    for case, name in zip([*CASES, "deep"], names, strict=True):
        args = ("get", "widget", name, "-n", ns, "-o", "kyaml")
        mine, theirs = kates(*args), kubectl(*args)
        assert theirs.code == 0, theirs
        assert theirs.out.startswith("---\n{\n")
        if (mine.code, mine.out, mine.err) != (0, theirs.out, ""):
            differ.append((case, mine, theirs.out))
    figures.record("kyaml", "single objects", identical=len(names) - len(differ), total=len(names))
    assert not differ, differ[0]

    for args in (("get", "widgets", "-n", ns), ("get", "cm", "-n", ns), ("get", "widget", "k00", "k05", "-n", ns)):
        mine, theirs = kates(*args, "-o", "kyaml"), kubectl(*args, "-o", "kyaml")
        assert theirs.code == 0, theirs
        assert 'kind: "List"' in theirs.out
        assert mine.code == 0, mine
        assert mine.out == theirs.out


def test_kyaml_of_awkward_strings_is_kubectls(cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner) -> None:
    """The `-o yaml` corpus (hundreds of generated awkward strings as keys and values) through `-o kyaml`."""
    ensure_crd(cluster, WIDGET_CRD)
    configmaps, widgets = _objects(ns)
    for cm in configmaps:
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm)
    for widget in widgets:
        create(cluster, f"/apis/example.com/v1/namespaces/{ns}/widgets", widget)
    for args in (("get", "cm", "-n", ns), ("get", "widget", "corpus", "-n", ns)):
        mine, theirs = kates(*args, "-o", "kyaml"), kubectl(*args, "-o", "kyaml")
        assert theirs.code == 0, theirs
        assert mine.code == 0, mine
        assert mine.out == theirs.out


def _watch(cluster: ControlPlane, cache_dir: Path, prefix: list[str], args: list[str], last: str) -> str:
    """The first documents of `get -w` up to the one naming `last`, and that one whole."""
    proc = subprocess.Popen([*prefix, *args], stdout=subprocess.PIPE, text=True, env=_env(cluster, cache_dir, None))
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    seen_last = False
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            seen_last = seen_last or line.strip() == f'name: "{last}",'
            if seen_last and line == "}\n":
                break
    finally:
        proc.kill()
        proc.wait()
    return "".join(lines)


def test_watch_prints_kubectls_kyaml_documents(cluster: ControlPlane, ns: str, cache_dir: Path) -> None:
    """`get -w -o kyaml`: one `---` document per object; with --output-watch-events, `type` before `object`."""
    for i, value in enumerate(["y", "on", "0x1F", "a\nb\n", "2001-12-14"]):
        create(
            cluster,
            f"/api/v1/namespaces/{ns}/configmaps",
            {"metadata": {"name": f"w{i}"}, "data": {"v": value, value.strip().replace("\n", "-"): "x"}},
        )
    for extra in ([], ["--output-watch-events"]):
        args = ["get", "cm", "-n", ns, "-w", "-o", "kyaml", *extra]
        theirs = _watch(cluster, cache_dir, [kubectl_path()], args, "w4")
        mine = _watch(cluster, cache_dir, KATES, args, "w4")
        assert "managedFields" not in theirs or extra
        assert theirs.count("---\n") == 6  # kube-root-ca.crt and w0..w4
        assert mine == theirs


def test_characters_kubectl_loses_are_escaped(cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner) -> None:
    """Two documented departures (as in `-o yaml`): kubectl's JSON holds DEL raw, which go-yaml v3 refuses, and NEL
    raw, which it reads as a line break folded to a space. kates escapes both, so the value reads back unchanged."""
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "nel"}, "data": {"v": "a\x85b"}})
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "del"}, "data": {"v": "a\x7fb"}})
    theirs, mine = (
        kubectl("get", "cm", "nel", "-n", ns, "-o", "kyaml"),
        kates("get", "cm", "nel", "-n", ns, "-o", "kyaml"),
    )
    assert '  v: "a b",\n' in theirs.out
    assert '  v: "a\\Nb",\n' in mine.out
    assert mine.out.replace("\\N", " ") == theirs.out
    theirs, mine = (
        kubectl("get", "cm", "del", "-n", ns, "-o", "kyaml"),
        kates("get", "cm", "del", "-n", ns, "-o", "kyaml"),
    )
    assert theirs.code == 1 and "control characters are not allowed" in theirs.err
    assert mine.code == 0 and '  v: "a\\x7fb",\n' in mine.out


def test_writes_print_kubectls_kyaml(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    """create/update/patch -o kyaml print the server's returned object as kubectl's do: no-op patches and updates
    (the same object comes back to both), and patch --local."""
    data = {"a": "1e3", "b": "multi\nline\n", "on": "", "0x10": "yes", "u": "日本"}
    create(
        cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "wr", "labels": {"y": "n"}}, "data": data}
    )
    patch = ("patch", "cm", "wr", "-n", ns, "--type", "merge", "-p", '{"data":{"a":"1e3"}}', "-o")
    for fmt in ("kyaml", "yaml", "json"):  # managedFields hidden in all three, as kubectl does
        mine, theirs = kates(*patch, fmt), kubectl(*patch, fmt)
        assert theirs.code == 0, theirs
        assert mine.code == 0, mine
        assert mine.out == theirs.out
        assert "managedFields" not in mine.out
    current = kubectl("get", "cm", "wr", "-n", ns, "-o", "json")
    (tmp_path / "wr.json").write_text(current.out)
    mine = kates("update", "-f", str(tmp_path / "wr.json"), "-o", "kyaml")
    theirs = kubectl("replace", "-f", str(tmp_path / "wr.json"), "-o", "kyaml")
    assert theirs.code == 0, theirs
    assert mine.code == 0, mine
    assert mine.out == theirs.out
    local = ("patch", "--local", "-f", str(tmp_path / "wr.json"), "--type", "merge", "-p", '{"data":{"c":"0x10"}}')
    mine, theirs = kates(*local, "-o", "kyaml"), kubectl(*local, "-o", "kyaml")
    assert theirs.code == 0, theirs
    assert mine.out == theirs.out
    mine = kates("create", "-f", str(tmp_path / "wr.json"), "-o", "kyaml", "--dry-run=server")
    assert mine.code == 7 and mine.out == ""  # AlreadyExists: nothing printed


def test_api_resources_kyaml_is_kubectls(kates: Runner, kubectl: Runner) -> None:
    """An APIResourceList is a Go struct: its fields in struct order, not sorted."""
    for args in (("api-resources", "-o", "kyaml"), ("api-resources", "--api-group", "apps", "-o", "kyaml")):
        mine, theirs = kates(*args), kubectl(*args)
        assert theirs.code == 0, theirs
        assert mine.code == 0, mine
        assert mine.out == theirs.out
