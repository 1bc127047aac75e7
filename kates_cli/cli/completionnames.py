"""The object names that shell completion offers (`kates get cm <TAB>`), fast on big namespaces.

kubectl completes names by listing the whole objects (`kubectl get -o template`, 500 at a time): seconds on a
namespace of thousands. kates asks for a Table without objects (`includeObject=None`) from the API server's watch
cache (`resourceVersion=0`): one request whose rows hold little more than the names (about 45 bytes a row for
ConfigMaps, against about 1,200 for the objects), and keeps the names a few seconds on disk, since a shell asks again
at every TAB.

Invariants:
- The names are every object's of the kind in the namespace (all of them: no page limit), as the watch cache holds
  them: possibly a moment old, which completion tolerates. Given several namespaces (a `get -n a,b`, which looks a
  name up in each), the names of all of them, once each, sorted.
- Completion asks the cluster the command line names as `main` would: its client is made from the global options'
  values by state.from_options (`-n a,b -n c`, $KATES_CONTEXT and $KATES_NAMESPACE included), with the namespace
  that command uses, the last one given (`client_for`).
- The cache is a file per (kubeconfig files, context, server, namespace, resource) under the kates cache directory
  (`$KATES_CACHE_DIR`, else `$XDG_CACHE_HOME/kates`, else `~/.cache/kates`), in `completion/`, readable by its owner
  only (object names can be telling). A file older than TTL_SECONDS (5 s; `$KATES_COMPLETION_TTL` seconds when set,
  0 turning the cache off) is never used; it is replaced by the next lookup. A cache that cannot be read or written
  only costs time.
- An object created a moment ago may be missing from cached names: a word that matches none of them is looked up
  again on the server (cli/completion.py), so only a word matching older names can miss it, for at most the TTL.
- A server that answers the Table request with a plain list (an aggregated API without Table support) still
  gives its names (from the items' metadata).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ..core.client import Client
    from ..core.mapping import ResourceRef

COMPLETION_TIMEOUT = 2.0  # seconds for one lookup's request: completion never blocks for long
TTL_SECONDS = 5.0
TTL_ENV = "KATES_COMPLETION_TTL"  # seconds; 0 turns the cache off
NAMES_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def ttl_seconds(environ: Any = os.environ) -> float:
    """How long cached names are used: $KATES_COMPLETION_TTL seconds (0: never), else TTL_SECONDS."""
    try:
        return max(0.0, float(environ.get(TTL_ENV, TTL_SECONDS)))
    except ValueError:
        return TTL_SECONDS


def client_for(
    kubeconfig: str | None, context: str | None, namespace: Sequence[str] | None
) -> tuple[Client, list[str]]:
    """The client completion asks, for the root command's --kubeconfig, --context and -n values (each -n value a
    comma-separated list), as state.from_options reads them; and the namespaces a `get` of names reads when -n named
    any (sorted, once each; empty otherwise: the client's namespace)."""
    from ..core import server_warnings
    from ..core.client import Client
    from .state import from_options

    # the one way completion reaches a server, and so a warning (an ambiguous short name): nothing over the prompt
    server_warnings.set_handler(lambda code, agent, text: None)
    state = from_options(kubeconfig, context, list(namespace or ()))
    client = Client(state.kubeconfig, state.context, state.namespace, COMPLETION_TIMEOUT)
    return client, sorted(set(state.namespaces)) if state.namespace_explicit else []


def matching(client: Client, kind: str, incomplete: str, namespaces: Sequence[str] = ()) -> list[str]:
    """The names of `kind` objects that start with `incomplete`, as completion offers them (cli/completion.py's
    `object_names` and the fast path, cli/fastcomplete.py): from the cache, and when none matches a non-empty word,
    from the server (the object may be newer than the cache). In each of `namespaces` when given (a namespaced kind),
    else in the client's namespace."""
    ref = client.resolve(kind)
    where: list[str | None] = list(dict.fromkeys(namespaces)) if ref.namespaced and namespaces else [None]

    def found(ttl: float | None) -> list[str]:
        every = [n for ns in where for n in names(client, ref, ttl=ttl, namespace=ns) if n.startswith(incomplete)]
        return sorted(set(every)) if len(where) > 1 else every

    offered = found(None)
    if not offered and incomplete:  # perhaps created since the names were cached: ask the server
        offered = found(0)
    return offered


def names(
    client: Client,
    ref: ResourceRef,
    *,
    ttl: float | None = None,
    cache_dir: Path | None = None,
    namespace: str | None = None,
) -> list[str]:
    """The names of every `ref` object in `namespace` (default: the client's; cluster-wide for a kind that is not
    namespaced), sorted; from the cache when it is younger than `ttl` seconds (default `ttl_seconds()`; 0: always
    from the server)."""
    ttl = ttl_seconds() if ttl is None else ttl
    namespace = (namespace or client.namespace) if ref.namespaced else None
    path = cache_file(client, ref, namespace, cache_dir)
    cached = _read(path, ttl) if path is not None else None
    if cached is not None:
        return cached
    found = sorted(listed(client, ref, namespace))
    if path is not None:
        _write(path, found)
    return found


def listed(client: Client, ref: ResourceRef, namespace: str | None) -> list[str]:
    """The names, from one Table request without objects, served from the watch cache."""
    import orjson

    body = client.transport.request(
        "GET", ref.path(namespace), params={"resourceVersion": "0", "includeObject": "None"}, accept=NAMES_ACCEPT
    )
    doc: dict[str, Any] = orjson.loads(body)
    if "rows" not in doc:  # a plain list: the server has no Table for this kind
        return [str((item.get("metadata") or {}).get("name", "")) for item in doc.get("items") or []]
    columns = doc.get("columnDefinitions") or []
    at = next((i for i, col in enumerate(columns) if col.get("format") == "name"), 0)
    return [str(row["cells"][at]) for row in doc.get("rows") or [] if len(row.get("cells") or ()) > at]


def cache_file(client: Client, ref: ResourceRef, namespace: str | None, cache_dir: Path | None = None) -> Path | None:
    """Where the names of `ref` in `namespace` are kept, for this client's cluster and credentials' context; None
    where there is no cache directory (no home directory)."""
    from ..core.mapping import _default_cache_dir

    root = cache_dir or _default_cache_dir()
    if root is None:
        return None
    settings = client.settings
    key = "\0".join(
        (*settings.kubeconfig_paths, settings.context, settings.server, namespace or "", ref.group_resource)
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return Path(root) / "completion" / f"{ref.group_resource}_{digest}.txt"


def _read(path: Path, ttl: float) -> list[str] | None:
    try:
        if ttl <= 0 or time.time() - path.stat().st_mtime > ttl:
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    return text.split("\n")[:-1] if text else []


def _write(path: Path, found: list[str]) -> None:
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".names.")  # 0600
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(f"{name}\n" for name in found))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs time
