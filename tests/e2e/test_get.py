"""`kates get` against the real control plane, compared with the real kubectl."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.launcher import RESTRICTED_CONTEXT, ControlPlane, free_port

from .conftest import WIDGET_CRD, Result, Runner, create, ensure_crd

AGE = re.compile(r"(?<=\s)\d+[smhd](\d+[smh])?(?=\s|$)")


def masked(text: str) -> str:
    """Mask AGE cells, which tick between two commands; re-align by collapsing runs of spaces."""
    return "\n".join(re.sub(r" {2,}", "  ", AGE.sub("<age>", line)) for line in text.splitlines())


@pytest.fixture
def kates(kates_both_paths: Runner) -> Runner:
    """Every test here runs on both paths of `get`: the fast one (cli/fastget.py) and the full click one."""
    return kates_both_paths


def assert_same_as_kubectl(kates: Runner, kubectl: Runner, *args: str) -> str:
    """kates and kubectl print the same table (ages masked); retried because ages tick, and (with -A) because the
    namespace of another test may be going away between the two commands. Returns kates's output."""
    runs: list[tuple[Result, Result]] = []

    def alike() -> bool:
        mine, theirs = kates(*args), kubectl(*args)
        assert mine.code == theirs.code == 0, (mine, theirs)
        runs.append((mine, theirs))
        return mine.out == theirs.out or (len(runs) >= 3 and masked(mine.out) == masked(theirs.out))

    try:
        wait_for(alike, 30, f"kates and kubectl to print the same for {args}", interval=0.2)
    except AssertionError:
        pass  # the assertion below shows the difference
    mine, theirs = runs[-1]
    if mine.out == theirs.out:
        return mine.out
    assert masked(mine.out) == masked(theirs.out), f"kates:\n{mine.out}\nkubectl:\n{theirs.out}"
    # same content; the column widths differ only by an age that ticked: headers must still line up identically
    assert mine.out.splitlines()[0].split() == theirs.out.splitlines()[0].split()
    return mine.out


@pytest.fixture
def workload(cluster: ControlPlane, ns: str) -> str:
    labels = {"app": "web"}
    create(
        cluster,
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "x"}]}},
            },
        },
    )
    create(
        cluster,
        f"/api/v1/namespaces/{ns}/services",
        {"metadata": {"name": "web", "labels": labels}, "spec": {"selector": labels, "ports": [{"port": 80}]}},
    )
    for i in range(3):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})

    def pods_exist() -> bool:
        code, body = cluster.request("GET", f"/api/v1/namespaces/{ns}/pods")
        return code == 200 and len(body["items"]) == 2

    wait_for(pods_exist, 60, "the controller manager to create the deployment's pods")
    return ns


KIND_FORMS = [
    ("pods", "po", "pod", "Pod", "pods.v1"),
    ("deployments", "deploy", "deployment", "Deployment", "deployments.apps", "deployment.v1.apps"),
    ("services", "svc", "service", "Service"),
    ("configmaps", "cm", "ConfigMap"),
    ("replicasets", "rs", "replicasets.apps"),
]


@pytest.mark.parametrize("forms", KIND_FORMS, ids=[f[0] for f in KIND_FORMS])
def test_get_builtin_kinds_match_kubectl_by_every_name_form(
    kates: Runner, kubectl: Runner, workload: str, forms: tuple[str, ...]
) -> None:
    reference = assert_same_as_kubectl(kates, kubectl, "get", forms[0], "-n", workload)
    assert reference.splitlines()[0].startswith("NAME")
    for form in forms[1:]:
        out, theirs = kates("get", form, "-n", workload), kubectl("get", form, "-n", workload)
        if form == "pods.v1":  # kubectl reads "v1" as a group (only name.version.group names a version)
            assert (out.code, theirs.code) == (ExitCode.USAGE, 1) and out.err == theirs.err, (out, theirs)
            continue
        assert out.code == 0, out
        assert masked(out.out) == masked(reference), form


def test_get_namespaces_matches_kubectl(kates: Runner, kubectl: Runner, workload: str) -> None:
    out = kates("get", "ns", workload)
    assert out.code == 0 and out.out.split()[:4] == ["NAME", "STATUS", "AGE", workload], out
    assert_same_as_kubectl(kates, kubectl, "get", "namespaces", workload)
    assert_same_as_kubectl(kates, kubectl, "get", "Namespace", workload, "default")


def test_get_wide_adds_priority_columns_like_kubectl(kates: Runner, kubectl: Runner, workload: str) -> None:
    out = assert_same_as_kubectl(kates, kubectl, "get", "pods", "-o", "wide", "-n", workload)
    assert "NODE" in out.splitlines()[0] and "NODE" not in kates("get", "pods", "-n", workload).out


def test_get_several_kinds_prefixes_names_like_kubectl(kates: Runner, kubectl: Runner, workload: str) -> None:
    out = assert_same_as_kubectl(kates, kubectl, "get", "deploy,svc,cm", "-n", workload)
    assert "deployment.apps/web" in out and "service/web" in out and "configmap/cm-1" in out


def test_get_selector_all_namespaces_and_labels_match_kubectl(kates: Runner, kubectl: Runner, workload: str) -> None:
    out = assert_same_as_kubectl(kates, kubectl, "get", "svc,deploy", "-A", "-l", "app=web", "--show-labels")
    assert out.splitlines()[0].startswith("NAMESPACE") and "app=web" in out
    assert_same_as_kubectl(kates, kubectl, "get", "pods", "-n", workload, "-L", "app", "--no-headers")
    assert_same_as_kubectl(kates, kubectl, "get", "cm", "-n", workload, "--field-selector", "metadata.name=cm-2")


def test_get_crd_with_printer_columns_matches_kubectl(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str
) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    for name, color, size in (("blue-one", "blue", 3), ("red-one", "red", 7)):
        create(
            cluster,
            f"/apis/example.com/v1/namespaces/{ns}/widgets",
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": name},
                "spec": {"color": color, "size": size},
            },
        )
    reference = assert_same_as_kubectl(kates, kubectl, "get", "widgets", "-n", ns)
    assert reference.splitlines()[0].split() == ["NAME", "COLOR", "AGE"]
    assert "blue-one" in reference and "red" in reference
    for form in ("wd", "widget", "Widget", "widgets.example.com", "widget.v1.example.com"):
        out = kates("get", form, "-n", ns)
        assert out.code == 0 and masked(out.out) == masked(reference), (form, out)
    wide = assert_same_as_kubectl(kates, kubectl, "get", "wd", "-n", ns, "-o", "wide")
    assert wide.splitlines()[0].split() == ["NAME", "COLOR", "SIZE", "AGE"] and " 7 " in wide


def test_get_json_list_has_kubectls_names_and_resource_versions(kates: Runner, kubectl: Runner, workload: str) -> None:
    for kind in ("cm", "pods", "deploy"):
        mine = json.loads(kates("get", kind, "-n", workload, "-o", "json").out)
        theirs = json.loads(kubectl("get", kind, "-n", workload, "-o", "json").out)
        assert mine["kind"] == theirs["kind"] == "List" and mine["apiVersion"] == "v1"
        assert [(i["metadata"]["name"], i["metadata"]["resourceVersion"]) for i in mine["items"]] == [
            (i["metadata"]["name"], i["metadata"]["resourceVersion"]) for i in theirs["items"]
        ]
        assert all(i["kind"] and i["apiVersion"] for i in mine["items"])


def test_get_single_object_yaml_and_names(kates: Runner, kubectl: Runner, workload: str) -> None:
    import yaml

    one = yaml.safe_load(kates("get", "cm", "cm-1", "-n", workload, "-o", "yaml").out)
    assert one["kind"] == "ConfigMap" and one["data"] == {"i": "1"}
    two = json.loads(kates("get", "cm", "cm-1", "cm-2", "-n", workload, "-o", "json").out)
    assert two["kind"] == "List" and [i["metadata"]["name"] for i in two["items"]] == ["cm-1", "cm-2"]
    names = kates("get", "deploy,svc", "-n", workload, "-o", "name")
    assert names.out == kubectl("get", "deploy,svc", "-n", workload, "-o", "name").out
    assert names.out == "deployment.apps/web\nservice/web\n"


def test_get_lists_in_chunks(kates: Runner, kubectl: Runner, workload: str) -> None:
    # 3 ConfigMaps (+ kube-root-ca.crt maybe) in pages of 1: same table as one page
    assert masked(kates("get", "cm", "-n", workload, "--chunk-size", "1").out) == masked(
        kubectl("get", "cm", "-n", workload).out
    )


def test_empty_list_says_no_resources_found(kates: Runner, ns: str) -> None:
    out = kates("get", "secrets", "-n", ns)
    assert out.code == 0 and out.out == "" and out.err == f"No resources found in {ns} namespace.\n"


# -- one test per exit code -------------------------------------------------------------------------------------


def test_missing_object_exits_not_found(kates: Runner, ns: str) -> None:
    out = kates("get", "cm", "nope", "-n", ns)
    assert out.code == 4 and out.out == ""
    assert out.err == 'error: configmaps "nope" not found\n'
    assert kates("get", "cm", "nope", "-n", ns, "--ignore-not-found").code == 0


def test_unknown_kind_exits_usage(kates: Runner) -> None:
    out = kates("get", "foo")
    assert out.code == 2 and out.err == 'error: the server doesn\'t have a resource type "foo"\n'


def test_forbidden_exits_forbidden(kates: Runner) -> None:
    out = kates("--context", RESTRICTED_CONTEXT, "get", "pods")
    assert out.code == 5
    assert out.err.startswith('error: pods is forbidden: User "kates-restricted" cannot list resource "pods"')
    assert len(out.err.splitlines()) == 1
    allowed = kates("get", "cm", "--context", RESTRICTED_CONTEXT)
    assert allowed.code == 0, allowed


def test_unreachable_server_exits_unreachable(cluster: ControlPlane, kates: Runner, tmp_path: Path) -> None:
    port = free_port()  # nothing listens here
    text = cluster.kubeconfig.read_text().replace(cluster.server, f"https://127.0.0.1:{port}")
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(text)
    out = kates("--kubeconfig", str(cfg), "get", "ns", "--request-timeout", "5s")
    assert out.code == 6, out
    assert out.err.startswith(f"error: unable to connect to the server https://127.0.0.1:{port}: connection refused")


def test_missing_kubeconfig_exits_config(kates: Runner, tmp_path: Path) -> None:
    out = kates("get", "ns", "--kubeconfig", str(tmp_path / "absent"))
    assert out.code == 3 and str(tmp_path / "absent") in out.err and out.err.startswith("error: "), out
    out = kates("get", "ns", env={"KUBECONFIG": "", "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": ""})
    assert out.code == 3 and "no kubeconfig found" in out.err, out


def test_broken_kubeconfig_exits_config(kates: Runner, tmp_path: Path) -> None:
    cfg = tmp_path / "broken"
    cfg.write_text("clusters: [\n  - name: x\n  bad: ::\n")
    out = kates("get", "ns", "--kubeconfig", str(cfg))
    lines = out.err.splitlines()
    assert out.code == 3 and lines[0].startswith(f"error: {cfg}: invalid kubeconfig: "), out
    assert all(line.startswith("hint: ") for line in lines[1:]) and len(lines) <= 2


def test_unknown_context_exits_config(kates: Runner) -> None:
    out = kates("get", "ns", "--context", "nowhere")
    assert out.code == 3 and out.err.splitlines() == [
        'error: context "nowhere" does not exist',
        "hint: known contexts: kates-admin, kates-restricted",
    ], out


def test_bad_flag_exits_usage(kates: Runner) -> None:
    out = kates("get", "ns", "--bogus")
    assert out.code == 2 and out.err.startswith("error: ") and "--bogus" in out.err
    out = kates("get", "ns", "-o", "table")
    assert out.code == 2 and 'output format "table"' in out.err


# -- discovery ---------------------------------------------------------------------------------------------------


def test_crd_created_after_discovery_is_found_without_waiting_for_ttl(
    cluster: ControlPlane, kates: Runner, ns: str
) -> None:
    assert kates("get", "ns", "default").code == 0  # discovery is now cached on disk
    group = f"g{uuid.uuid4().hex[:8]}.example.org"
    crd = json.loads(json.dumps(WIDGET_CRD))
    crd["metadata"]["name"] = f"gadgets.{group}"
    crd["spec"]["group"] = group
    crd["spec"]["names"] = {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "shortNames": ["gd"]}
    try:
        ensure_crd(cluster, crd)
        out = kates("get", f"gadgets.{group}", "-n", ns)
        assert out.code == 0 and out.err == f"No resources found in {ns} namespace.\n", out
    finally:
        cluster.request("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.{group}")


def test_exec_plugin_and_token_file_credentials(cluster: ControlPlane, kates: Runner, tmp_path: Path) -> None:
    import base64
    import sys

    import yaml

    from tests.controlplane.launcher import RESTRICTED_NAMESPACE, RESTRICTED_TOKEN

    plugin = tmp_path / "cred.py"
    plugin.write_text(
        "import json\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential',"
        f" 'status': {{'token': '{RESTRICTED_TOKEN}'}}}}))\n"
    )
    (tmp_path / "token").write_text(RESTRICTED_TOKEN + "\n")
    ca = base64.b64encode(cluster.pki.ca_cert.read_bytes()).decode()
    for name, user in (
        (
            "exec",
            {
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1",
                    "command": sys.executable,
                    "args": [str(plugin)],
                    "interactiveMode": "Never",
                }
            },
        ),
        ("tokenfile", {"tokenFile": "token"}),  # relative to the kubeconfig's directory
    ):
        cfg = tmp_path / f"{name}.kubeconfig"
        cfg.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": "c",
                    "clusters": [
                        {"name": "k", "cluster": {"server": cluster.server, "certificate-authority-data": ca}}
                    ],
                    "users": [{"name": "u", "user": user}],
                    "contexts": [
                        {"name": "c", "context": {"cluster": "k", "user": "u", "namespace": RESTRICTED_NAMESPACE}}
                    ],
                }
            )
        )
        allowed = kates("--kubeconfig", str(cfg), "get", "cm", "-o", "name")
        assert allowed.code == 0 and "configmap/kube-root-ca.crt" in allowed.out, (name, allowed)
        denied = kates("--kubeconfig", str(cfg), "get", "secrets")
        assert denied.code == 5 and 'User "kates-restricted" cannot list resource "secrets"' in denied.err, (
            name,
            denied,
        )


def test_api_resources_and_version_match_kubectl(kates: Runner, kubectl: Runner) -> None:
    mine, theirs = kates("api-resources"), kubectl("api-resources")
    assert mine.code == theirs.code == 0
    assert mine.out == theirs.out
    assert (
        kates("api-resources", "--namespaced=false", "-o", "name").out
        == kubectl("api-resources", "--namespaced=false", "-o", "name").out
    )
    server = [line for line in kubectl("version").out.splitlines() if line.startswith("Server Version:")]
    version = kates("version")
    assert version.code == 0 and version.out.splitlines() == ["Client Version: v0.1.0", *server]
