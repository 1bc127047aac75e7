"""`kates get -f FILE|DIR|-`: the objects that manifests name, fetched from the server as kubectl's `get -f` does.

Invariants:
- Every manifest is read, checked and resolved before anything is fetched; a URL is refused (kates fetches nothing
  from the network but the API server), as is an object without a name or in a namespace other than an explicit -n.
- Objects keep the order of the manifests; consecutive objects of one kind form one target (one table), so
  `cm, svc, cm` prints three tables, as kubectl's printer starts a new one when the kind changes.
- Each object is fetched from its own namespace (its manifest's, else -n or the context's), through `PerObjectClient`.
- As kubectl's, only one file (`manifests.one_file`: a file, or a directory holding one manifest file) implies a
  single item: its one object prints bare in -o json/yaml; stdin, several files or several objects print a List.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from ..core.client import Client, KubeObject
from ..errors import ResourceTypeNotFound, UsageError
from .manifests import load, namespace_of

if TYPE_CHECKING:
    from ..core.mapping import ResourceRef
    from .state import State

ObjectKey = tuple["ResourceRef", str]


def refuse_urls(paths: list[str]) -> None:
    for path in paths:
        if path.startswith(("http://", "https://")):
            raise UsageError(
                f'cannot read "{path}": kates does not fetch manifests from URLs',
                hint=f"download it first: curl -fsSL {path} | kates get -f -",
            )


class PerObjectClient(Client):
    """The client as get's printers see it for -f: they fetch (kind, name) pairs with one namespace for all, so this
    view supplies each object's own namespace (in manifest order when one kind and name recur in several)."""

    def __init__(self, client: Client, namespaces: dict[ObjectKey, list[str | None]]):
        self.__dict__.update(client.__dict__)  # the same connection, discovery and write listeners
        self._object_namespaces = {key: deque(values) for key, values in namespaces.items()}
        shared = {ns for values in namespaces.values() for ns in values if ns}
        if len(shared) == 1:  # what a watch or a list of these kinds would use
            self.namespace = shared.pop()

    def _namespace_of(self, ref: ResourceRef, name: str) -> str | None:
        queue = self._object_namespaces.get((ref, name))
        if not queue:
            return None
        ns = queue[0]
        queue.rotate(-1)
        return ns

    def get(
        self, kind: str | ResourceRef, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> KubeObject:
        ref = self.resolve(kind)
        return super().get(ref, name, namespace or self._namespace_of(ref, name), subresource)

    def get_table(
        self, kind: str | ResourceRef, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> KubeObject:
        ref = self.resolve(kind)
        return super().get_table(ref, name, namespace or self._namespace_of(ref, name), subresource)


def manifest_targets(
    state: State, paths: list[str], recursive: bool
) -> tuple[Client, list[tuple[ResourceRef, list[str]]]]:
    """Read the manifests in `paths` and return the client view and the (kind, names) targets for get's printers."""
    refuse_urls(paths)
    manifests = load(paths, recursive)
    client = state.client()
    targets: list[tuple[ResourceRef, list[str]]] = []
    namespaces: dict[ObjectKey, list[str | None]] = {}
    for m in manifests:
        try:
            ref = client.ref_for(m.obj)
        except ResourceTypeNotFound as exc:
            raise UsageError(f"{m.where}: {exc.message}", hint="is the CRD installed?") from exc
        meta = m.obj.get("metadata") or {}
        name = meta.get("name")
        if not name:
            raise UsageError(f"{m.where}: resource name may not be empty")
        ns = namespace_of(state, client, ref, m)
        if targets and targets[-1][0] == ref:
            targets[-1][1].append(str(name))
        else:
            targets.append((ref, [str(name)]))
        namespaces.setdefault((ref, str(name)), []).append(ns)
    return PerObjectClient(client, namespaces), targets
