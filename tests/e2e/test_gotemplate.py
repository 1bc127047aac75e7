"""`kates get -o go-template` (and `template`, `go-template-file`, `--template`) against the real kubectl on the live
control plane: every case must print the same bytes, and an error case must fail with kubectl's message.

Objects (created as admin, without kates) in one namespace per module: ConfigMaps with labels, annotations and data
holding markup, quotes and non-ASCII text; a Secret (base64decode); a Deployment (ints, nested maps and lists).
kubectl exits 1 on a bad template; kates exits 2 (usage), with kubectl's message on stderr and, for an execution
error, the same text and debugging dump on stdout.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, create


@pytest.fixture(scope="module")
def tmpl_ns(cluster: ControlPlane) -> Iterator[str]:
    name = f"gotmpl-{uuid.uuid4().hex[:6]}"
    code, body = cluster.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert code == 201, body
    wait_for(
        lambda: cluster.request("GET", f"/api/v1/namespaces/{name}/configmaps/kube-root-ca.crt")[0] == 200,
        30,
        "kube-root-ca.crt in the new namespace",
    )
    for i, (tier, extra) in enumerate(
        [
            ("web", {"html": "<b>bold</b> & 'q' \"dq\"", "num": "42"}),
            ("db", {"text": "héllo\twörld ☃", "empty": ""}),
            ("web", {"url": "a b&c=d/é?"}),
        ]
    ):
        meta = {"name": f"cm-{i}", "labels": {"tier": tier, "idx": str(i)}}
        if i != 1:
            meta["annotations"] = {"note": f"note {i}", "z.example.com/last": "zz"}
        create(cluster, f"/api/v1/namespaces/{name}/configmaps", {"metadata": meta, "data": {"k": f"v{i}", **extra}})
    create(
        cluster,
        f"/api/v1/namespaces/{name}/secrets",
        {"metadata": {"name": "sec"}, "type": "Opaque", "data": {"user": "YWRtaW4=", "pw": "czNjcjN0IQ=="}},
    )
    create(
        cluster,
        f"/apis/apps/v1/namespaces/{name}/deployments",
        {
            "metadata": {"name": "web", "labels": {"tier": "web"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"tier": "web"}},
                "template": {
                    "metadata": {"labels": {"tier": "web"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "c",
                                "image": "nginx:1.27",
                                "ports": [{"containerPort": 80}, {"containerPort": 443}],
                            },
                            {"name": "side", "image": "busybox", "args": ["sleep", "1000000"]},
                        ]
                    },
                },
            },
        },
    )
    yield name
    cluster.request("DELETE", f"/api/v1/namespaces/{name}")


RANGE_NAMES = '{{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}'
CASES: list[tuple[str, ...]] = [
    # fields, missing keys, Go's formatting of values
    ("cm", "cm-0", "-o", "go-template={{.metadata.name}}"),
    ("cm", "cm-0", "-o", "go-template={{.data}}"),
    ("cm", "cm-0", "-o", "go-template={{.metadata.labels}} {{.metadata.annotations}}"),
    ("cm", "cm-0", "-o", "go-template={{.data.nope}}|{{.nope}}|{{.metadata.nope}}"),
    ("cm", "cm-1", "-o", "go-template={{.metadata.annotations}}"),
    ("cm", "cm-1", "-o", "go-template={{.metadata.annotations.note}}"),
    (
        "deploy",
        "web",
        "-o",
        "go-template={{.spec.replicas}} {{.metadata.generation}} {{.spec.template.spec.containers}}",
    ),
    ("deploy", "web", "-o", "go-template={{.spec.strategy}}"),
    ("deploy", "web", "-o", "go-template={{.spec.progressDeadlineSeconds}} {{.spec.revisionHistoryLimit}}"),
    ("cm", "-o", "go-template=" + RANGE_NAMES),
    ("cm", "-o", "go-template={{.kind}} {{.apiVersion}} {{len .items}}"),
    ("cm", "cm-0", "-o", "go-template={{.}}" if False else "go-template={{.metadata.labels.tier}}{{.metadata.labels}}"),
    ("cm", "cm-2", "-o", "go-template={{.data.url}}"),
    ("cm", "cm-1", "-o", "go-template={{.data.text}} {{.data.empty}}."),
    # range: lists, maps in key order, variables, else, break/continue
    ("cm", "-o", "go-template={{range $i, $c := .items}}{{$i}}:{{$c.metadata.name}} {{end}}"),
    ("cm", "cm-0", "-o", "go-template={{range $k, $v := .data}}{{$k}}={{$v}};{{end}}"),
    ("cm", "cm-0", "-o", "go-template={{range .data}}[{{.}}]{{end}}"),
    ("cm", "cm-1", "-o", "go-template={{range .metadata.annotations}}x{{else}}none{{end}}"),
    (
        "cm",
        "-o",
        'go-template={{range .items}}{{if eq .metadata.name "cm-1"}}{{continue}}{{end}}{{.metadata.name}} {{end}}',
    ),
    (
        "cm",
        "-o",
        'go-template={{range .items}}{{.metadata.name}} {{if eq .metadata.name "cm-0"}}{{break}}{{end}}{{end}}',
    ),
    (
        "deploy",
        "web",
        "-o",
        "go-template={{range .spec.template.spec.containers}}{{.name}}:"
        "{{range .ports}}{{.containerPort}},{{end}} {{end}}",
    ),
    (
        "deploy",
        "web",
        "-o",
        "go-template={{range $c := .spec.template.spec.containers}}{{$c.image}} {{$c.args}} {{end}}",
    ),
    ("cm", "-o", "go-template={{range .items}}{{range $k, $v := .metadata.labels}}{{$k}}={{$v}} {{end}}| {{end}}"),
    ("deploy", "web", "-o", "go-template={{range $i := .spec.replicas}}{{$i}}{{end}}"),
    # if / else if / with
    (
        "cm",
        "-o",
        "go-template="
        + '{{range .items}}{{if eq .metadata.labels.tier "web"}}W'
        + '{{else if eq .metadata.labels.tier "db"}}D{{else}}?{{end}}{{end}}',
    ),
    ("cm", "cm-1", "-o", "go-template={{with .metadata.annotations}}has{{else}}no annotations{{end}}"),
    ("cm", "cm-0", "-o", "go-template={{with .metadata.annotations}}{{.note}}{{end}}"),
    ("cm", "cm-0", "-o", "go-template={{with $x := .data.k}}{{$x}}{{$x}}{{end}}"),
    ("cm", "cm-0", "-o", "go-template={{if .data.nope}}yes{{else}}no{{end}} {{if .data.k}}yes{{end}}"),
    ("cm", "cm-1", "-o", "go-template={{if .data.empty}}yes{{else}}empty is false{{end}}"),
    # variables
    ("cm", "cm-0", "-o", 'go-template={{$n := .metadata.name}}{{$n = printf "%s!" $n}}{{$n}} {{$.kind}}'),
    ("cm", "-o", "go-template={{range .items}}{{$.kind}}/{{.metadata.name}} {{end}}"),
    # define / template / block, trimming, comments
    ("cm", "-o", 'go-template={{define "row"}}<{{.metadata.name}}>{{end}}{{range .items}}{{template "row" .}}{{end}}'),
    ("cm", "cm-0", "-o", 'go-template={{block "b" .data.k}}[{{.}}]{{end}} {{template "b" "x"}}'),
    ("cm", "cm-0", "-o", "go-template=a  {{- .data.k -}}  b {{- /* comment */ -}} c {{/* c2 */}}d"),
    ("cm", "-o", "go-template={{range .items -}}\n  {{ .metadata.name }}\n{{- end}}"),
    # functions
    (
        "cm",
        "cm-0",
        "-o",
        'go-template={{printf "%s|%q|%v|%d|%5s|%-5s|%x" .metadata.name .data.html .data 7 "ab" "ab" "hi"}}',
    ),
    (
        "deploy",
        "web",
        "-o",
        'go-template={{printf "%d %v %f %.1f %5d %05d %t" .spec.replicas .spec.replicas 1.5 2.25 3 42 true}}',
    ),
    ("cm", "cm-0", "-o", 'go-template={{printf "%d %s" .data.k}} {{printf "%s" 1 2}}'),
    ("cm", "cm-0", "-o", 'go-template={{print .data.k 1 2 "s" 3}} {{println .data.k "x"}}'),
    ("cm", "cm-0", "-o", "go-template={{html .data.html}} {{js .data.html}} {{urlquery .data.html}}"),
    ("cm", "cm-2", "-o", "go-template={{urlquery .data.url}} {{.data.url | html}} {{.data.url | js}}"),
    ("cm", "-o", 'go-template={{len .items}} {{(index .items 1).metadata.name}} {{index .items 0 "metadata" "name"}}'),
    ("cm", "cm-0", "-o", 'go-template={{index .metadata.labels "tier"}} {{index .data "nope"}}'),
    (
        "cm",
        "cm-0",
        "-o",
        "go-template={{len .data}} {{len .metadata.name}} {{slice .metadata.name 1 3}} {{slice .metadata.name 2}}",
    ),
    ("deploy", "web", "-o", "go-template={{slice .spec.template.spec.containers 1}}"),
    ("cm", "cm-0", "-o", 'go-template={{and .data.k .data.num}} {{or .data.nope "dflt"}} {{not .data.k}} {{and 0 1}}'),
    (
        "deploy",
        "web",
        "-o",
        "go-template={{eq .spec.replicas 3}} {{ne .spec.replicas 3}} {{lt .spec.replicas 5}} "
        "{{le 3 .spec.replicas}} {{gt .spec.replicas 3}} {{ge .spec.replicas 4}}",
    ),
    ("cm", "cm-0", "-o", 'go-template={{eq .data.k "v1" "v0"}} {{lt "a" "b"}} {{eq .data.nope "x"}}'),
    ("secret", "sec", "-o", "go-template={{.data.user | base64decode}} {{base64decode .data.pw}}"),
    ("secret", "sec", "-o", "go-template={{range $k, $v := .data}}{{$k}}={{$v | base64decode}} {{end}}"),
    (
        "cm",
        "cm-0",
        "-o",
        'go-template={{exists . "data" "k"}} {{exists . "data" "nope"}} {{exists .metadata "labels"}}',
    ),
    ("cm", "cm-0", "-o", 'go-template={{.data.k | printf "%s-%s" "x"}} {{"lit" | len}}'),
    ("cm", "cm-0", "-o", "go-template={{1}} {{1.5}} {{1e21}} {{0x10}} {{'a'}} {{true}} {{\"s\"}} {{`raw`}}"),
    # other spellings and flags
    ("cm", "cm-0", "-o", "template={{.metadata.name}}"),
    ("cm", "cm-0", "--template={{.metadata.name}}"),
    ("cm", "cm-0", "-o", "go-template", "--template={{.data.k}}"),
    ("cm", "cm-0", "-o", "go-template={{.data.nope}}", "--allow-missing-template-keys=false"),
    ("cm", "cm-0", "-o", "go-template={{.data.k}}", "--allow-missing-template-keys=false"),
    ("cm", "cm-0", "-o", "jsonpath={.data.nope}", "--allow-missing-template-keys=false"),  # jsonpath obeys it too
    ("cm", "cm-0", "-o", "jsonpath", "--template={.data.k}"),
    ("cm", "cm-0", "-o", "go-template={{.data.nope.x}}", "--allow-missing-template-keys=false"),
    (
        "cm",
        "-o",
        "go-template={{range .items}}{{.metadata.annotations.note}} {{end}}",
        "--allow-missing-template-keys=false",
    ),
    # errors: parse errors (usage), execution errors (kubectl's message and debugging dump)
    ("cm", "cm-0", "-o", "go-template={{.metadata.name"),
    ("cm", "cm-0", "-o", "go-template={{end}}"),
    ("cm", "cm-0", "-o", "go-template={{if .data}}x"),
    ("cm", "cm-0", "-o", "go-template={{nosuchfunc .data}}"),
    ("cm", "cm-0", "-o", "go-template={{$undefined}}"),
    ("cm", "cm-0", "-o", "go-template={{.data.nope.deeper}}"),
    ("cm", "cm-0", "-o", "go-template=before {{.metadata.name.x}}"),
    ("cm", "cm-0", "-o", "go-template={{index .data.k 99}}"),
    ("cm", "cm-0", "-o", "go-template={{eq .data.k 1}}"),
    ("cm", "cm-0", "-o", "go-template={{range .metadata.name}}{{end}}"),
    ("cm", "cm-0", "-o", "go-template={{| .data}}"),
    ("cm", "cm-0", "-o", 'go-template={{template "nope"}}'),
    ("cm", "cm-0", "-o", "go-template=\n{{.data.k}}\n  {{.data.k.x}}"),
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) for c in CASES])
def test_go_template_matches_kubectl(kates: Runner, kubectl: Runner, tmpl_ns: str, args: tuple[str, ...]) -> None:
    argv = ("get", *args, "-n", tmpl_ns)
    mine, theirs = kates(*argv), kubectl(*argv)
    assert mine.out == theirs.out, f"kates:\n{mine.out!r}\nkubectl:\n{theirs.out!r}\n{mine.err}{theirs.err}"
    if theirs.code == 0:
        assert (mine.code, mine.err) == (0, theirs.err), mine
    else:
        assert (theirs.code, mine.code) == (1, 2), (mine, theirs)
        # kates leaves out the dump kubectl appends to a jsonpath error's message (test_get_formats does the same)
        expected = theirs.err.splitlines()[0].split(". Printing more information")[0]
        assert mine.err.splitlines()[0] == expected, (mine, theirs)


def test_go_template_file_matches_kubectl(kates: Runner, kubectl: Runner, tmpl_ns: str, tmp_path: Path) -> None:
    """A multi-line template file; over all ConfigMaps, kube-root-ca.crt (no labels) fails `index` on line 2."""
    template = tmp_path / "t.tmpl"
    template.write_text('{{- range .items}}\n{{.metadata.name}}\t{{index .metadata.labels "tier"}}\n{{- end}}\n')
    argv = ("get", "cm", "-n", tmpl_ns, "-o", f"go-template-file={template}")
    mine, theirs = kates(*argv, "-l", "tier"), kubectl(*argv, "-l", "tier")
    assert (mine.code, mine.out) == (theirs.code, theirs.out) and "cm-2\tweb" in mine.out, (mine, theirs)
    mine, theirs = kates(*argv), kubectl(*argv)
    assert mine.out == theirs.out and (theirs.code, mine.code) == (1, 2), (mine, theirs)
    assert mine.err.splitlines()[0] == theirs.err.splitlines()[0], (mine, theirs)
    assert "output:2:21" in mine.err
