"""The Validator: an object checked locally against its CustomResourceDefinition's `openAPIV3Schema`, as Go kates's
`Validator` checks it, through the `jsonschema` library (imported only when a schema is compiled).

Invariants:
- A kind's schema is fetched once (the CRD named `<plural>.<group>`, on first use) and cached per Validator with its
  compiled validator; a kind without a CRD (a built-in kind, an aggregated API, a core-group kind, a version the CRD
  does not list) is cached as "nothing to check" and its objects pass, as in Go. CRDs given to the constructor are
  used before (and instead of) asking the server, so a CRD not yet created can be checked against.
- The Kubernetes schema is translated to a JSON Schema (draft 4, whose boolean `exclusiveMinimum` OpenAPI v3.0
  shares) by a pure function, `json_schema`, unit-tested without a server. Checked: `type`, `properties`,
  `required`, `enum`, `pattern`, `minimum`/`maximum` (and exclusive), `multipleOf`, `minLength`/`maxLength`,
  `minItems`/`maxItems`, `uniqueItems`, `minProperties`/`maxProperties`, `additionalProperties` (a map's values),
  `items`, `allOf`/`anyOf`/`oneOf`/`not`; `x-kubernetes-int-or-string` (an integer or a string);
  `x-kubernetes-list-type: set` (no duplicates); with `strict`, fields the schema does not declare (not under
  `x-kubernetes-preserve-unknown-fields`, a map's `additionalProperties`, or an embedded resource's apiVersion,
  kind and metadata; never inside `metadata`), as the server's fieldValidation=Strict rejects them.
  An integer is what the server takes for one: `2.0` is, `2.5` is not. `format: int32` and `int64` bound it.
- Not checked (the server still checks them, so a local pass is not a promise): the other formats (`date-time`,
  `byte`, `uuid`, ...), CEL rules (`x-kubernetes-validations`), list-map key uniqueness
  (`x-kubernetes-list-type: map`), ObjectMeta itself (names, labels), and a `pattern` in RE2 syntax that Python's
  `re` cannot compile (`\\p{L}`, `\\z`).
- Nulls as the server treats them (each seen on kube-apiserver): a null field (a property or a map value) whose
  schema is not `nullable` is dropped before validation (`prune_nulls`), so it passes unless the field is
  required; a null list item that is not `nullable` fails its type; a `nullable` null is kept and checked (it
  passes the type, not an `enum` without null).
- Errors name the field path (`spec.ports[0].port`), one message each, sorted by path, worded as the server words
  them where it has words (`Required value`, `Unsupported value`, `unknown field "spec.x"`); `validate` raises one
  `InvalidObject` (exit 8, as the server's 422) whose message joins them, as the server's Invalid status does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import Invalid, NotFound, UsageError
from . import deepjson

if TYPE_CHECKING:
    from .client import Client

__all__ = ["InvalidObject", "Validator", "json_schema", "prune_nulls"]

KubeObject = dict[str, Any]
TypeKey = tuple[str, str]  # (apiVersion, kind)
CRDS = "customresourcedefinitions.apiextensions.k8s.io"

# Keywords copied as they are (OpenAPI v3.0 and JSON Schema draft 4 agree on them).
_PLAIN = (
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "required",
)
_EMBEDDED = ("apiVersion", "kind", "metadata")


class InvalidObject(Invalid):
    """An object its CRD's schema rejects; `causes` lists one message per field, each naming its path."""

    def __init__(self, message: str, causes: list[str]):
        super().__init__(message, code=422, reason="Invalid")
        self.causes = causes


def json_schema(schema: dict[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """The JSON Schema (draft 4) checking what the Kubernetes structural `schema` (a CRD version's
    `openAPIV3Schema`) checks; with `strict`, undeclared fields fail too. See the module docstring."""
    out = _convert(schema, strict)
    if strict and out.get("additionalProperties") is False:
        props = out.setdefault("properties", {})
        for name in _EMBEDDED:  # a resource's own apiVersion, kind and metadata are always allowed
            props.setdefault(name, {})
    return out


def _convert(s: dict[str, Any], strict: bool, *, in_metadata: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {k: s[k] for k in _PLAIN if k in s}
    if "pattern" in out and not _compiles(out["pattern"]):
        del out["pattern"]  # RE2 syntax Python's re has not (\p{L}, \z): left to the API server, not a crash here
    if s.get("format") in ("int32", "int64"):  # other formats are not checked (see the module docstring)
        out["format"] = s["format"]
    null = ["null"] if s.get("nullable") else []
    if s.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string", *null]
    elif isinstance(s.get("type"), str) and s["type"]:
        out["type"] = [s["type"], *null]
    if s.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    if isinstance(s.get("properties"), dict):
        out["properties"] = {
            name: _convert(sub, strict, in_metadata=in_metadata or name == "metadata")
            for name, sub in s["properties"].items()
            if isinstance(sub, dict)
        }
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = _convert(extra, strict, in_metadata=in_metadata)
    elif isinstance(extra, bool):
        out["additionalProperties"] = extra
    elif strict and not in_metadata and s.get("type") == "object" and not s.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
        if s.get("x-kubernetes-embedded-resource"):
            props = out.setdefault("properties", {})
            for name in _EMBEDDED:
                props.setdefault(name, {})
    if isinstance(s.get("items"), dict):
        out["items"] = _convert(s["items"], strict, in_metadata=in_metadata)
    for key in ("allOf", "anyOf", "oneOf"):  # value validations: the fields they name are declared beside them
        if isinstance(s.get(key), list):
            out[key] = [_convert(sub, False, in_metadata=in_metadata) for sub in s[key] if isinstance(sub, dict)]
    if isinstance(s.get("not"), dict):
        out["not"] = _convert(s["not"], False, in_metadata=in_metadata)
    return out


def prune_nulls(value: Any, schema: dict[str, Any]) -> Any:
    """`value` without the null fields the server drops before it validates: a property or map value whose schema
    is not `nullable`. A copy; `value` is not changed. Null list items are kept (the server checks them)."""
    if isinstance(value, dict):
        found = schema.get("properties")
        props: dict[str, Any] = found if isinstance(found, dict) else {}
        extra = schema.get("additionalProperties")
        out = {}
        for key, item in value.items():
            sub = props.get(key) if key in props else extra if isinstance(extra, dict) else None
            if item is None and isinstance(sub, dict) and not sub.get("nullable"):
                continue
            out[key] = prune_nulls(item, sub) if isinstance(sub, dict) else item
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune_nulls(item, schema["items"]) for item in value]
    return value


def _compiles(pattern: Any) -> bool:
    import re

    try:
        re.compile(pattern)
    except (re.error, TypeError):
        return False
    return True


def version_schema(crd: KubeObject, version: str) -> dict[str, Any] | None:
    """The `openAPIV3Schema` a CRD (apiextensions v1, or v1beta1 with its top-level `validation`) gives `version`;
    None when it gives none."""
    spec = crd.get("spec") or {}
    for ver in spec.get("versions") or ():
        if ver.get("name") == version:
            schema = (ver.get("schema") or {}).get("openAPIV3Schema")
            if isinstance(schema, dict):
                return schema
    top = (spec.get("validation") or {}).get("openAPIV3Schema")  # v1beta1: one schema for every version
    if isinstance(top, dict) and any(v.get("name") == version for v in spec.get("versions") or ()):
        return top
    if isinstance(top, dict) and spec.get("version") == version:
        return top
    return None


def _crd_kinds(crd: KubeObject) -> list[TypeKey]:
    spec = crd.get("spec") or {}
    group, kind = spec.get("group") or "", (spec.get("names") or {}).get("kind") or ""
    versions = [v.get("name") for v in spec.get("versions") or ()] or [spec.get("version")]
    return [(f"{group}/{v}", kind) for v in versions if v]


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _value(value: Any, limit: int = 80) -> str:
    text = deepjson.dumps(value).decode()  # a value nested past orjson's 255 levels too
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _types(expected: Any) -> str:
    names = [t for t in (expected if isinstance(expected, list) else [expected]) if t != "null"]
    return " or ".join(names)


def _messages(error: Any) -> list[str]:
    """One jsonschema error -> the messages naming its field path."""
    path = _path(error.absolute_path)
    at = f"{path}: " if path else ""
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "type":
        return [f"{at}{_value(value)} is not of type {_types(expected)}"]
    if kind == "required":
        name = error.message.removesuffix(" is a required property")
        missing = [r for r in expected if isinstance(value, dict) and r not in value]
        field = next((r for r in missing if repr(r) == name), missing[0] if missing else name)
        return [f"{_path([*error.absolute_path, field])}: Required value"]
    if kind == "enum":
        allowed = ", ".join(_value(v) for v in expected)
        return [f"{at}Unsupported value: {_value(value)}: supported values: {allowed}"]
    if kind == "additionalProperties" and expected is False:
        declared = (error.schema.get("properties") or {}).keys()
        return [f'unknown field "{_path([*error.absolute_path, k])}"' for k in value if k not in declared]
    words = {
        "minimum": f"should be greater than or equal to {expected}",
        "maximum": f"should be less than or equal to {expected}",
        "minLength": f"should be at least {expected} chars long",
        "maxLength": f"may not be longer than {expected}",
        "pattern": f"should match '{expected}'",
        "minItems": f"should have at least {expected} items",
        "maxItems": f"must have at most {expected} items",
        "multipleOf": f"should be a multiple of {expected}",
        "uniqueItems": "shall not contain duplicates",
    }
    if kind in words:
        return [f"{at}Invalid value: {_value(value)}: {words[kind]}"]
    if kind == "format":
        return [f"{at}Invalid value: {_value(value)}: must be of type integer with format {expected}"]
    return [f"{at}{error.message}"]


_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _compile(schema: dict[str, Any]) -> Any:
    """A draft 4 validator for `schema` whose integers are the server's (2.0 is one, as in JSON Schema draft 6) and
    which checks the int32 and int64 formats' ranges, as the server does."""
    import jsonschema  # type: ignore[import-untyped,unused-ignore]  # stubs (types-jsonschema) are optional

    def integer(checker: Any, value: Any) -> bool:
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )

    formats = jsonschema.FormatChecker(formats=())
    for name, (low, high) in _INT_RANGES.items():
        formats.checks(name)(
            lambda value, low=low, high=high: not isinstance(value, int | float) or low <= value <= high
        )
    cls = jsonschema.validators.extend(
        jsonschema.Draft4Validator, type_checker=jsonschema.Draft4Validator.TYPE_CHECKER.redefine("integer", integer)
    )
    return cls(schema, format_checker=formats)


class Validator:
    """Checks objects against their CRD's schema; see the module docstring for what is checked.

    `Validator(client)` fetches each kind's CRD from the server on first use; `crds` (CRD objects, as
    `Go's NewValidator(client, staticCRDs)`) are used first and need no server, so `Validator(crds=[crd])` works
    offline. `strict=True` also rejects fields the schema does not declare (the library default is Go's: they
    pass, as the server drops them). Safe to share between threads."""

    def __init__(self, client: Client | None = None, crds: Iterable[KubeObject] = (), *, strict: bool = False):
        self.client = client
        self.strict = strict
        self._static: dict[TypeKey, dict[str, Any] | None] = {}
        for crd in crds:
            for api_version, kind in _crd_kinds(crd):
                self._static[(api_version, kind)] = version_schema(crd, api_version.rpartition("/")[2])
        if client is None and not self._static:
            raise UsageError("a Validator needs a client or at least one CustomResourceDefinition")
        self._lock = threading.Lock()
        self._compiled: dict[TypeKey, tuple[dict[str, Any], Any] | None] = {}  # (schema, validator); None: no CRD

    def _schema(self, api_version: str, kind: str) -> dict[str, Any] | None:
        if (api_version, kind) in self._static:
            return self._static[(api_version, kind)]
        group, _, version = api_version.rpartition("/")
        if self.client is None or not group:
            return None  # the core group has no CRDs
        ref = self.client.discovery.by_kind(api_version, kind)
        try:
            crd = self.client.get(CRDS, f"{ref.resource}.{ref.group}")
        except NotFound:  # a built-in or aggregated kind (or no CRD API at all): nothing to check, as in Go
            return None
        return version_schema(crd, version)

    def _validator(self, obj: KubeObject) -> tuple[dict[str, Any], Any] | None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
            raise UsageError("object has no apiVersion or kind")
        key = (api_version, kind)
        with self._lock:
            if key not in self._compiled:
                schema = self._schema(api_version, kind)
                compiled = None
                if schema is not None:
                    compiled = (schema, _compile(json_schema(schema, strict=self.strict)))
                self._compiled[key] = compiled
            return self._compiled[key]

    def errors(self, obj: KubeObject) -> list[str]:
        """What is wrong with `obj` by its CRD's schema, one message per field, each naming its path; [] when
        valid or when its kind has no CRD."""
        compiled = self._validator(obj)
        if compiled is None:
            return []
        schema, validator = compiled
        messages = []
        pruned = prune_nulls(obj, schema)
        for error in sorted(validator.iter_errors(pruned), key=lambda e: [str(p) for p in e.absolute_path]):
            messages.extend(_messages(error))
        return messages

    def validate(self, obj: KubeObject) -> None:
        """Raise InvalidObject (naming the object and every field at fault) unless `obj` passes its CRD's schema.
        Built-in kinds pass. As Go's `Validate`, the first object of a kind may ask the server for its CRD;
        later ones are checked locally."""
        causes = self.errors(obj)
        if not causes:
            return
        group = str(obj.get("apiVersion") or "").rpartition("/")[0]
        kind = f"{obj.get('kind')}.{group}" if group else str(obj.get("kind"))
        meta = obj.get("metadata") or {}
        name = meta.get("name") or meta.get("generateName") or ""
        joined = causes[0] if len(causes) == 1 else "[" + ", ".join(causes) + "]"
        raise InvalidObject(f'{kind} "{name}" is invalid: {joined}', causes)
