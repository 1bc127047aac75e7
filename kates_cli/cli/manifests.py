"""Reading manifests for -f: files, directories (-R) and stdin; YAML streams, JSON, and `kind: List`.

Invariants:
- Everything is read and checked before anything is sent: a malformed document raises UsageError naming its file,
  document index (1-based) and line, and no object is returned at all. Checked means encodable too: every
  document returned has passed `sendable.to_json` (string keys, no NaN, no alias bomb: see sendable.py), so
  nothing can fail locally once the first request has gone.
- Documents come back in the order given (files in sorted order within a directory), each with where it came from.
- kates does no network fetches: an http:// or https:// -f is refused before anything is read.
- A document nested up to 1,000 levels deep is read (and sent, printed, copied) without recursion; a deeper one is
  refused as libyaml refuses it (`exceeded maximum nesting depth`, exit 2, with a hint). Deliberately not kubectl,
  which reads up to 10,000 levels (Go's encoding/json and go-yaml): libyaml is the one YAML reader here that does not
  recurse in Python, and its limit is fixed. A RecursionError from a pure-Python YAML reader is the same refusal.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any

from ..core.records import record
from ..errors import UsageError
from . import sendable

if TYPE_CHECKING:
    from ..core.client import Client
    from ..core.mapping import ResourceRef
    from .state import State

EXTENSIONS = (".yaml", ".yml", ".json")


@record
class Manifest:
    obj: dict[str, Any]
    source: str
    index: int  # 1-based document index within the source; 0: not from a file (an object named on the command line)
    line: int  # 1-based line where the document starts

    @property
    def where(self) -> str:
        return f"{self.source}: document {self.index} (line {self.line})" if self.index else self.source


def _files(path: str, recursive: bool) -> list[str]:
    if path == "-":
        return ["-"]
    if path.lower().startswith(("http://", "https://")):
        raise UsageError(
            f'the path "{path}" is a URL: kates does not fetch manifests over the network',
            hint=f"download it first, e.g. curl -fsSL '{path}' | kates create -f -",
        )
    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            found += [os.path.join(root, f) for f in sorted(files) if f.endswith(EXTENSIONS)]
            if not recursive:
                break
        return found
    if not os.path.exists(path):
        raise UsageError(f'the path "{path}" does not exist')
    return [path]


def one_file(paths: list[str], recursive: bool = False) -> bool:
    """Whether `paths` name exactly one file, not stdin: what makes kubectl's -f imply a single item (cli-runtime's
    builder: one file to visit, not a stream), so that `get -f` prints one object bare rather than in a List. A
    directory holding one manifest file is one file; stdin never is, whatever it holds."""
    return len(paths) == 1 and paths[0] != "-" and len(_files(paths[0], recursive)) == 1


_EXPONENT_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+\Z")
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _loader_class(yaml: Any) -> Any:
    """PyYAML's safe loader, except that a plain scalar go-yaml v2 (kubectl's reader) takes as a string is a string
    here too: PyYAML's YAML 1.1 resolver would turn `2001-02-30`, `1:20` or `=` into dates, base-60 numbers or
    errors, so `kates get -o yaml | kates create -f -` would change data kubectl keeps. `<<` stays a merge key."""
    from .yamlresolve import plain_is_string

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    scalar, text_tag = yaml.ScalarNode, "tag:yaml.org,2002:str"

    class Loader(base):  # type: ignore[misc, valid-type]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is scalar and implicit[0] and value != "<<" and plain_is_string(value):
                return text_tag
            tag = super().resolve(kind, value, implicit)
            # go-yaml keeps timestamp-like text a string when decoding into interface{}, and has no base-60
            # numbers (`1:20`): both stay strings, as kubectl reads them
            if tag == "tag:yaml.org,2002:timestamp" or (tag in _NUMBER_TAGS and ":" in value):
                return text_tag
            if tag == text_tag and kind is scalar and implicit[0] and _EXPONENT_FLOAT.match(value):
                return "tag:yaml.org,2002:float"  # `1e3`: a float to go-yaml, a string to YAML 1.1
            return tag

    # a plain `<<` is a merge key in a key's place; as a value go-yaml reads it as the text
    Loader.add_constructor("tag:yaml.org,2002:merge", lambda loader, node: loader.construct_scalar(node))
    return Loader


def _documents(text: str, source: str) -> list[Manifest]:
    import yaml  # only commands that read manifests pay for it

    loader = _loader_class(yaml)(text)
    docs: list[Manifest] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1 if node is not None else 0
            index = len(docs) + 1
            where = f"{source}: document {index} (line {line})"
            if node is not None:
                sendable.check_aliases(node, where)  # before construct_document: it would expand them
            obj = _construct(loader, node, where)
            if obj is None:
                continue
            if not isinstance(obj, dict):
                raise UsageError(f"{where}: expected an object, got {type(obj).__name__}")
            sendable.to_json(obj, where)  # keys, NaN, big integers, !!binary...: refused here, not midway
            docs.append(Manifest(obj, source, index, line))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(
            f"{source}: document {len(docs) + 1}{where}: invalid YAML: {problem}", hint=_depth_hint(problem)
        ) from exc
    except RecursionError:  # PyYAML's pure-Python composer, where libyaml is missing, recurses on every level
        raise UsageError(
            f"{source}: document {len(docs) + 1}: invalid YAML: exceeded maximum nesting depth",
            hint=_depth_hint("exceeded maximum nesting depth"),
        ) from None
    finally:
        loader.dispose()
    return docs


def _construct(loader: Any, node: Any, where: str) -> Any:
    """The document's value. An explicit tag whose value it cannot take (`!!int abc`, `!!bool maybe`, `!!int ''`,
    `!!timestamp x`) makes PyYAML's constructors raise ValueError, KeyError, IndexError or AttributeError, none of
    them a YAMLError: a UsageError here, in go-yaml's words, never an internal error."""
    try:
        return loader.construct_document(node)
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        bad = _tagged_scalar(node)
        if bad is None:
            raise UsageError(f"{where}: invalid YAML: {type(exc).__name__}: {exc}") from None
        tag, value, line = bad
        raise UsageError(f"{where}: invalid YAML: line {line}: cannot decode !!str `{value}` as a {tag}") from None


def _tagged_scalar(node: Any) -> tuple[str, str, int] | None:
    """The first scalar with an explicit core tag in `node` (its tag as go-yaml names it, its text and line)."""
    import yaml

    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.ScalarNode):
            if n.tag.startswith("tag:yaml.org,2002:") and n.tag[18:] in ("int", "float", "bool", "timestamp", "null"):
                if not _plain_resolves(n):
                    return "!!" + n.tag[18:], n.value, n.start_mark.line + 1
        elif isinstance(n, yaml.MappingNode):
            stack.extend(v for pair in reversed(n.value) for v in reversed(pair))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(reversed(n.value))
    return None


def _plain_resolves(node: Any) -> bool:
    """Whether a plain scalar's text would resolve to its tag by itself (no explicit tag was needed)."""
    import yaml

    resolved = yaml.resolver.Resolver().resolve(yaml.ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
    return bool(resolved == node.tag)


def _depth_hint(problem: str) -> str | None:
    """Deliberately not kubectl: its readers (Go's encoding/json, go-yaml) take 10,000 levels, kates's (libyaml, the
    one YAML reader here that does not recurse in Python) stops past 1,000."""
    if "nesting depth" not in problem:
        return None
    return f"kates reads manifests nested up to {sendable.MAX_DEPTH} levels (libyaml's limit; kubectl's is 10000)"


def parse_value(text: str, source: str) -> Any:
    """One YAML (or JSON) document that is not a manifest, e.g. a patch, read as manifests are: go-yaml's scalars,
    aliases bounded, and in its JSON form (UsageError otherwise). None for an empty document."""
    import yaml

    loader = _loader_class(yaml)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        sendable.check_aliases(node, source)
        value = _construct(loader, node, f"unable to parse {source}")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # libyaml puts an error at the end of the input on the line after it; go-yaml (kubectl) on the last line
        where = f"line {min(mark.line + 1, text.count(chr(10)) + 1)}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"unable to parse {source}: {where}{problem}", hint=_depth_hint(problem)) from exc
    except RecursionError:  # (see load)
        raise UsageError(
            f"unable to parse {source}: exceeded maximum nesting depth", hint=_depth_hint("nesting depth")
        ) from None
    finally:
        loader.dispose()
    return sendable.normalize(value, f"unable to parse {source}")


def _expand(m: Manifest) -> list[Manifest]:
    kind = m.obj.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(m.obj.get("items"), list):
        out = []
        for item in m.obj["items"]:
            if not isinstance(item, dict):
                raise UsageError(f"{m.where}: a List item is not an object")
            out += _expand(Manifest(item, m.source, m.index, m.line))
        return out
    return [m]


def check(m: Manifest, *, need_name: bool = True, generate_name: bool = True) -> None:
    """apiVersion, kind and metadata set; with `need_name`, a name, or a generateName if `generate_name` (only
    create can use one: every other verb names an existing object)."""
    obj = m.obj
    for field in ("apiVersion", "kind"):
        if not isinstance(obj.get(field), str) or not obj[field]:
            raise UsageError(f"{m.where}: {field} not set")
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise UsageError(f"{m.where}: metadata not set")
    for field in ("name", "generateName", "namespace"):  # Go decodes these as strings, and refuses anything else
        value = meta.get(field)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{m.where}: metadata.{field} must be a string, not {_kind_of(value)}")
    if need_name and not meta.get("name"):
        if not generate_name and meta.get("generateName"):
            raise UsageError(f"{m.where}: resource name may not be empty", hint="only create can use generateName")
        if not meta.get("generateName"):
            raise UsageError(f"{m.where}: metadata.name not set")


def load(
    paths: list[str], recursive: bool = False, *, need_name: bool = True, generate_name: bool = True
) -> list[Manifest]:
    """Read every manifest in `paths`, expanding Lists, and check each one; raises before returning anything.
    `generate_name=False` refuses a manifest with a generateName and no name (for verbs other than create)."""
    if not paths:
        raise UsageError("no manifests given: use -f FILE|DIR|-")
    out: list[Manifest] = []
    for path in paths:
        for file in _files(path, recursive):
            source = "<stdin>" if file == "-" else file
            try:
                if file == "-":
                    stdin = sys.stdin
                    buffer = getattr(stdin, "buffer", None)
                    raw = buffer.read() if buffer is not None else stdin.read().encode(errors="surrogateescape")
                else:
                    with open(file, "rb") as fh:
                        raw = fh.read()
                text = raw.decode("utf-8")  # strictly: a surrogate-escaped stdin would reach the encoder
            except OSError as exc:
                raise UsageError(f"cannot read {file}: {exc.strerror}") from exc
            except UnicodeDecodeError as exc:
                raise UsageError(f"{source}: not UTF-8 text (invalid byte at offset {exc.start})") from exc
            for doc in _documents(text, source):
                for m in _expand(doc):
                    check(m, need_name=need_name, generate_name=generate_name)
                    out.append(m)
    if not out:
        raise UsageError(f"no objects found: {', '.join(paths)} holds no manifests")
    return out


def crd_refs(obj: dict[str, Any]) -> list[ResourceRef]:
    """The kinds a CustomResourceDefinition manifest defines, one ref per served version ([] for anything else)."""
    from ..core.mapping import ResourceRef

    if obj.get("kind") != "CustomResourceDefinition" or not str(obj.get("apiVersion")).startswith(
        "apiextensions.k8s.io/"
    ):
        return []
    spec = obj.get("spec")
    names = spec.get("names") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or not isinstance(names, dict):
        return []
    refs = []
    for version in spec.get("versions") or ():
        if not isinstance(version, dict) or version.get("served") is False:
            continue
        subresources = version.get("subresources")
        refs.append(
            ResourceRef(
                group=str(spec.get("group") or ""),
                version=str(version.get("name") or ""),
                resource=str(names.get("plural") or ""),
                kind=str(names.get("kind") or ""),
                namespaced=spec.get("scope") == "Namespaced",
                singular=str(names.get("singular") or ""),
                subresources=tuple(subresources) if isinstance(subresources, dict) else (),
            )
        )
    return refs


def namespace_of(state: State, client: Client, ref: ResourceRef, m: Manifest) -> str | None:
    """The namespace a manifest's object goes to (None for a cluster-scoped kind): its own, else -n, else the
    context's. An object's own namespace that differs from an explicit -n is refused, in kubectl's words, before
    anything is sent (create, update, patch, delete and get -f alike)."""
    if not ref.namespaced:
        return None
    own = (m.obj.get("metadata") or {}).get("namespace")
    if own and state.namespace_explicit and state.namespace and own != state.namespace:
        raise UsageError(
            f'{m.where}: the namespace from the provided object "{own}" does not match the namespace '
            f'"{state.namespace}"',
            hint=f"pass --namespace={own}, or remove the namespace from the object",
        )
    return str(own or state.namespace or client.namespace)


def _kind_of(value: Any) -> str:
    """A JSON value's type, as Go's decoder names it in its refusal ("number", "bool", "array", "object")."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "array" if isinstance(value, list) else "object"
