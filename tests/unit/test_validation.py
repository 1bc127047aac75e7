"""The Validator's schema translation and messages, over CRDs given to it (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from kates_cli import InvalidObject, Validator
from kates_cli.errors import ExitCode, UsageError

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "replicas": {"type": "integer", "format": "int32", "minimum": 1},
                "image": {"type": "string"},
                "port": {"x-kubernetes-int-or-string": True},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                "opt": {"type": "string", "nullable": True},
                "ports": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"port": {"type": "integer"}}},
                },
                "template": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}}}},
                },
            },
        },
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def crd(schema: dict[str, Any] = SCHEMA, version: str = "v1") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gizmos.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Gizmo", "plural": "gizmos"},
            "scope": "Namespaced",
            "versions": [{"name": version, "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}],
        },
    }


def gizmo(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"}, "spec": {"image": "i", **spec}}


def test_a_valid_object_passes() -> None:
    v = Validator(crds=[crd()], strict=True)
    obj = gizmo(replicas=2, port="http", tags=["a", "b"], extra={"any": {"thing": 1}}, env={"A": "1"}, opt=None)
    obj["metadata"]["labels"] = {"app": "x"}
    obj["spec"]["template"] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": "y"}}
    obj["status"] = {"whatever": [1]}
    assert v.errors(obj) == []
    v.validate(obj)


def test_wrong_type_names_the_path() -> None:
    v = Validator(crds=[crd()])
    with pytest.raises(InvalidObject) as caught:
        v.validate(gizmo(replicas="three"))
    assert caught.value.message == 'Gizmo.example.com "g" is invalid: spec.replicas: "three" is not of type integer'
    assert caught.value.causes == ['spec.replicas: "three" is not of type integer']
    assert caught.value.exit_code == ExitCode.INVALID


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"replicas": True}, "spec.replicas: true is not of type integer"),
        ({"replicas": 0}, "spec.replicas: Invalid value: 0: should be greater than or equal to 1"),
        ({"port": [80]}, "spec.port: [80] is not of type integer or string"),
        ({"mode": "c"}, 'spec.mode: Unsupported value: "c": supported values: "a", "b"'),
        ({"tags": ["a", "a"]}, 'spec.tags: Invalid value: ["a","a"]: shall not contain duplicates'),
        ({"env": {"A": 1}}, "spec.env.A: 1 is not of type string"),
        ({"ports": [{"port": 1}, {"port": "x"}]}, 'spec.ports[1].port: "x" is not of type integer'),
        ({"replicas": 2**31}, "spec.replicas: Invalid value: 2147483648: must be of type integer with format int32"),
        ({"replicas": 2.5}, "spec.replicas: 2.5 is not of type integer"),
    ],
)
def test_each_check_names_its_path(spec: dict[str, Any], message: str) -> None:
    assert Validator(crds=[crd()]).errors(gizmo(**spec)) == [message]


def test_integers_are_the_servers() -> None:
    """The server takes 2.0 for an integer (and stores 2), and bounds an int32 field (both seen on kube-apiserver)."""
    assert Validator(crds=[crd()]).errors(gizmo(replicas=2.0)) == []
    assert Validator(crds=[crd()]).errors(gizmo(replicas=2**31 - 1)) == []


def test_a_missing_required_field() -> None:
    obj = gizmo()
    del obj["spec"]["image"]
    assert Validator(crds=[crd()]).errors(obj) == ["spec.image: Required value"]


def test_nulls_as_the_server_treats_them() -> None:
    """Each case as kube-apiserver answered it: a null field not nullable is dropped, then validated."""
    v = Validator(crds=[crd()])
    assert v.errors(gizmo(replicas=None, mode=None, opt=None, env={"A": None}, extra=None)) == []
    assert v.errors(gizmo(image=None)) == ["spec.image: Required value"]  # dropped, so missing
    assert v.errors(gizmo(tags=[None])) == ["spec.tags[0]: null is not of type string"]  # list items are checked
    nullable_enum = {**SCHEMA, "properties": {"spec": {"type": "object", "properties": {
        "e": {"type": "string", "enum": ["a"], "nullable": True}}}}}  # fmt: skip
    assert Validator(crds=[crd(nullable_enum)]).errors(gizmo(e=None)) == [
        'spec.e: Unsupported value: null: supported values: "a"'
    ]
    obj = gizmo(replicas=None)
    v.errors(obj)
    assert obj["spec"] == {"image": "i", "replicas": None}  # the caller's object is not changed


def test_unknown_fields_fail_only_when_strict() -> None:
    obj = gizmo(bogus=1, extra={"free": 1}, env={"ANY": "x"})
    obj["metadata"]["whatever"] = 1  # ObjectMeta is not the schema's business
    obj["spec"]["template"] = {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {"nope": 1}}
    obj["top"] = 1
    assert Validator(crds=[crd()]).errors(obj) == []  # Go's Validator: the server drops them
    assert Validator(crds=[crd()], strict=True).errors(obj) == [
        'unknown field "top"',
        'unknown field "spec.bogus"',
        'unknown field "spec.template.spec.nope"',
    ]


def test_built_in_kinds_and_unlisted_versions_pass() -> None:
    v = Validator(crds=[crd()])
    assert v.errors({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": 1}}) == []
    assert v.errors({**gizmo(replicas="x"), "apiVersion": "example.com/v9"}) == []


def test_a_v1beta1_crd_with_one_top_level_schema() -> None:
    old = {
        "apiVersion": "apiextensions.k8s.io/v1beta1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "example.com",
            "names": {"kind": "Gizmo", "plural": "gizmos"},
            "version": "v1",
            "validation": {"openAPIV3Schema": SCHEMA},
        },
    }
    assert Validator(crds=[old]).errors(gizmo(replicas="x")) == ['spec.replicas: "x" is not of type integer']


def test_needs_a_client_or_a_crd_and_an_object_with_a_kind() -> None:
    with pytest.raises(UsageError, match="needs a client"):
        Validator()
    with pytest.raises(UsageError, match="no apiVersion or kind"):
        Validator(crds=[crd()]).errors({"metadata": {}})


def test_import_is_lazy() -> None:
    import subprocess
    import sys

    code = "import sys, kates_cli; kates_cli.Validator; print('jsonschema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_pattern_in_re2_syntax_python_cannot_compile_is_left_to_the_server() -> None:
    """`^\\p{L}+$` is RE2 (Go) and no Python regex: it raised re.error inside jsonschema, an internal error."""
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "letters": {"type": "string", "pattern": "^\\p{L}+$"},
                    "digits": {"type": "string", "pattern": "^[0-9]+$"},
                },
            }
        },
    }
    v = Validator(crds=[crd(schema)], strict=False)
    assert v.errors(gizmo(letters="123", digits="12")) == []
    assert v.errors(gizmo(letters="abc", digits="x")) == ["spec.digits: Invalid value: \"x\": should match '^[0-9]+$'"]
