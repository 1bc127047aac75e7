"""The CRD-schema Validator against the real control plane: from Python (fetched once, cached), on the command line
(`--validate=local` sends nothing), and `--validate=strict` reporting an unknown field of a CRD instance as the
server (and kubectl) report it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kates_cli import Client, InvalidObject, Validator
from kates_cli.errors import ApiError, ExitCode, Invalid
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import Runner, ensure_crd

GROUP = "validation.example.com"


def gadget_crd(group: str = GROUP) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{group}"},
        "spec": {
            "group": group,
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "replicas": {"type": "integer", "format": "int32"},
                                        "image": {"type": "string"},
                                        "port": {"x-kubernetes-int-or-string": True},
                                        "tags": {"type": "array", "items": {"type": "string"}},
                                        "req": {
                                            "type": "object",
                                            "required": ["x"],
                                            "properties": {"x": {"type": "string"}},
                                        },
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def gadget(name: str, group: str = GROUP, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": name}, "spec": spec}


@pytest.fixture
def client(cluster: ControlPlane, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, ns: str) -> Iterator[Client]:
    monkeypatch.setenv("KATES_CACHE_DIR", str(cache_dir))
    ensure_crd(cluster, gadget_crd())
    with Client(str(cluster.kubeconfig), namespace=ns) as c:
        yield c


def gadgets(cluster: ControlPlane, ns: str) -> list[str]:
    code, body = cluster.request("GET", f"/apis/{GROUP}/v1/namespaces/{ns}/gadgets")
    assert code == 200, body
    return sorted(i["metadata"]["name"] for i in body["items"])


def test_validator_rejects_a_wrong_typed_field_naming_its_path(cluster: ControlPlane, client: Client, ns: str) -> None:
    fetched: list[str] = []
    real_get = client.get

    def counting_get(kind: Any, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if str(kind).startswith("customresourcedefinitions"):
            fetched.append(name)
        return real_get(kind, name, *args, **kwargs)

    client.get = counting_get  # type: ignore[method-assign]
    validator = Validator(client)
    bad = gadget("g", replicas="three")
    with pytest.raises(InvalidObject) as caught:
        validator.validate(bad)
    assert str(caught.value) == f'Gadget.{GROUP} "g" is invalid: spec.replicas: "three" is not of type integer'
    assert caught.value.causes == ['spec.replicas: "three" is not of type integer']
    with pytest.raises(Invalid) as server:  # the server rejects the same object for the same field
        client.create(bad)
    assert "spec.replicas" in server.value.message and "integer" in server.value.message
    good = gadget("g", replicas=3, port="http")
    validator.validate(good)
    validator.validate({**gadget("h", port=8080), "status": {"free": "form"}})
    assert client.create(good)["spec"] == {"replicas": 3, "port": "http"}
    assert fetched == [f"gadgets.{GROUP}"]  # fetched on first use, then cached
    # built-in kinds pass, as in Go (a Deployment's schema is not a CRD's)
    validator.validate({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": 1}})
    validator.validate({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": 1})
    assert gadgets(cluster, ns) == ["g"]


@pytest.mark.parametrize(
    "spec",
    [
        {"replicas": "three"},
        {"replicas": 2**31},
        {"replicas": 2**31 - 1},
        {"replicas": 2.0},
        {"replicas": 2.5},
        {"replicas": None},
        {"replicas": True},
        {"port": [1]},
        {"port": "http"},
        {"port": 80},
        {"image": 5},
        {"bogus": 1},
        {"image": "x", "port": {"a": 1}},
        {"image": None},
        {"tags": [None]},
        {"tags": ["a", 1]},
        {"req": {"x": None}},
        {"req": None},
    ],
    ids=repr,
)
def test_the_strict_validator_agrees_with_the_server(client: Client, spec: dict[str, Any]) -> None:
    """What the Validator checks, it checks as the server does (a server dry run with fieldValidation=Strict)."""
    obj = gadget("agree", **spec)
    local = Validator(client, strict=True).errors(obj)
    try:
        client.create(obj, dry_run=True, field_validation="Strict")
        server = ""
    except ApiError as exc:
        server = exc.message
    assert bool(local) == bool(server), (local, server)


def write(tmp_path: Path, *docs: dict[str, Any]) -> str:
    path = tmp_path / "objects.json"
    path.write_text("\n---\n".join(json.dumps(d) for d in docs))  # YAML documents, each written as JSON
    return str(path)


def test_validate_local_checks_and_sends_nothing(
    cluster: ControlPlane, client: Client, kates: Runner, ns: str, tmp_path: Path
) -> None:
    bad = write(tmp_path, gadget("ok", replicas=1), gadget("bad", replicas="three"))
    result = kates("create", "-f", bad, "-n", ns, "--validate=local")
    assert result.code == ExitCode.INVALID, result
    assert result.out == f"gadget.{GROUP}/ok valid (checked locally, nothing sent)\n"
    assert result.err == (
        f'error: validating {bad}: document 2 (line 3): Gadget.{GROUP} "bad" is invalid: '
        'spec.replicas: "three" is not of type integer\nerror: 1 of 2 objects failed\n'
    )
    good = write(tmp_path, gadget("ok", replicas=1, port=80))
    for verb in ("create", "update"):
        result = kates(verb, "-f", good, "-n", ns, "--validate=local", "-o", "name")
        assert (result.code, result.out, result.err) == (0, f"gadget.{GROUP}/ok\n", ""), result
    assert gadgets(cluster, ns) == []  # nothing was sent
    unknown = kates("create", "-f", "-", "-n", ns, "--validate=local", input=json.dumps(gadget("u", bogus=1)))
    assert unknown.code == ExitCode.INVALID and '"u" is invalid: unknown field "spec.bogus"\n' in unknown.err
    patch = kates("patch", "gadget", "ok", "-n", ns, "--validate=local", "-p", "{}")
    assert patch.code == ExitCode.USAGE and patch.err.startswith("error: --validate=local is for create, update")
    both = kates("create", "-f", good, "-n", ns, "--validate=local", "--dry-run=server")
    assert both.code == ExitCode.USAGE and "cannot be combined with --dry-run=server" in both.err, both


def test_validate_local_uses_a_crd_from_the_same_input(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    group = f"v{uuid.uuid4().hex[:8]}.example.com"
    path = write(tmp_path, gadget_crd(group), gadget("new", group, port=[1]))
    result = kates("create", "-f", path, "-n", ns, "--validate=local")
    assert result.code == ExitCode.INVALID, result
    assert result.out == "customresourcedefinition.apiextensions.k8s.io/gadgets." + group + (
        " valid (checked locally, nothing sent)\n"
    )
    assert result.err == (
        f"error: validating {path}: document 2 (line 3): "
        f'Gadget.{group} "new" is invalid: spec.port: [1] is not of type integer or string\n'
        "error: 1 of 2 objects failed\n"
    )
    assert cluster.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.{group}")[0] == 404


def test_validate_strict_reports_an_unknown_field_of_a_crd_instance_as_the_server_does(
    cluster: ControlPlane, client: Client, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    path = write(tmp_path, gadget("u", replicas=1, bogus=True))
    ours = kates("create", "-f", path, "-n", ns, "--validate=strict")
    theirs = kubectl("create", "-f", path, "-n", ns, "--validate=strict")
    assert theirs.code == 1 and ours.code == ExitCode.ERROR, (ours, theirs)
    server = 'Gadget in version "v1" cannot be handled as a Gadget: strict decoding error: unknown field "spec.bogus"'
    assert theirs.err == f'Error from server (BadRequest): error when creating "{path}": {server}\n'
    assert ours.err == f"error: creating {path}: document 1 (line 1): {server}\nerror: 1 of 1 objects failed\n"
    assert ours.out == theirs.out == ""
    assert gadgets(cluster, ns) == []
    default = kates("create", "-f", path, "-n", ns)  # strict is the default, as kubectl's
    assert default.err == ours.err and default.code == ours.code
    local = kates("create", "-f", path, "-n", ns, "--validate=local")  # the Validator finds the same field
    assert local.code == ExitCode.INVALID and '"u" is invalid: unknown field "spec.bogus"\n' in local.err
    warned = kates("create", "-f", path, "-n", ns, "--validate=warn")
    assert warned.code == 0 and warned.err == 'Warning: unknown field "spec.bogus"\n', warned
    stored = cluster.request("GET", f"/apis/{GROUP}/v1/namespaces/{ns}/gadgets/u")[1]
    assert stored["spec"] == {"replicas": 1}  # the server pruned it
