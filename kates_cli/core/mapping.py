"""kubectl-style resource names -> `ResourceRef`, through aggregated discovery cached on disk.

Invariants:
- Resolution is a pure function of the discovery document (`resolve_in`), so it is unit-tested over recorded documents.
- Names resolve as kubectl's builder maps them (`resolve_in`): `name.version.group`, then `name.group` (the group
  exact, else a group starting with it: `deploy.app`), then `name`; each as a resource first (plural or singular,
  any case, after the short-name expansion: a short name, matched as typed, stands for its resource unless the name
  is some resource's own plural or singular, so a CRD's short name never hides a built-in resource; an ambiguous
  short name is warned about in kubectl's words), then as a Kind (as discovery spells it, or in lower case) of
  exactly that group. Among several matches the first in discovery order wins: the core group first, then groups
  in the server's priority order, each group's preferred version first (kubectl's priority REST mapper).
- A version discovery marks Stale (its aggregated API service is down) is not served, as client-go drops it.
- A name nothing answers to is kubectl's `the server doesn't have a resource type "foo"` (`"foo" in group "g"` when
  it names a group).
- The disk cache is used while younger than its TTL (kubectl's 6 hours). A miss against a cached document refetches
  once and retries, so a CRD created a moment ago is found without waiting for the TTL.
- Subresources (`pods/log`) are never resolvable names; they are listed on their parent as `subresources`.
- A category (`all`, or a CRD's `categories`) expands, before any name is resolved, to every resource listing it:
  one ref per group and resource (its preferred version), in discovery order, as kubectl's category expander does.
- `invalidate()` forgets discovery in memory and on disk (Go kates's `InvalidateCache`); if the file cannot be
  removed, discovery is fetched at once, so a stale file is never read again by this process.
- A 404 that is not a Status about the object itself means the resource is no longer served (a deleted CRD known
  only to a stale cache): `unserved` tells the two apart, and the client then refetches discovery once.
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import field, replace

import orjson

from ..errors import NotFound, ResourceTypeNotFound, UsageError
from .records import record

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:  # only a type here: a command that never sends a request never imports the transport
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from .transport import Transport

DISCOVERY_ACCEPT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
CACHE_TTL_SECONDS = 6 * 3600


@record(frozen=True)
class ResourceRef:
    """One resource the server serves, as discovery names it (a kind in one group and version)."""

    group: str
    version: str
    resource: str  # plural, lower case: "deployments"
    kind: str  # "Deployment"
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = field(default=())
    named_as: str = field(default="", compare=False)  # the name the user resolved it by, for messages

    @property
    def missing(self) -> ResourceTypeNotFound:
        """The error for this kind once the server no longer serves it, in kubectl's words."""
        if self.named_as:
            return type_not_found(self.named_as)
        return ResourceTypeNotFound(f'no matches for kind "{self.kind}" in version "{self.api_version}"')

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """`deployments.apps`, or `pods` for the core group."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def kind_group(self) -> str:
        """kubectl's `-o name` prefix: `deployment.apps`, or `pod`."""
        return f"{self.kind.lower()}.{self.group}" if self.group else self.kind.lower()

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """The REST path; `namespace` is ignored for cluster-scoped kinds. An empty `name` is refused (client-go's
        words): the path without it is the collection's, and a DELETE of that deletes every object of the kind."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{_seg(namespace)}"
        base += f"/{self.resource}"
        if name is not None:
            if not isinstance(name, str) or not name:
                raise UsageError(
                    "resource name may not be empty" if not name else f"resource name {name!r} is no string"
                )
            base += f"/{_seg(name)}"
        if subresource:
            base += f"/{subresource}"
        return base


def _seg(value: str) -> str:
    from urllib.parse import quote

    return quote(value.encode("utf-8", "surrogateescape"), safe="")  # a name's undecodable bytes too (argv's)


def parse_discovery(core: dict[str, Any], groups: dict[str, Any]) -> list[ResourceRef]:
    """Flatten two APIGroupDiscoveryList documents (from /api and /apis) into refs, in priority order."""
    refs: list[ResourceRef] = []
    for doc in (core, groups):
        for item in doc.get("items") or []:
            group = (item.get("metadata") or {}).get("name", "") or ""
            for ver in item.get("versions") or []:
                if ver.get("freshness", "Current") != "Current":  # Stale: its API service is down (client-go drops it)
                    continue
                version = ver.get("version", "")
                for res in ver.get("resources") or []:
                    kind = (res.get("responseKind") or {}).get("kind", "")
                    refs.append(
                        ResourceRef(
                            group=group,
                            version=version,
                            resource=res.get("resource", ""),
                            kind=kind,
                            namespaced=res.get("scope") == "Namespaced",
                            singular=res.get("singularResource", "") or kind.lower(),
                            short_names=tuple(res.get("shortNames") or ()),
                            verbs=tuple(res.get("verbs") or ()),
                            categories=tuple(res.get("categories") or ()),
                            subresources=tuple(s.get("subresource", "") for s in res.get("subresources") or ()),
                        )
                    )
    return refs


def resolve_in(refs: list[ResourceRef], arg: str, warn: Callable[[str], None] | None = None) -> ResourceRef | None:
    """Resolve one kubectl-style name against `refs` (in priority order) as kubectl's builder maps it (cli-runtime
    `mappingFor` over client-go's shortcut expander and priority REST mapper); None when nothing matches. `warn`
    is told when a short name also matches a lower-priority resource, in kubectl's words."""
    arg = arg.strip()
    if not arg or "/" in arg:
        return None
    parts = arg.split(".")
    full = (parts[0], parts[1], ".".join(parts[2:])) if len(parts) >= 3 else None  # resource.version.group
    resource, _, group = arg.partition(".")  # resource.group (the group may be a prefix: deploy.app)
    if full is not None and (ref := _resource_for(refs, *full, warn)) is not None:
        return ref
    if (ref := _resource_for(refs, resource, None, group, warn)) is not None:
        return ref
    if full is not None and (ref := _kind_for(refs, *full)) is not None:  # Kind.version.group
        return ref
    return _kind_for(refs, resource, None, group)  # Kind.group, Kind (the core group's)


def _resource_for(
    refs: list[ResourceRef], res: str, version: str | None, group: str, warn: Callable[[str], None] | None
) -> ResourceRef | None:
    """The first resource whose plural or singular is `res` (any case) in `group` (exact, else a group starting
    with it) and `version`, after the short-name expansion: a short name (matched as typed) stands for its resource,
    unless `res` is some resource's very plural or singular (a CRD's short name `secret` never hides secrets), and
    the version is dropped then, as kubectl drops it."""
    in_group = [r for r in refs if not group or r.group == group]
    if not any(res == r.resource or res == r.singular for r in in_group):
        expanded: ResourceRef | None = None
        said: set[tuple[str, str]] = set()
        for r in in_group:
            if res not in r.short_names:
                continue
            if expanded is None:
                expanded = r
            elif (r.group, r.resource) != (expanded.group, expanded.resource) and (r.group, r.resource) not in said:
                said.add((r.group, r.resource))
                if warn is not None:
                    warn(f'short name "{res}" could also match lower priority resource {r.group_resource}')
        if expanded is None and group:  # a prefix of the group: "autoscal"
            expanded = next((r for r in refs if r.group.startswith(group) and res in r.short_names), None)
        if expanded is not None:
            res, version, group = expanded.resource, None, expanded.group
    lower = res.lower()
    found = [r for r in refs if lower in (r.resource, r.singular) and (version is None or r.version == version)]
    if group:
        found = [r for r in found if r.group == group] or [r for r in found if r.group.startswith(group)]
    return found[0] if found else None


def _kind_for(refs: list[ResourceRef], kind: str, version: str | None, group: str) -> ResourceRef | None:
    """The resource of Kind `kind` (as discovery spells it, or in lower case) in exactly `group` (the core group when
    none is given), in `version` or the group's preferred one."""
    for r in refs:
        if r.group == group and (kind == r.kind or kind == r.kind.lower()) and version in (None, r.version):
            return r
    return None


def type_not_found(arg: str) -> ResourceTypeNotFound:
    """kubectl's words for a name no resource answers to: `"foo"`, or `"foo" in group "example.com"`."""
    resource, dot, group = arg.partition(".")
    where = f' in group "{group}"' if dot else ""
    return ResourceTypeNotFound(f'the server doesn\'t have a resource type "{resource if dot else arg}"{where}')


def expand_category(refs: list[ResourceRef], arg: str) -> list[ResourceRef]:
    """The resources in category `arg` (exact match, as kubectl's), one per group and resource; [] if none."""
    seen: set[tuple[str, str]] = set()
    out: list[ResourceRef] = []
    for ref in refs:
        if arg in ref.categories and (ref.group, ref.resource) not in seen:
            seen.add((ref.group, ref.resource))
            out.append(ref)
    return out


def unserved(exc: NotFound) -> bool:
    """True when a 404 says the resource itself is not served (plain `404 page not found`, or a Status without
    details), False when it is a Status about a missing object (its details name the resource)."""
    details = (exc.status or {}).get("details")
    return not (isinstance(details, dict) and details.get("kind"))


def served(refs: list[ResourceRef], ref: ResourceRef) -> bool:
    """Whether `ref`'s group, version and resource are in `refs`."""
    return any((r.group, r.version, r.resource) == (ref.group, ref.version, ref.resource) for r in refs)


class Discovery:
    """Discovery for one server, cached on disk under `cache_dir`."""

    def __init__(
        self, transport: Transport, cache_dir: str | os.PathLike[str] | None = None, ttl: float = CACHE_TTL_SECONDS
    ):
        self.transport = transport
        self.ttl = ttl
        root = os.fspath(cache_dir) if cache_dir else _default_cache_dir()
        # the key tells apart the servers behind one host and port (scheme, path prefix); crc32, not hashlib's sha256:
        # zlib is loaded already (core/transport.py), hashlib costs 1.3 ms of every start (bench B0)
        key = zlib.crc32(f"{transport.scheme}://{transport.host}:{transport.port}{transport.prefix}".encode())
        # no home directory to keep a cache in (HOME unset, no passwd entry, no KATES_CACHE_DIR): no cache, rather
        # than a directory named "~" in the working directory
        self._cache_dir = os.path.join(root, "discovery") if root else ""
        self._cache_path = (
            os.path.join(self._cache_dir, f"{transport.host}_{transport.port}_{key:08x}.json") if root else ""
        )
        self._refs: list[ResourceRef] | None = None
        self._fresh = False  # fetched from the server by this process

    @property
    def cache_file(self) -> Path | None:
        """The file discovery is cached in, None without a cache directory (a Path made when asked for: pathlib
        costs 1.2 ms of every start)."""
        from pathlib import Path

        return Path(self._cache_path) if self._cache_path else None

    def refs(self) -> list[ResourceRef]:
        if self._refs is None:
            cached = self._read_cache()
            self._refs = parse_discovery(*cached) if cached else self.refresh()
        return self._refs

    def refresh(self) -> list[ResourceRef]:
        core = self.transport.request_json("GET", "/api", accept=DISCOVERY_ACCEPT)
        groups = self.transport.request_json("GET", "/apis", accept=DISCOVERY_ACCEPT)
        self._write_cache(core, groups)
        self._refs = parse_discovery(core, groups)
        self._fresh = True
        return self._refs

    def resolve(self, arg: str) -> ResourceRef:
        from .server_warnings import client_warning

        ref = resolve_in(self.refs(), arg, client_warning)
        if ref is None and not self._fresh:
            ref = resolve_in(self.refresh(), arg, client_warning)
        if ref is None:
            raise type_not_found(arg)
        return replace(ref, named_as=arg)

    def resolve_many(self, arg: str) -> list[ResourceRef]:
        """A category's resources (`all`, a CRD's category), else the one resource `arg` names."""
        for attempt in (0, 1):
            refs = self.refs() if attempt == 0 else self.refresh()
            found = expand_category(refs, arg)
            if found:
                return [replace(r, named_as=r.group_resource) for r in found]
            from .server_warnings import client_warning

            ref = resolve_in(refs, arg, client_warning)
            if ref is not None:
                return [replace(ref, named_as=arg)]
            if self._fresh:
                break
        raise type_not_found(arg)

    def still_served(self, ref: ResourceRef) -> bool:
        """After a 404 that `unserved` calls a missing resource: refetch discovery (once per process) and look again."""
        if not self._fresh:
            self.refresh()
        return served(self.refs(), ref)

    def by_kind(self, api_version: str, kind: str) -> ResourceRef:
        """The ref for an object's apiVersion and kind (as written in a manifest)."""
        group, _, version = api_version.rpartition("/")

        def find() -> ResourceRef | None:
            for ref in self.refs():
                if ref.group == group and ref.version == version and ref.kind == kind:
                    return ref
            return None

        ref = find()
        if ref is None and not self._fresh:
            self.refresh()
            ref = find()
        if ref is None:
            raise ResourceTypeNotFound(f'no matches for kind "{kind}" in version "{api_version}"')
        return ref

    def invalidate(self) -> None:
        """Forget discovery, in memory and on disk: the next resolution fetches it from the server."""
        self._refs = None
        self._fresh = False
        if not self._cache_path:
            return
        try:
            os.unlink(self._cache_path)
        except FileNotFoundError:
            pass
        except OSError:  # a read-only cache dir: fetch now, so the stale file on disk is never read again
            self.refresh()

    def _read_cache(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if not self._cache_path:
            return None
        try:
            with open(self._cache_path, "rb") as fh:
                if time.time() - os.fstat(fh.fileno()).st_mtime > self.ttl:
                    return None
                doc = orjson.loads(fh.read())
            return doc["api"], doc["apis"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_cache(self, core: dict[str, Any], groups: dict[str, Any]) -> None:
        if not self._cache_path:
            return
        try:
            os.makedirs(self._cache_dir, exist_ok=True)
            import tempfile  # lazily: start-up (only a discovery fetch writes)

            fd, tmp = tempfile.mkstemp(dir=self._cache_dir, prefix=".discovery.")
            with os.fdopen(fd, "wb") as fh:
                fh.write(orjson.dumps({"api": core, "apis": groups}))
            os.replace(tmp, self._cache_path)
        except OSError:
            pass  # a read-only cache only costs speed


def _default_cache_dir() -> str | None:
    """$KATES_CACHE_DIR, else kates's directory in $XDG_CACHE_HOME or ~/.cache; None when there is no home directory
    to find (HOME unset and no passwd entry: os.path.expanduser leaves "~" as it is)."""
    if os.environ.get("KATES_CACHE_DIR"):
        return os.environ["KATES_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home.startswith("~"):
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "kates")
