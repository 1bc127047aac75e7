"""`kates get` inside a `kates watch` hook: reads answered by the watcher, from the snapshot the run received.

Inside a hook (core/coherence.ENV_VAR in the environment), a read of the watched cluster is first asked of the
watcher (`coherence.read`): it answers from the run's snapshot plus the run's own writes (core/readview.py), and a
read that nothing watched covers becomes a dependency of the run. The objects are the snapshot's very bytes, so
every object format (json, yaml, name, jsonpath, custom-columns) prints what the hook got on stdin.

Rules:
- `--live`, or KATES_LIVE_READS=1 in the environment (a whole hook), sends every read to the API server as before.
  `--watch` and `--subresource` always do.
- When the watcher does not answer (its socket gone, no hook run in progress: a background process left by an
  earlier run), the read goes to the API server, and says so once per command on stderr. A read of another cluster
  than the watched one goes to the API server without a word.
- A named object the snapshot lacks is NotFound, in the API server's words (`secrets "db" not found`).
- A command whose reads the watcher answers (tables aside) never connects to the API server: kinds resolve from
  the discovery cache (`HookClient`), and the connection (TLS, credentials, an exec plugin) and the modules it
  needs are made only when a read must go to the API server after all.
- Tables: the server renders table columns, and only for objects as it holds them now. So a table is asked of the
  server as usual, and printed as it comes when every row is the snapshot's object at the snapshot's
  resourceVersion (the same objects, the same versions). Otherwise it shows the server's newer state: it is printed
  so, with one warning line saying that the table is newer than the hook's snapshot (-o json, yaml, name, jsonpath
  and custom-columns show the snapshot).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from ..core import coherence, deepjson
from ..errors import NotFound, UsageError
from .warning import warn

if TYPE_CHECKING:
    from ..core.client import Client
    from ..core.config import ConnectionSettings
    from ..core.mapping import ResourceRef
    from ..core.selection import Selection
    from .state import State

LIVE_ENV = "KATES_LIVE_READS"
KubeObject = dict[str, Any]


def live_reads(environ: Any = os.environ) -> bool:
    """Whether KATES_LIVE_READS asks every read of this process to go to the API server."""
    return environ.get(LIVE_ENV, "") not in ("", "0")


def hook_client(state: State, live: bool) -> Client | None:
    """A `HookClient` (typed as the Client it stands for) when the watcher answers this command's reads, else None."""
    if not os.environ.get(coherence.ENV_VAR) or live or live_reads() or state._client is not None:
        return None
    return cast("Client", HookClient(state))


class _Endpoint:
    """What `Discovery` needs of a transport before any request: the server's address (its cache's key, computed as
    `Transport` computes it). A request builds the real client's transport."""

    def __init__(self, settings: ConnectionSettings, client: HookClient) -> None:
        url = urlsplit(settings.server)
        self.scheme = url.scheme
        self.host = url.hostname or ""
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.prefix = url.path.rstrip("/")
        self._client = client

    def request_json(self, *args: Any, **kwargs: Any) -> Any:
        return self._client.real().transport.request_json(*args, **kwargs)


class HookClient:
    """The client of a command inside a hook whose reads the watcher answers: the settings, the namespace and the
    kinds (from the discovery cache, as `Client` resolves them) without a connection; anything else is the real
    `Client`'s, built on first use (and kept in the State, which closes it)."""

    def __init__(self, state: State) -> None:
        from ..core import config
        from ..core.mapping import Discovery

        self.state = state
        self.settings = config.load(state.kubeconfig, state.context, state.namespace)
        self.namespace = self.settings.namespace
        self.discovery = Discovery(_Endpoint(self.settings, self))  # type: ignore[arg-type]

    def real(self) -> Client:
        if self.state._client is None:
            from ..core.client import Client

            self.state._client = Client(settings=self.settings, request_timeout=self.state.request_timeout)
        return self.state._client

    def resolve(self, kind: str | ResourceRef) -> ResourceRef:
        return kind if not isinstance(kind, str) else self.discovery.resolve(kind)

    def resolve_many(self, kind: str) -> list[ResourceRef]:
        return self.discovery.resolve_many(kind)

    def ref_for(self, obj: KubeObject) -> ResourceRef:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not api_version or not kind:
            raise UsageError("object has no apiVersion or kind")
        return self.discovery.by_kind(str(api_version), str(kind))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


class HookReads:
    """One command's reads inside a hook: asked of the watcher, else of the API server (the module's rules)."""

    def __init__(self, client: Client, path: str | None) -> None:
        self.client = client
        self.path = path
        self._cluster: str | None = None
        self._said = False

    @classmethod
    def of(cls, client: Client, live: bool) -> HookReads | None:
        """The watcher's reads for this command, or None (not in a hook, --live, KATES_LIVE_READS)."""
        path = os.environ.get(coherence.ENV_VAR)
        if not path or live or live_reads():
            return None
        return cls(client, path)

    def ask(self, sel: Selection) -> list[KubeObject] | None:
        """The objects the hook run sees for `sel`, or None when the API server must answer."""
        if self.path is None:
            return None
        if self._cluster is None:
            self._cluster = coherence.cluster_id(self.client.settings)
        try:
            raws = coherence.read(self.path, self._cluster, sel)
        except coherence.NotServed as exc:
            if not exc.quiet and not self._said:
                self._said = True
                warn(f"the hook's watcher did not answer this read ({exc.why}): read from the API server instead")
            return None
        return [deepjson.loads(raw) for raw in raws]

    def selection(self, ref: ResourceRef, name: str | None = None, **opts: Any) -> Selection:
        from ..core.selection import Selection  # inside a hook only: a plain `kates get` never needs it

        namespace = None if opts.get("all_namespaces") or not ref.namespaced else self.client.namespace
        return Selection(
            ref.group,
            ref.resource,
            namespace,
            name,
            opts.get("label_selector") or None,
            opts.get("field_selector") or None,
        )

    def get(self, ref: ResourceRef, name: str) -> KubeObject:
        """One object by name as the hook run sees it (NotFound if it lacks it), else the API server's."""
        found = self.ask(self.selection(ref, name))
        if found is None:
            return self.client.get(ref, name)
        if not found:
            raise not_found(ref, name)
        return _described(ref, found[0])

    def list_pages(self, ref: ResourceRef, **opts: Any) -> Iterator[KubeObject]:
        """A list as the hook run sees it (one page), else the API server's pages."""
        found = self.ask(self.selection(ref, **opts))
        if found is None:
            yield from self.client.list_pages(ref, **opts)
            return
        yield {"items": [_described(ref, obj) for obj in found]}

    def tables(
        self, ref: ResourceRef, names: list[str], opts: dict[str, Any], fetch: Any
    ) -> tuple[list[KubeObject], list[NotFound]] | None:
        """The server's table pages for what the run sees (`fetch()` gets them), and the NotFound errors of names
        the run lacks; None when the watcher does not answer (the caller reads the API server as before). Warns
        once when the server's rows are not exactly the snapshot's objects at their versions."""
        missing: list[NotFound] = []
        if names:
            seen: list[KubeObject] = []
            for name in names:
                found = self.ask(self.selection(ref, name))
                if found is None:
                    return None
                if found:
                    seen.append(found[0])
                else:
                    missing.append(not_found(ref, name))
            present = [n for n in names if any(_key(o)[1] == n for o in seen)]
        else:
            listed = self.ask(self.selection(ref, **opts))
            if listed is None:
                return None
            seen, present = listed, []
        pages = fetch(present) if (present or not names) else []
        rows = [row.get("object") or {} for page in pages for row in page.get("rows") or []]
        shown = {_key(obj): _rv(obj) for obj in rows}
        if shown != {_key(o): _rv(o) for o in seen}:
            warn(
                f"this table of {ref.resource} shows the API server's newer state, not the hook's snapshot (the server "
                "renders table columns only for objects as it holds them now; -o json, yaml, name, jsonpath and "
                "custom-columns show the snapshot)"
            )
        return pages, missing


def not_found(ref: ResourceRef, name: str) -> NotFound:
    """The API server's NotFound for a named object, in its words."""
    status = {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}
    status["message"] = f'{ref.group_resource} "{name}" not found'
    status["details"] = {"name": name, "group": ref.group, "kind": ref.resource}
    return NotFound(str(status["message"]), code=404, reason="NotFound", status=status)


def _described(ref: ResourceRef, obj: KubeObject) -> KubeObject:
    obj.setdefault("apiVersion", ref.api_version)
    obj.setdefault("kind", ref.kind)
    return obj


def _key(obj: KubeObject) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _rv(obj: KubeObject) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")
