"""`-o yaml` against kubectl on a corpus of awkward strings: the same bytes, and values that read back unchanged."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, WIDGET_CRD, Runner, _env, create, ensure_crd, kubectl_path
from .yaml_corpus import KUBECTL_LOSSY, awkward_strings, transitive_groups

SEED = 10
CM_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}\Z")
LABEL = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\Z")


def _cm_keys(strings: list[str]) -> list[str]:
    """Awkward strings that are valid ConfigMap keys, and the same texts with other characters replaced."""
    keys = [s for s in strings if CM_KEY.match(s)]
    keys += [re.sub(r"[^-._a-zA-Z0-9]", "_", s)[:253] for s in strings if s]
    return [k for k in dict.fromkeys(keys) if k not in (".", "..") and not k.startswith("..")]


def _objects(ns: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    strings = awkward_strings(SEED, 600)
    assert len(strings) >= 500
    configmaps = []
    values = iter(strings * 2)
    for i, group in enumerate(transitive_groups(_cm_keys(strings), 60)):
        labels = {k: v for k, v in zip(group, reversed(group), strict=True) if LABEL.match(k) and LABEL.match(v)}
        meta = {"name": f"cm-{i:02d}", "namespace": ns, "labels": dict(list(labels.items())[:20])}
        configmaps.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": dict(zip(group, values, strict=False))}
        )
    spec: dict[str, Any] = {"list": strings, "nested": [{"deeper": {"v": s}} for s in strings[:100]]}
    keys = [s for s in strings if s != "<<"]  # kubectl writes that key plain, and cannot read it back: see below
    for i, group in enumerate(transitive_groups(keys, 60)):
        spec[f"g{i:02d}"] = dict(zip(group, reversed(group), strict=True))
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "corpus", "namespace": ns}}
    return configmaps, [{**widget, "spec": spec}]


def _json_stream(text: str) -> list[dict[str, Any]]:
    """kubectl's `-o json` of several objects: JSON documents one after another."""
    decoder, docs, i = json.JSONDecoder(), [], 0
    while i < len(text.rstrip()):
        doc, end = decoder.raw_decode(text, i)
        docs.append(doc)
        i = end + (len(text[end:]) - len(text[end:].lstrip()))
    return docs


def test_yaml_of_awkward_strings_is_kubectls_and_reads_back_unchanged(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner
) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    configmaps, widgets = _objects(ns)
    for cm in configmaps:
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm)
    for widget in widgets:
        create(cluster, f"/apis/example.com/v1/namespaces/{ns}/widgets", widget)
    for args in (("get", "cm", "-n", ns), ("get", "widgets", "-n", ns), ("get", "widget", "corpus", "-n", ns)):
        mine, theirs = kates(*args, "-o", "yaml"), kubectl(*args, "-o", "yaml")
        assert theirs.code == 0, theirs
        assert mine.code == 0, mine
        assert mine.err == ""
        assert mine.out == theirs.out  # whole lists: hundreds of keys and values, byte for byte

    sent = {o["metadata"]["name"]: o for o in configmaps + widgets}
    for kind in ("cm", "widgets"):
        mine = kates("get", kind, "-n", ns, "-o", "yaml")
        back = kubectl("create", "--dry-run=client", "-o", "json", "-f", "-", input=mine.out)
        assert back.code == 0, back
        read = [o for o in _json_stream(back.out) if o["metadata"]["name"] in sent]
        assert len(read) == (len(configmaps) if kind == "cm" else len(widgets))
        for obj in read:
            original = sent[obj["metadata"]["name"]]
            for field in ("data", "spec"):
                assert obj.get(field) == original.get(field), field
            assert obj["metadata"].get("labels") == (original["metadata"].get("labels") or None)


def test_watch_prints_kubectls_yaml_documents(cluster: ControlPlane, ns: str, cache_dir: Path) -> None:
    """`get -w -o yaml`: documents separated by `---` (none before the first), managedFields hidden."""
    for i, value in enumerate(["y", "on", "0x1F", "a\nb\n", "2001-12-14"]):
        create(
            cluster,
            f"/api/v1/namespaces/{ns}/configmaps",
            {"metadata": {"name": f"w{i}"}, "data": {"v": value, value.strip().replace("\n", "-"): "x"}},
        )
    outputs = []
    for prefix in ([kubectl_path()], KATES):
        proc = subprocess.Popen(
            [*prefix, "get", "cm", "-n", ns, "-w", "-o", "yaml"],
            stdout=subprocess.PIPE,
            text=True,
            env=_env(cluster, cache_dir, None),
        )
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        seen_last = False
        while time.monotonic() < deadline:  # the last object (w4) ends with its uid line
            line = proc.stdout.readline()
            lines.append(line)
            seen_last = seen_last or line == "  name: w4\n"
            if seen_last and line.startswith("  uid: "):
                break
        proc.kill()
        proc.wait()
        outputs.append("".join(lines))
    theirs, mine = outputs
    assert "managedFields" not in theirs and not theirs.startswith("---")
    assert theirs.count("\n---\n") == 5  # kube-root-ca.crt and w0..w4
    assert mine == theirs


def test_characters_kubectl_loses_are_escaped_and_read_back(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner
) -> None:
    """kubectl's JSON text holds NEL, DEL, C1 controls, U+FFFE and U+FFFF raw, and go-yaml's reader refuses them
    or takes NEL for a line break; kates writes go-yaml's escapes, which kubectl reads back unchanged."""
    data = {f"k{i}": s for i, s in enumerate(KUBECTL_LOSSY)}
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "lossy"}, "data": data})
    theirs = kubectl("get", "cm", "lossy", "-n", ns, "-o", "yaml")
    assert theirs.code != 0 and "control characters are not allowed" in theirs.err
    mine = kates("get", "cm", "lossy", "-n", ns, "-o", "yaml")
    assert mine.code == 0, mine
    assert '  k0: "a\\Nb"\n' in mine.out and '  k2: "a\\x7Fb"\n' in mine.out and '  k5: "a\\uFFFEb"\n' in mine.out
    back = kubectl("create", "--dry-run=client", "-o", "json", "-f", "-", input=mine.out)
    assert back.code == 0, back
    assert json.loads(back.out)["data"] == data

    nel = {"k": "a\x85b"}  # alone, kubectl prints it, as a space
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "nel"}, "data": nel})
    assert "  k: a b\n" in kubectl("get", "cm", "nel", "-n", ns, "-o", "yaml").out
    assert '  k: "a\\Nb"\n' in kates("get", "cm", "nel", "-n", ns, "-o", "yaml").out


def test_a_merge_key_lookalike_is_quoted(cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner) -> None:
    """kubectl writes a key `<<` plain, and its own reader then takes it for a YAML merge key and fails."""
    ensure_crd(cluster, WIDGET_CRD)
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "merge"}, "spec": {"<<": "<<"}}
    create(cluster, f"/apis/example.com/v1/namespaces/{ns}/widgets", widget)
    theirs = kubectl("get", "widget", "merge", "-n", ns, "-o", "yaml")
    assert "  <<: <<\n" in theirs.out
    failed = kubectl("create", "--dry-run=client", "-o", "json", "-f", "-", input=theirs.out)
    assert failed.code != 0 and "map merge requires map" in failed.err
    mine = kates("get", "widget", "merge", "-n", ns, "-o", "yaml")
    assert mine.out == theirs.out.replace("  <<: <<\n", '  "<<": <<\n')
    back = kubectl("create", "--dry-run=client", "-o", "json", "-f", "-", input=mine.out)
    assert back.code == 0, back
    assert json.loads(back.out)["spec"] == {"<<": "<<"}
