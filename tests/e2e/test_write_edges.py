"""Issue 10's edges of the write commands, against the real control plane: strict field validation by default,
server warnings on stderr, generateName outside create, a CRD and its instances in one input, -f URL, and kubectl's
wording and flags for delete and patch. Where kubectl decides, the expected bytes were checked against kubectl 1.37
(and the parity rows in parity_cases/write.py compare the two tools directly)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import yaml

from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, create, ensure_crd, schemaless_crd


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def cm_names(cluster: ControlPlane, ns: str) -> list[str]:
    code, body = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps")
    assert code == 200, body
    return sorted(i["metadata"]["name"] for i in body["items"] if i["metadata"]["name"] != "kube-root-ca.crt")


UNKNOWN = {**cm("u", a="1"), "foo": "bar"}


# -- 1. fieldValidation ----------------------------------------------------------------------------------------------


def test_create_refuses_unknown_fields_by_default_and_validate_relaxes_it(
    cluster: ControlPlane, kates: Runner, ns: str
) -> None:
    strict = kates("create", "-f", "-", "-n", ns, input=json.dumps(UNKNOWN))
    assert strict.code == ExitCode.ERROR and strict.out == "", strict
    assert strict.err.startswith('error: creating <stdin>: document 1 (line 1): ConfigMap in version "v1" cannot be')
    assert 'strict decoding error: unknown field "foo"' in strict.err
    bare = kates("create", "--validate", "-f", "-", "-n", ns, input=json.dumps(UNKNOWN))
    assert bare.code == ExitCode.ERROR and "strict decoding error" in bare.err, bare
    assert cm_names(cluster, ns) == []
    warn = kates("create", "-f", "-", "-n", ns, "--validate=warn", input=json.dumps(UNKNOWN))
    assert warn.code == 0 and warn.out == "configmap/u created\n" and warn.err == 'Warning: unknown field "foo"\n'
    other = {**UNKNOWN, "metadata": {"name": "v"}}
    ignored = kates("create", "-f", "-", "-n", ns, "--validate=false", input=json.dumps(other))
    assert ignored.code == 0 and ignored.out == "configmap/v created\n" and ignored.err == "", ignored
    bad = kates("create", "-f", "-", "-n", ns, "--validate=maybe", input=json.dumps(other))
    assert bad.code == ExitCode.USAGE and bad.err.startswith('error: invalid --validate option "maybe"; must be one of')
    assert cm_names(cluster, ns) == ["u", "v"]


def test_update_update_status_and_patch_refuse_unknown_fields_by_default(
    cluster: ControlPlane, kates: Runner, ns: str
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm("u", a="1"))
    update = kates("update", "-f", "-", "-n", ns, input=json.dumps({**UNKNOWN, "data": {"a": "2"}}))
    assert update.code == ExitCode.ERROR and 'strict decoding error: unknown field "foo"' in update.err, update
    assert update.err.startswith("error: updating <stdin>: document 1 (line 1): ")
    patch = kates("patch", "cm", "u", "-n", ns, "-p", '{"foo":"bar","data":{"a":"3"}}')
    assert patch.code != 0 and 'strict decoding error: unknown field "foo"' in patch.err, patch
    assert patch.err.startswith("error: patching configmap/u: the request is invalid: ")  # not "document 1 (line 1)"
    assert cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps/u")[1]["data"] == {"a": "1"}
    warned = kates("patch", "cm", "u", "-n", ns, "--validate=warn", "-p", '{"foo":"bar","data":{"a":"3"}}')
    assert warned.code == 0 and warned.out == "configmap/u patched\n", warned
    assert warned.err == 'Warning: unknown field "foo"\n'
    ensure_crd(cluster, STRICT_CRD)
    w = create(cluster, f"/apis/example.com/v1/namespaces/{ns}/strictthings", {**THING, "metadata": {"name": "t"}})
    status = kates("update-status", "-f", "-", input=json.dumps({**w, "status": {"phase": "x", "bogus": 1}}))
    assert status.code == ExitCode.ERROR and 'unknown field "status.bogus"' in status.err, status
    ok = kates("update-status", "-f", "-", "--validate=ignore", input=json.dumps({**w, "status": {"bogus": 1}}))
    assert ok.code == 0 and ok.out == "strictthing.example.com/t status updated\n", ok


STRICT_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "strictthings.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"plural": "strictthings", "singular": "strictthing", "kind": "StrictThing"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                            "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
                        },
                    }
                },
            },
            {
                "name": "v1beta1",
                "served": True,
                "storage": False,
                "deprecated": True,
                "deprecationWarning": "example.com/v1beta1 StrictThing is old; use example.com/v1",
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            },
        ],
    },
}
THING = {"apiVersion": "example.com/v1", "kind": "StrictThing", "spec": {"size": 1}}


# -- 2. server warnings ----------------------------------------------------------------------------------------------


def test_server_warnings_reach_stderr_once_each_for_reads_too(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    ensure_crd(cluster, STRICT_CRD)
    for i in range(3):
        create(cluster, f"/apis/example.com/v1/namespaces/{ns}/strictthings", {**THING, "metadata": {"name": f"t{i}"}})
    # three pages, each answered with the deprecation warning: printed once, as kubectl prints it
    got = kates("get", "strictthings.v1beta1.example.com", "-n", ns, "-o", "name", "--chunk-size", "1")
    assert got.code == 0, got
    assert got.out == "".join(f"strictthing.example.com/t{i}\n" for i in range(3))
    assert got.err == "Warning: example.com/v1beta1 StrictThing is old; use example.com/v1\n"
    patched = kates("patch", "strictthings.v1beta1.example.com", "t0", "-n", ns, "-p", '{"spec":{"size":2}}')
    assert patched.code == 0 and patched.err == "Warning: example.com/v1beta1 StrictThing is old; use example.com/v1\n"


# -- 3. generateName -------------------------------------------------------------------------------------------------


def test_generate_name_without_a_name_is_refused_by_every_verb_but_create(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    path = tmp_path / "gen.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}))
    for args in (["update"], ["update-status"], ["patch", "-p", "{}"], ["delete"]):
        out = kates(*args, "-f", str(path), "-n", ns)
        assert out.code == ExitCode.USAGE and out.out == "", out
        assert out.err.startswith(f"error: {path}: document 1 (line 1): resource name may not be empty\n"), out
    made = kates("create", "-f", str(path), "-n", ns)
    assert made.code == 0 and made.out.startswith("configmap/gen-") and made.out.endswith(" created\n"), made
    assert [n for n in cm_names(cluster, ns) if n.startswith("gen-")] == [made.out.split()[0].split("/")[1]]


# -- 4. a CRD and its instances in one input -------------------------------------------------------------------------


def crd_and_instance(group: str) -> tuple[dict[str, Any], dict[str, Any]]:
    crd = schemaless_crd(group, "gadgets", "Gadget")
    instance = {"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"a": 1}}
    return crd, instance


def test_a_crd_and_its_instance_in_one_file_are_created_in_order(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    # kubectl 1.37 prints the same two lines when it wins its race: it refetches discovery once after a miss, so on a
    # loaded machine it fails with "no matches for kind ... ensure CRDs are installed first". kates waits (60s).
    group = f"k{uuid.uuid4().hex[:8]}.example.org"
    path = tmp_path / "both.yaml"
    path.write_text("---\n".join(yaml.safe_dump(o) for o in crd_and_instance(group)))
    try:
        made = kates("create", "-f", str(path), "-n", ns)
        assert made.code == 0 and made.err == "", made
        assert made.out == (
            f"customresourcedefinition.apiextensions.k8s.io/gadgets.{group} created\ngadget.{group}/g1 created\n"
        )
        code, body = cluster.request("GET", f"/apis/{group}/v1/namespaces/{ns}/gadgets/g1")
        assert code == 200 and body["spec"] == {"a": 1}, body
        # and back: deleting the file deletes both, the instance with (or by) its CRD
        gone = kates("delete", "-f", str(path), "-n", ns, "--timeout", "60s")
        assert gone.code == 0, gone
        assert gone.out == (
            f'customresourcedefinition.apiextensions.k8s.io "gadgets.{group}" deleted\n'
            f'gadget.{group} "g1" deleted from {ns} namespace\n'
        )
        assert gone.err == "Warning: deleting cluster-scoped resources, not scoped to the provided namespace\n"
        code, body = cluster.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.{group}")
        assert code == 404, body
    finally:
        cluster.request("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.{group}")


def test_an_instance_whose_crd_fails_or_is_a_dry_run_fails_at_once(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    group = f"k{uuid.uuid4().hex[:8]}.example.org"
    crd, instance = crd_and_instance(group)
    path = tmp_path / "both.yaml"
    path.write_text("---\n".join(yaml.safe_dump(o) for o in (crd, instance)))
    try:
        dry = kates("create", "-f", str(path), "-n", ns, "--dry-run=server", timeout=30)
        assert dry.code == ExitCode.USAGE, dry
        assert dry.out == f"customresourcedefinition.apiextensions.k8s.io/gadgets.{group} created (server dry run)\n"
        assert f"its CustomResourceDefinition ({path}: document 1 (line 1)) was only created in a server dry run" in (
            dry.err
        )
        broken = copy.deepcopy(crd)
        broken["spec"]["versions"][0]["schema"] = {"openAPIV3Schema": {"type": "not-a-type"}}
        path.write_text("---\n".join(yaml.safe_dump(o) for o in (broken, instance)))
        failed = kates("create", "-f", str(path), "-n", ns, timeout=30)
        assert failed.code != 0 and failed.out == "", failed
        assert f"its CustomResourceDefinition ({path}: document 1 (line 1)) failed" in failed.err
    finally:
        cluster.request("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.{group}")


# -- 5. -f URL -------------------------------------------------------------------------------------------------------


def test_create_from_a_url_is_refused_clearly(kates: Runner, ns: str) -> None:
    out = kates("create", "-f", "https://example.com/cm.yaml", "-n", ns)
    assert out.code == ExitCode.USAGE and out.out == "", out
    assert out.err == (
        'error: the path "https://example.com/cm.yaml" is a URL: kates does not fetch manifests over the network\n'
        "hint: download it first, e.g. curl -fsSL 'https://example.com/cm.yaml' | kates create -f -\n"
    )


# -- 6. wording ------------------------------------------------------------------------------------------------------


def test_patch_says_no_change_and_names_a_bad_command_line_patch(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm("p", a="1"))
    same = kates("patch", "cm", "p", "-n", ns, "-p", '{"data":{"a":"1"}}')
    assert same.code == 0 and same.out == "configmap/p patched (no change)\n", same
    changed = kates("patch", "cm", "p", "-n", ns, "-p", '{"data":{"a":"2"}}')
    assert changed.code == 0 and changed.out == "configmap/p patched\n", changed
    bad = kates("patch", "cm", "p", "-n", ns, "-p", "a: [")
    assert bad.code == ExitCode.USAGE and bad.err.startswith('error: unable to parse "a: [": line 1: '), bad
    missing = kates("patch", "cm", "nope", "-n", ns, "-p", "{}")
    assert missing.code == ExitCode.NOT_FOUND, missing
    assert missing.err.startswith('error: patching configmap/nope: configmaps "nope" not found\n')


def test_delete_without_arguments_says_what_to_give(kates: Runner, ns: str) -> None:
    none = kates("delete", "-n", ns)
    assert none.code == ExitCode.USAGE and none.err.startswith(
        "error: You must provide one or more resources by argument or filename.\n"
    )
    kind_only = kates("delete", "cm", "-n", ns)
    assert kind_only.code == ExitCode.USAGE
    assert kind_only.err.startswith("error: resource(s) were provided, but no name was specified\n")


def test_an_empty_name_is_refused_and_never_the_collection(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str
) -> None:
    """`kates delete cm "$NAME"` with NAME unset sent DELETE to the collection's path: the server's deletecollection
    removed every ConfigMap of the namespace, and kates said `configmap "" deleted`."""
    for name in ("a", "b"):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm(name))
    for args in (["delete", "cm", ""], ["delete", "cm", "a", ""], ["get", "cm", ""], ["patch", "cm", "", "-p", "{}"]):
        mine = kates(*args, "-n", ns)
        assert mine.code == ExitCode.USAGE and mine.err.startswith("error: resource name may not be empty\n"), mine
        assert cm_names(cluster, ns) == ["a", "b"], args  # nothing deleted: kates refuses before any request
        theirs = kubectl(*args, "-n", ns)  # kubectl's words (it deletes `a` first, then refuses "")
        assert theirs.code != 0 and "resource name may not be empty" in theirs.err, theirs
        if "a" not in cm_names(cluster, ns):
            create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm("a"))


def test_delete_f_refuses_an_explicit_namespace_the_object_contradicts(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    """It deleted the object in the file's namespace; create, update, patch and get -f refuse this, as kubectl."""
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm("a"))
    path = tmp_path / "cm.yaml"
    path.write_text(yaml.safe_dump({**cm("a"), "metadata": {"name": "a", "namespace": ns}}))
    mine, theirs = (run("delete", "-f", str(path), "-n", "default") for run in (kates, kubectl))
    assert mine.code == ExitCode.USAGE, mine
    assert f'the namespace from the provided object "{ns}" does not match the namespace "default"' in mine.err
    assert theirs.code != 0 and "does not match the namespace" in theirs.err, theirs
    assert cm_names(cluster, ns) == ["a"]


def test_a_non_string_name_or_namespace_is_refused_before_anything_is_sent(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm("a"))
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump_all([cm("a"), {**cm("x"), "metadata": {"name": 123}}]))
    for verb in ("delete", "update", "create"):
        result = kates(verb, "-f", str(path), "-n", ns)
        assert result.code == ExitCode.USAGE, result
        assert "metadata.name must be a string, not number" in result.err, result
    assert cm_names(cluster, ns) == ["a"]


# -- 7. delete flags -------------------------------------------------------------------------------------------------


def test_delete_now_force_and_output_name(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    for name in ("a", "b", "c", "d"):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm(name))
    plain = kates("delete", "cm", "a", "-n", ns)
    assert plain.code == 0 and plain.out == f'configmap "a" deleted from {ns} namespace\n' and plain.err == ""
    named = kates("delete", "cm", "b", "-n", ns, "--now", "-o", "name")
    assert named.code == 0 and named.out == "configmap/b\n", named
    forced = kates("delete", "configmap/c", "-n", ns, "--force")
    assert forced.code == 0 and forced.out == f'configmap "c" force deleted from {ns} namespace\n', forced
    assert forced.err == (
        "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. "
        "The resource may continue to run on the cluster indefinitely.\n"
    )
    both = kates("delete", "cm", "d", "-n", ns, "--now", "--grace-period", "5")
    assert both.code == ExitCode.USAGE and "--now and --grace-period cannot be specified together" in both.err
    forced_grace = kates("delete", "cm", "d", "-n", ns, "--force", "--grace-period", "5")
    assert forced_grace.code == ExitCode.USAGE and "--force and --grace-period greater than 0" in forced_grace.err
    json_out = kates("delete", "cm", "d", "-n", ns, "-o", "json")
    assert json_out.code == ExitCode.USAGE and "We only support '-o name'" in json_out.err
    assert cm_names(cluster, ns) == ["d"]


def test_delete_by_field_selector_and_across_namespaces(
    cluster: ControlPlane, kates: Runner, ns: str, request: Any
) -> None:
    other = f"{ns[:50]}-b"
    create(cluster, "/api/v1/namespaces", {"metadata": {"name": other}})
    request.addfinalizer(lambda: cluster.request("DELETE", f"/api/v1/namespaces/{other}"))
    label = f"sweep-{uuid.uuid4().hex[:6]}"
    for where in (ns, other):
        for name in ("keep", "drop"):
            obj = cm(name)
            obj["metadata"]["labels"] = {"sweep": label}
            create(cluster, f"/api/v1/namespaces/{where}/configmaps", obj)
    by_field = kates("delete", "cm", "-n", ns, "--field-selector", "metadata.name=drop")
    assert by_field.code == 0 and by_field.out == f'configmap "drop" deleted from {ns} namespace\n', by_field
    assert cm_names(cluster, ns) == ["keep"]
    across = kates("delete", "cm", "-A", "-l", f"sweep={label}", "-o", "name")
    assert across.code == 0, across
    assert sorted(across.out.splitlines()) == ["configmap/drop", "configmap/keep", "configmap/keep"], across
    wait_for(lambda: cm_names(cluster, ns) == [] and cm_names(cluster, other) == [], 30, "both namespaces emptied")
    named = kates("delete", "cm", "x", "-A")
    assert named.code == ExitCode.USAGE
    assert "a resource cannot be retrieved by name across all namespaces" in named.err
    nothing = kates("delete", "cm", "-A", "-l", f"sweep={label}")
    assert nothing.code == 0 and nothing.out == "No resources found\n", nothing
    both = kates("delete", "cm", "--all", "--field-selector", "metadata.name=x", "-n", ns)
    assert both.code == ExitCode.USAGE and "setting 'all' parameter but found a non empty selector." in both.err


def test_delete_cascade_bare_and_boolean_as_kubectl(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str
) -> None:
    """A bare --cascade is background (kubectl's NoOptDefVal); true and false are its deprecated boolean form, with
    kubectl's warning (kates refused all three)."""
    for value, name in ((None, "bare"), ("false", "f"), ("true", "t"), ("0", "zero")):
        for run, who in ((kates, "mine"), (kubectl, "theirs")):
            create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm(f"{name}-{who}"))
            flag = "--cascade" if value is None else f"--cascade={value}"
            result = run("delete", "cm", f"{name}-{who}", flag, "-n", ns)
            assert result.code == 0 and result.out == f'configmap "{name}-{who}" deleted from {ns} namespace\n', result
            if value is None:
                assert result.err == "", result
            else:
                replaced = "background" if value == "true" else "orphan"
                assert result.err == (
                    f"warning: --cascade={value} is deprecated (boolean value) and can be replaced with "
                    f"--cascade={replaced}.\n"
                ), result


def test_delete_f_with_a_selector_or_all_as_kubectl(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    """With -f, -l keeps the manifests whose own labels match, --all keeps them all, --field-selector is ignored
    (kubectl's builder filters paths by the label selector only), and each ignores a missing object unless
    --ignore-not-found=false; resource arguments with -f are refused in kubectl's words (kates refused -f with any
    selector)."""
    manifest = tmp_path / "cms.yaml"
    docs = [cm("m1"), cm("m2"), cm("m3")]
    docs[0]["metadata"]["labels"] = {"app": "x"}
    docs[1]["metadata"]["labels"] = {"app": "z"}
    manifest.write_text(yaml.safe_dump_all(docs))
    f = ["-f", str(manifest), "-n", ns]

    def only(names: str) -> None:
        """Exactly these of the three exist."""
        for doc in docs:
            name = doc["metadata"]["name"]
            if name[1] in names:
                code, body = cluster.request("POST", f"/api/v1/namespaces/{ns}/configmaps", doc)
                assert code in (201, 409), body
            else:
                code, body = cluster.request("DELETE", f"/api/v1/namespaces/{ns}/configmaps/{name}")
                assert code in (200, 404), body
        wait_for(lambda: cm_names(cluster, ns) == [f"m{n}" for n in names], 30, f"only {names}")

    steps: list[tuple[list[str], str]] = [  # (arguments, which of m1 m2 m3 exist before)
        ([*f, "-l", "app=x"], "123"),
        ([*f, "-l", "app=x"], "23"),  # m1 is gone: ignored
        ([*f, "-l", "app=none"], "123"),
        ([*f, "-l", "app=x", "--ignore-not-found=false"], "23"),
        ([*f, "--field-selector", "metadata.name=m2", "-o", "name"], "123"),  # ignored: every object goes
        ([*f, "--all"], "13"),
        ([*f, "--all"], ""),
        ([*f, "cm"], "123"),
        ([*f, "cm/m1"], "123"),
    ]
    for args, before in steps:
        only(before)
        theirs = kubectl("delete", *args)
        only(before)
        ours = kates("delete", *args)
        assert (ours.out, ours.code == 0) == (theirs.out, theirs.code == 0), (args, theirs, ours)
        if theirs.code == 0:
            assert theirs.err == ours.err == "", (args, theirs, ours)
        else:  # kubectl's message, as kates's error line
            assert theirs.err.splitlines()[-1].rsplit(": ", 1)[-1] in ours.err, (args, theirs, ours)
    only("23")
    assert kates("delete", *f, "-l", "app=x", "--ignore-not-found=false").code == ExitCode.NOT_FOUND


def test_patch_of_a_crd_in_a_k8s_io_group_falls_back_to_a_merge_patch(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    """kates sends strategic merge patches to *.k8s.io groups, the built-in ones; a CRD there (as the Gateway API's
    gateway.networking.k8s.io) answers 415, which applies nothing: kates sends the merge patch then. With the
    others of one -f input it stopped the whole input, after the objects before it were patched."""
    crd = schemaless_crd("kates-test.k8s.io", "gadgets", "Gadget")
    crd["metadata"]["annotations"] = {"api-approved.kubernetes.io": "unapproved, a test of kates"}
    ensure_crd(cluster, crd)
    create(
        cluster,
        f"/apis/kates-test.k8s.io/v1/namespaces/{ns}/gadgets",
        {"apiVersion": "kates-test.k8s.io/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"a": 1}},
    )
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm("c"))
    path = tmp_path / "both.yaml"
    path.write_text(
        yaml.safe_dump_all(
            [cm("c"), {"apiVersion": "kates-test.k8s.io/v1", "kind": "Gadget", "metadata": {"name": "g"}}]
        )
    )
    result = kates("patch", "-f", str(path), "-n", ns, "-p", '{"metadata":{"labels":{"patched":"yes"}}}')
    assert result.code == 0, result
    assert result.out == "configmap/c patched\ngadget.kates-test.k8s.io/g patched\n", result
    code, gadget = cluster.request("GET", f"/apis/kates-test.k8s.io/v1/namespaces/{ns}/gadgets/g")
    assert code == 200 and gadget["metadata"]["labels"] == {"patched": "yes"} and gadget["spec"] == {"a": 1}
