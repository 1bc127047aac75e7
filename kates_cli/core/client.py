"""The kates client: kinds resolved by discovery, CRUD on plain dicts, chunked lists and server-side tables.

Invariants:
- Objects are plain JSON dicts (`KubeObject`) everywhere; typed `kubernetes` models are converted on the way in
  (`transport.to_plain`) and results are always the server's returned object.
- Listed items get `apiVersion` and `kind` filled in (the server leaves them out of list items), so every object
  the client hands out is self-describing.
- A namespaced call without a namespace uses the client's namespace (from --namespace or the context); a namespace
  given for a cluster-scoped kind is ignored, as kubectl does.
- Every successful write is reported to the registered write listeners (the coherence record of the watch).
- Inside a fenced hook (coherence.FENCE_ENV in the environment at construction), every write that changes
  something (create, update, update_status, patch, delete; not a server dry run) holds a permit checked as the last
  thing before its request leaves (`coherence.Permits`, through the transport's `before_send`), or is not sent and
  raises `Fenced`. `_write` and `delete` are the only places a write is sent from.
- Inside a `kates replay` hook (coherence.REPLAY_ENV in the environment at construction) every such write raises
  `Fenced` before its request is made: a replay changes no cluster.
- Bodies are encoded at any depth (`deepjson.dumps`: orjson's bytes, without its 255-level limit), so what the
  client can read back it can also write.
- Writes send `fieldValidation` only when given one (Strict, Warn, Ignore); without it the server warns about
  unknown fields (its default, Warn). The CLI asks for Strict, as kubectl does.
- A read or a write answered by a 404 for the resource itself (not for a missing object) refetches discovery once;
  if the kind is gone (a deleted CRD still in the disk cache), it fails as an unknown kind would
  (ResourceTypeNotFound).
- `upsert` writes only through `create` and `update` (so every invariant above holds for it), and retries a
  Conflict a bounded number of times, each time on a fresh read of the stored object. `wait_for` ends by its
  deadline, and `server_resources`/`server_preferred_resources` read discovery fresh from the server, never
  through or into the cache (`invalidate_cache` drops that).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
import time
from collections.abc import Callable, Iterator

import orjson

from ..errors import AlreadyExists, ApiError, Conflict, NotFound, ResourceTypeNotFound, UsageError
from . import config, deepjson
from .hookenv import ENV_VAR, in_hook
from .mapping import DISCOVERY_ACCEPT, Discovery, ResourceRef, unserved
from .objects import merge_update
from .transport import SentGet, Transport, to_plain

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import Any

    from . import coherence
    from .accumulator import Accumulator, Query
    from .logs import LogEvent
    from .watch import StreamObserver

KubeObject = dict[str, "Any"]
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
PATCH_TYPES = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}
DEFAULT_CHUNK_SIZE = 500
UPSERT_CONFLICT_RETRIES = 10
WriteListener = Callable[[str, ResourceRef, KubeObject], None]
APIResources = list[dict[str, "Any"]]  # metav1.APIResource dicts (core/apiresources.py)


class Client:
    """A connection to one cluster, as chosen by kubeconfig, context and namespace (kubectl's rules)."""

    def __init__(
        self,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        request_timeout: float | None = None,
        *,
        settings: config.ConnectionSettings | None = None,
    ):
        self.settings = settings or config.load(kubeconfig, context, namespace)
        self.namespace = self.settings.namespace
        self.transport = Transport(self.settings, timeout=request_timeout)
        self.discovery = Discovery(self.transport)
        self.write_listeners: list[WriteListener] = []
        self.permits: coherence.Permits | None = None
        self.replaying = False
        if in_hook(os.environ):  # else the coherence protocol has nothing to do here: not imported
            self._join_hook()

    def _join_hook(self) -> None:
        """Inside a `kates watch` or `kates replay` hook: fence, refuse or report this client's writes."""
        from . import coherence

        socket_path = os.environ.get(ENV_VAR)
        self.replaying = coherence.replaying(os.environ)  # a `kates replay` hook: writes are refused (`_gate`)
        if coherence.fenced_writes(os.environ):  # a leader's hook: no write leaves without a permit
            self.permits = coherence.Permits(socket_path or None, coherence.cluster_id(self.settings))
        if socket_path:  # we run inside a `kates watch` hook: report our writes to the watcher
            cluster = coherence.cluster_id(self.settings)

            def report(verb: str, ref: ResourceRef, obj: KubeObject) -> None:
                coherence.report(socket_path, cluster, verb, ref.group, ref.resource, obj)

            self.write_listeners.append(report)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- kinds -----------------------------------------------------------------------------------------------

    def resolve(self, kind: str | ResourceRef) -> ResourceRef:
        """`svc`, `deployments.apps`, `Foo.example.com`, ... -> ResourceRef (ResourceTypeNotFound if unknown)."""
        return kind if isinstance(kind, ResourceRef) else self.discovery.resolve(kind)

    def resolve_many(self, kind: str) -> list[ResourceRef]:
        """Like `resolve`, but a category (`all`, a CRD's category) gives every resource in it, as kubectl's."""
        return self.discovery.resolve_many(kind)

    def _read(self, ref: ResourceRef, path: str, **kwargs: Any) -> KubeObject:
        """GET `path` of `ref`; a 404 for the resource itself becomes ResourceTypeNotFound once discovery, refetched,
        no longer lists it (kubectl, trusting its cache, says `the server could not find the requested resource`)."""
        try:
            result: KubeObject = self.transport.request_json("GET", path, **kwargs)
        except NotFound as exc:
            raise self._kind_gone(ref, exc) from None
        return result

    def _kind_gone(self, ref: ResourceRef, exc: NotFound) -> NotFound:
        """The error for a 404 on `ref`: ResourceTypeNotFound when the 404 is for the resource itself and discovery,
        refetched, no longer lists it (a kind deleted since the disk cache was written); else `exc` itself."""
        if isinstance(exc, ResourceTypeNotFound) or not unserved(exc) or self.discovery.still_served(ref):
            return exc
        return ref.missing

    def ref_for(self, obj: KubeObject) -> ResourceRef:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not api_version or not kind:
            raise UsageError("object has no apiVersion or kind")
        return self.discovery.by_kind(str(api_version), str(kind))

    def _ns(self, ref: ResourceRef, namespace: str | None) -> str | None:
        return (namespace or self.namespace) if ref.namespaced else None

    # -- reads -----------------------------------------------------------------------------------------------

    def server_version(self) -> dict[str, Any]:
        result: dict[str, Any] = self.transport.request_json("GET", "/version")
        return result

    def get(
        self, kind: str | ResourceRef, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> KubeObject:
        ref = self.resolve(kind)
        return self._read(ref, ref.path(self._ns(ref, namespace), name, subresource))

    def list_pages(
        self,
        kind: str | ResourceRef,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        label_selector: str | None = None,
        field_selector: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        table: bool = False,
        include_object: bool = False,
        ahead: bool = False,
    ) -> Iterator[KubeObject]:
        """Yield each page of a chunked list (a List, or a Table when `table`) as it arrives. With
        `include_object`, Table rows carry the whole object rather than its metadata. With `ahead`, a thread asks
        for each page's bytes while the caller uses the page before (core/readahead.py), and each page is parsed in
        the caller's thread: the server encodes the next page while this one is parsed and used."""
        ref = self.resolve(kind)
        bodies = self._page_bodies(
            ref,
            None if all_namespaces else self._ns(ref, namespace),
            table,
            params={
                "labelSelector": label_selector or None,
                "fieldSelector": field_selector or None,
                "limit": chunk_size if chunk_size > 0 else None,
                "includeObject": "Object" if table and include_object else None,
            },
        )
        if ahead:
            from .readahead import read_ahead

            bodies = read_ahead(bodies)
        for body in bodies:
            page: KubeObject = deepjson.loads(body) if isinstance(body, bytes) else body
            if not table:
                for item in page.get("items") or ():
                    item.setdefault("apiVersion", ref.api_version)
                    item.setdefault("kind", ref.kind)
            yield page

    def _page_bodies(
        self, ref: ResourceRef, ns: str | None, table: bool, params: dict[str, Any]
    ) -> Iterator[bytes | KubeObject]:
        """The pages of a list, each as its bytes, or parsed when its continue token could not be read without
        parsing it (core/listpage.py). Each page's successor is asked for as soon as the page's first bytes hold
        its continue token (a typed list's do), else once the page is whole, and always before the page is handed
        on (`Transport.send_get`): the server encodes the next page while this one arrives and is used, and that
        request never waits for a thread busy parsing to be let in."""
        from .listpage import MORE, UNKNOWN, continue_token, head_token

        path, accept = ref.path(ns), TABLE_ACCEPT if table else "application/json"
        sent: SentGet | None = None  # the next page's request, sent
        sent_for: str | None = None  # the continue token it carries
        answering: SentGet | None = None  # this page's, being read

        def ask(token: str) -> None:
            nonlocal sent, sent_for
            if sent is not None:
                sent.close()
            sent, sent_for = self.transport.send_get(path, params={**params, "continue": token}, accept=accept), token

        def early(start: bytes) -> bool:
            token = head_token(start)
            if token is MORE:
                return False
            if isinstance(token, str) and token != sent_for:  # a page asked again may name another successor
                ask(token)
            return True

        get: Callable[[], bytes] = functools.partial(
            self.transport.request, "GET", path, params=params, accept=accept, head=early
        )
        try:
            while True:
                body = self._page_body(ref, params, get)
                answering = None
                page: KubeObject | None = None
                if sent is None:  # the head did not hold the token: read it from the whole page
                    token = continue_token(body)
                    if token is UNKNOWN:
                        page = deepjson.loads(body)
                        token = (page.get("metadata") or {}).get("continue") or None
                    if token:
                        ask(str(token))
                yield body if page is None else page
                if sent is None:
                    return
                answering, sent, sent_for = sent, None, None
                get = functools.partial(answering.result, early)
        finally:
            for request in (sent, answering):
                if request is not None:
                    request.close()

    def _page_body(self, ref: ResourceRef, params: dict[str, Any], get: Callable[[], bytes]) -> bytes:
        """One page's bytes from `get`, with a list's errors named as kubectl names them."""
        try:
            return get()
        except NotFound as exc:
            raise self._kind_gone(ref, exc) from None
        except ApiError as exc:
            if exc.code == 400 and (params["labelSelector"] or params["fieldSelector"]):
                raise _bad_selector(ref, params["labelSelector"], params["fieldSelector"], exc) from exc
            raise

    def list(self, kind: str | ResourceRef, namespace: str | None = None, **kwargs: Any) -> KubeObject:
        """All pages of a list joined into one `<Kind>List` (metadata from the last page)."""
        ref = self.resolve(kind)
        items: list[KubeObject] = []
        last: KubeObject = {}
        for page in self.list_pages(ref, namespace, **kwargs):
            items.extend(page.get("items") or ())
            last = page
        metadata = dict(last.get("metadata") or {})
        metadata.pop("continue", None)
        return {"apiVersion": ref.api_version, "kind": f"{ref.kind}List", "metadata": metadata, "items": items}

    def get_table(
        self, kind: str | ResourceRef, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> KubeObject:
        ref = self.resolve(kind)
        return self._read(ref, ref.path(self._ns(ref, namespace), name, subresource), accept=TABLE_ACCEPT)

    # -- writes ----------------------------------------------------------------------------------------------

    def _gate(self, dry_run: bool) -> Callable[[], None] | None:
        """The permit check for a write request, if writes are fenced (a server dry run changes nothing: none).
        Inside a `kates replay` hook (coherence.REPLAY_ENV) the write is refused here, before any request."""
        if dry_run:
            return None
        if self.replaying:
            from . import coherence

            raise coherence.replay_refused()
        return None if self.permits is None else self.permits.check

    def _write(
        self,
        verb: str,
        method: str,
        ref: ResourceRef,
        path: str,
        body: bytes,
        content_type: str = "application/json",
        params: dict[str, Any] | None = None,
    ) -> KubeObject:
        dry_run = bool((params or {}).get("dryRun"))
        try:
            result: KubeObject = self.transport.request_json(
                method, path, body=body, content_type=content_type, params=params, before_send=self._gate(dry_run)
            )
        except NotFound as exc:
            raise self._kind_gone(ref, exc) from None
        if not dry_run:
            for listener in self.write_listeners:
                listener(verb, ref, result)
        return result

    def _prepare(self, obj: Any, namespace: str | None) -> tuple[ResourceRef, KubeObject, str | None]:
        plain: KubeObject = to_plain(obj)
        ref = self.ref_for(plain)
        meta = plain.get("metadata") or {}
        ns = self._ns(ref, meta.get("namespace") or namespace)
        return ref, plain, ns

    @staticmethod
    def _write_params(dry_run: bool, field_manager: str | None, field_validation: str | None) -> dict[str, Any]:
        if field_validation not in (None, "Strict", "Warn", "Ignore"):
            raise UsageError(f'unknown field validation "{field_validation}": use Strict, Warn or Ignore')
        return {
            "dryRun": "All" if dry_run else None,
            "fieldManager": field_manager,
            "fieldValidation": field_validation,
        }

    def create(
        self,
        obj: Any,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        field_manager: str | None = "kates",
        field_validation: str | None = None,
    ) -> KubeObject:
        ref, plain, ns = self._prepare(obj, namespace)
        return self._write(
            "create",
            "POST",
            ref,
            ref.path(ns),
            deepjson.dumps(plain),
            params=self._write_params(dry_run, field_manager, field_validation),
        )

    def update(
        self,
        obj: Any,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        field_manager: str | None = "kates",
        field_validation: str | None = None,
    ) -> KubeObject:
        ref, plain, ns = self._prepare(obj, namespace)
        name = _name_of(plain)
        return self._write(
            "update",
            "PUT",
            ref,
            ref.path(ns, name),
            deepjson.dumps(plain),
            params=self._write_params(dry_run, field_manager, field_validation),
        )

    def update_status(
        self,
        obj: Any,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        field_manager: str | None = "kates",
        field_validation: str | None = None,
    ) -> KubeObject:
        ref, plain, ns = self._prepare(obj, namespace)
        if "status" not in ref.subresources:
            raise UsageError(f'the resource type "{ref.group_resource}" has no status subresource')
        name = _name_of(plain)
        return self._write(
            "update_status",
            "PUT",
            ref,
            ref.path(ns, name, "status"),
            deepjson.dumps(plain),
            params=self._write_params(dry_run, field_manager, field_validation),
        )

    def patch(
        self,
        kind: str | ResourceRef,
        name: str,
        patch: Any,
        *,
        patch_type: str = "merge",
        namespace: str | None = None,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = "kates",
        field_validation: str | None = None,
    ) -> KubeObject:
        ref = self.resolve(kind)
        if patch_type not in PATCH_TYPES:
            raise UsageError(f'unknown patch type "{patch_type}": use one of json, merge, strategic')
        body = patch if isinstance(patch, bytes) else deepjson.dumps(patch)
        return self._write(
            "patch",
            "PATCH",
            ref,
            ref.path(self._ns(ref, namespace), name, subresource),
            body,
            content_type=PATCH_TYPES[patch_type],
            params=self._write_params(dry_run, field_manager, field_validation),
        )

    def delete(
        self,
        kind: str | ResourceRef,
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: str | None = None,
        grace_period: int | None = None,
        uid: str | None = None,
        resource_version: str | None = None,
        dry_run: bool = False,
    ) -> KubeObject:
        """Delete one object; returns what the server returned (the object, or a Status)."""
        ref = self.resolve(kind)
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if grace_period is not None:
            options["gracePeriodSeconds"] = grace_period
        if uid or resource_version:
            options["preconditions"] = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v}
        if dry_run:
            options["dryRun"] = ["All"]
        ns = self._ns(ref, namespace)
        try:
            result: KubeObject = self.transport.request_json(
                "DELETE", ref.path(ns, name), body=orjson.dumps(options), before_send=self._gate(dry_run)
            )
        except NotFound as exc:
            raise self._kind_gone(ref, exc) from None
        if not dry_run:
            meta = {"name": name, "namespace": ns} if ns else {"name": name}
            uid = (result.get("details") or {}).get("uid")  # a Status answer still names the deleted uid
            if uid:
                meta["uid"] = uid
            verb, gone = "delete", {"apiVersion": ref.api_version, "kind": ref.kind, "metadata": meta}
            if result.get("kind") == ref.kind:
                gone = result
                if (result.get("metadata") or {}).get("deletionTimestamp"):
                    verb = "update"  # finalizers or a grace period: the object still exists, now marked for deletion
            for listener in self.write_listeners:
                listener(verb, ref, gone)
        return result

    # -- logs ------------------------------------------------------------------------------------------------

    def pod_logs(
        self,
        pod: str,
        namespace: str | None = None,
        container: str | None = None,
        *,
        follow: bool = False,
        since_seconds: int | None = None,
        since_time: str | None = None,
        tail_lines: int | None = None,
    ) -> Iterator[LogEvent]:
        """One pod's log lines as LogEvents (every container, merged in timestamp order, unless `container`)."""
        from .logs import LogMux, LogOptions, LogSource

        ns = namespace or self.namespace
        if container is None:
            spec = self.get("pods", pod, ns).get("spec") or {}
            names = [c["name"] for c in spec.get("containers") or []]
        else:
            names = [container]
        mux = LogMux(self, LogOptions(follow, since_seconds, since_time, tail_lines))
        for name in names:
            mux.add(LogSource(ns, pod, name))
        mux.finish_adding()
        try:
            yield from mux.events()
        finally:
            mux.stop()

    # -- the rest of Go kates: upsert, waiting for kinds, discovery ------------------------------------------

    def upsert(
        self,
        obj: Any,
        source: Any = None,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        field_manager: str | None = "kates",
        field_validation: str | None = None,
        conflict_retries: int = UPSERT_CONFLICT_RETRIES,
    ) -> KubeObject:
        """Create `obj` if it does not exist, else update it with `source` merged in; returns the server's object.

        Go's `Upsert(resource, source)`: `source` (default: `obj`) is the desired state, `obj` (may be None: then
        `source`) the object to write, typically one read earlier. `source` is merged into it (`merge_update`:
        labels and annotations added, owner references and content replaced). Without a resourceVersion in `obj`,
        the stored object is read: absent, the merged object is created; present, `source` is merged into the
        stored object and that is updated. With a resourceVersion, the merged object is updated directly. A 409
        Conflict re-reads the stored object, merges `source` again and retries.

        Differs from Go, on purpose: Go retries a conflict forever, kates `conflict_retries` times and then raises
        the Conflict; a create that loses a race to another creator (AlreadyExists) becomes the update it would
        have been a moment later, where Go fails; and `merge_update` replaces every content field, not only `spec`
        (see there)."""
        if obj is None and source is None:
            raise UsageError("upsert needs an object or a source")
        src: KubeObject = to_plain(source if source is not None else obj)
        desired = merge_update(copy.deepcopy(to_plain(obj if obj is not None else source)), src)
        ref, desired, ns = self._prepare(desired, namespace)
        name = _name_of(desired)
        opts: dict[str, Any] = dict(dry_run=dry_run, field_manager=field_manager, field_validation=field_validation)
        body = desired
        if not (desired.get("metadata") or {}).get("resourceVersion"):
            try:
                stored = self.get(ref, name, ns)
            except ResourceTypeNotFound:
                raise
            except NotFound:
                try:
                    return self.create(desired, ns, **opts)
                except AlreadyExists:
                    stored = self.get(ref, name, ns)  # created by someone else since our read
            body = merge_update(stored, src)
        for attempt in range(conflict_retries + 1):
            try:
                return self.update(body, ns, **opts)
            except Conflict as exc:
                if isinstance(exc, AlreadyExists) or attempt == conflict_retries:
                    raise
            body = merge_update(self.get(ref, name, ns), src)
        raise AssertionError("unreachable")

    def wait_for(self, kind: str, timeout: float | None = None) -> ResourceRef:
        """Wait until the server serves `kind` (any name `resolve` takes: `widgets`, `Widget.example.com`, ...),
        refetching discovery between tries; returns its ResourceRef. As Go's `WaitFor`, which polls each second;
        kates polls sooner at first (0.1 s, doubling up to 1 s). Unlike Go, which returns quietly when its context
        ends, a kind still not served after `timeout` seconds (None: wait forever) raises ResourceTypeNotFound
        saying how long it waited."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.1
        while True:
            try:
                return self.resolve(kind)
            except ResourceTypeNotFound as exc:
                if deadline is not None and time.monotonic() >= deadline:
                    raise ResourceTypeNotFound(
                        f"{exc.message}: still not served after {timeout:g}s", hint="is the CRD installed?"
                    ) from None
                pause = delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic()))
            time.sleep(pause)
            delay = min(delay * 2, 1.0)
            self.discovery.refresh()

    def invalidate_cache(self) -> None:
        """Drop kates's discovery cache, the copy in memory and the file on disk (Go's `InvalidateCache`): the next
        kind resolution asks the server. Needed after a CRD is deleted or changed behind a long-lived client; a
        kind not found is refetched once by itself."""
        self.discovery.invalidate()

    def _discovery_documents(self) -> tuple[dict[str, Any], dict[str, Any]]:
        core = self.transport.request_json("GET", "/api", accept=DISCOVERY_ACCEPT)
        groups = self.transport.request_json("GET", "/apis", accept=DISCOVERY_ACCEPT)
        return core, groups

    def server_resources(self) -> APIResources:
        """Every resource type of every served version, subresources included, as Go kates's `ServerResources`
        returns them: a flat list of `metav1.APIResource`s as plain dicts (`name`, `singularName`, `namespaced`,
        `group`, `version`, `kind`, `verbs`, and `shortNames`/`categories` when set; a subresource is named
        `parent/sub`). Always fetched from the server (kates's discovery cache is neither read nor changed).
        See core/apiresources.py."""
        from .apiresources import server_resources

        return server_resources(*self._discovery_documents())

    def server_preferred_resources(self) -> APIResources:
        """As `server_resources`, but one entry per group and resource, in the preferred version that serves it,
        and no subresources (Go kates's `ServerPreferredResources`)."""
        from .apiresources import server_preferred_resources

        return server_preferred_resources(*self._discovery_documents())

    # -- watch -----------------------------------------------------------------------------------------------

    def watch(
        self,
        *queries: Query,
        wait_for_kinds: bool = False,
        stall_timeout: float = 30.0,
        server_timeout: int | None = None,
        backoff_cap: float = 10.0,
        streaming: bool = True,
        gate: Callable[[], None] | None = None,
        notice: Callable[[str], None] | None = None,
        observer: StreamObserver | None = None,
        max_dependencies: int | None = None,
    ) -> Accumulator:
        """Start watching `queries`; returns the Accumulator (close it, or use it as a context manager).

        Writes made through this client are overlaid on the snapshots until the watch delivers them. A connection
        silent for `stall_timeout` seconds is noticed, told to `notice` (one line naming the query) and resumed.
        `observer` (watch.StreamObserver) is told of each stream's lists, events and restarts. The Accumulator can
        also watch dependencies (`depend`, `get`, `list`), at most `max_dependencies` distinct ones (None: no
        bound), each with its own stream started with the same options."""
        from .accumulator import Accumulator, NamespaceFeed, QueryState
        from .dependencies import DependencySink, DependencySource, resource_ref
        from .watch import Sink, Stream

        states: list[QueryState] = []
        refs: list[ResourceRef | None] = []
        for q in queries:
            try:
                ref: ResourceRef | None = self.resolve(q.kind)
            except ResourceTypeNotFound:
                if not wait_for_kinds:
                    raise
                ref = None
            if ref is not None and not ref.namespaced and q.namespace is not None:
                q = dataclasses.replace(q, namespace=None)
            state = QueryState(q)
            if ref is not None:
                state.group, state.resource, state.api_version, state.kind = (
                    ref.group,
                    ref.resource,
                    ref.api_version,
                    ref.kind,
                )
            states.append(state)
            refs.append(ref)
        acc = Accumulator(states, max_dependencies=max_dependencies)

        def listener(verb: str, ref: ResourceRef, obj: KubeObject) -> None:
            acc.record_write(verb, ref.group, ref.resource, obj)

        self.write_listeners.append(listener)

        def stream(
            sink: Sink,
            state: QueryState,
            ref: ResourceRef | None,
            wait_for_kind: bool = False,
            namespace: str | None = None,
        ) -> Stream:
            """A stream of `state` into `sink`, set as every stream of this watch is (a query's or a dependency's;
            with `namespace`, that one of a query over several)."""
            return Stream(
                self.transport,
                self.discovery,
                sink,
                state,
                ref,
                stall_timeout=stall_timeout,
                server_timeout=server_timeout,
                notice=notice,
                observer=observer,
                backoff_cap=backoff_cap,
                wait_for_kind=wait_for_kind,
                gate=gate,
                streaming=streaming,
                namespace=namespace,
            )

        streams = []
        for state, ref in zip(states, refs, strict=True):
            if state.several and state.namespaces is not None:  # one stream per namespace, into the one state
                for ns in sorted(state.namespaces):
                    streams.append(stream(NamespaceFeed(acc, ns), state, ref, wait_for_kinds, ns))
            else:
                streams.append(stream(acc, state, ref, wait_for_kinds))

        def start_dependency(state: QueryState, ref: ResourceRef, sink: DependencySink) -> Stream:
            started = stream(sink, state, ref)
            started.start()
            return started

        acc.source = DependencySource(
            resolve=self.resolve,
            ref_for=lambda group, resource: resource_ref(self.discovery, group, resource),
            start=start_dependency,
            notice=notice,
            namespace=self.namespace,
        )

        def stop() -> None:
            if listener in self.write_listeners:
                self.write_listeners.remove(listener)
            for s in streams:
                s.stop()

        acc.on_close(stop)
        acc.streams = list(streams)
        for s in streams:
            s.start()
        return acc


def _bad_selector(ref: ResourceRef, labels: str | None, fields: str | None, exc: ApiError) -> UsageError:
    """The server refused a list's selectors (400): a usage error, worded as kubectl words it."""
    from .selectors import bad_selector_error  # its parser is of no use to a list the server accepts

    return bad_selector_error(ref.resource, labels, fields, exc)


def _name_of(obj: KubeObject) -> str:
    name = (obj.get("metadata") or {}).get("name")
    if not name:
        raise UsageError("object has no metadata.name")
    return str(name)
