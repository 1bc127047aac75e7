"""Helpers on plain object dicts, as Go kates has them in manifests.go: `merge_update`, `set_owner_references`,
`has_owner_reference` and `by_name`. Pure functions: no client, no network.

Invariants:
- `merge_update(target, source)` changes `target` in place and never touches its identity or version
  (apiVersion, kind, name, namespace, uid, resourceVersion) nor its `status`: what it produces can be sent as an
  update of the object `target` was read as. `source` is never changed and shares nothing with `target` afterwards
  (copied values), so later edits of one never show in the other.
- Labels and annotations are the union of both, the source winning a key both have; owner references are the
  source's (none if it has none); the content (spec, and every other top-level field but apiVersion, kind,
  metadata and status) is the source's, a content field the source lacks is removed.
- An owner reference is matched by uid alone (Go's `HasOwnerReference`); `set_owner_references` never adds a
  second reference to the same owner, so it can be called on every reconcile.
- `by_name` keys by `metadata.name` alone: of several objects with one name (in different namespaces), the last
  wins, as Go's `ByName` did.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from ..errors import UsageError

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["by_name", "has_owner_reference", "merge_update", "set_owner_references"]

KubeObject = dict[str, "Any"]

# Top-level fields that are not an object's content: merge_update leaves the target's.
_NOT_CONTENT = frozenset(("apiVersion", "kind", "metadata", "status"))


def _meta(obj: KubeObject) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    return meta


def _merged(target: Any, source: Any) -> dict[str, Any]:
    out = dict(target) if isinstance(target, dict) else {}
    out.update(source if isinstance(source, dict) else {})
    return out


def merge_update(target: KubeObject, source: KubeObject) -> KubeObject:
    """Merge the desired state `source` into `target` (typically the object as stored) in place; returns `target`.

    As Go's `MergeUpdate`: labels and annotations are merged (the source wins a key both have), owner references
    are replaced by the source's, and `spec` is replaced by the source's (removed if the source has none). The
    target's identity, resourceVersion and status are kept, so the result is ready for `Client.update`.

    Kates differs from Go in two ways, on purpose. Every top-level content field is treated as Go treats `spec`
    (replaced by the source's, removed if the source lacks it), not `spec` alone: Go's version silently keeps the
    old `data` of a ConfigMap or Secret, the old `rules` of a Role, and so makes `upsert` of such a kind change
    nothing but metadata. And an empty label or annotation map leaves no key, where Go writes `{}` (the server
    stores the two alike).
    """
    meta, src_meta = _meta(target), source.get("metadata") or {}
    for key in ("labels", "annotations"):
        merged = _merged(meta.get(key), src_meta.get(key))
        if merged:
            meta[key] = copy.deepcopy(merged)
        else:
            meta.pop(key, None)
    owners = src_meta.get("ownerReferences")
    if owners:
        meta["ownerReferences"] = copy.deepcopy(owners)
    else:
        meta.pop("ownerReferences", None)
    for key in [k for k in target if k not in _NOT_CONTENT and k not in source]:
        del target[key]
    for key, value in source.items():
        if key not in _NOT_CONTENT:
            target[key] = copy.deepcopy(value)
    return target


def has_owner_reference(owner: KubeObject, obj: KubeObject) -> bool:
    """Whether `obj` lists `owner` (matched by its uid, as Go's `HasOwnerReference`) among its owner references.
    False when the owner has no uid (an object never read from the server owns nothing)."""
    uid = (owner.get("metadata") or {}).get("uid")
    if not uid:
        return False
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return any(isinstance(r, dict) and r.get("uid") == uid for r in refs)


def owner_reference(owner: KubeObject, *, controller: bool = True, block_owner_deletion: bool = True) -> KubeObject:
    """The owner reference naming `owner` (Go's `metav1.NewControllerRef`: controller and blockOwnerDeletion set).
    UsageError when the owner lacks apiVersion, kind, name or uid (read it from the server first)."""
    meta = owner.get("metadata") or {}
    ref = {
        "apiVersion": owner.get("apiVersion"),
        "kind": owner.get("kind"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
    }
    missing = [k for k, v in ref.items() if not v]
    if missing:
        raise UsageError(
            f"cannot reference an owner without {', '.join(missing)}",
            hint="use the object as the server returned it (create, get or list), which has all four",
        )
    out: KubeObject = dict(ref)
    out["controller"] = controller
    out["blockOwnerDeletion"] = block_owner_deletion
    return out


def set_owner_references(
    owner: KubeObject, *objs: KubeObject, controller: bool = True, block_owner_deletion: bool = True
) -> None:
    """Add an owner reference to `owner` to each of `objs` that does not have one yet (in place), as Go's
    `SetOwnerReferences`: a controller reference with blockOwnerDeletion, appended after the existing ones.

    Differs from Go: an owner without apiVersion, kind, name or uid raises UsageError, where Go adds a reference the
    server then rejects (`uid must not be empty`); and `controller=False` adds a plain owner reference, for an
    object that already has a controller (the server allows only one)."""
    ref = owner_reference(owner, controller=controller, block_owner_deletion=block_owner_deletion)
    for obj in objs:
        if not has_owner_reference(owner, obj):
            meta = _meta(obj)
            meta["ownerReferences"] = [*(meta.get("ownerReferences") or ()), dict(ref)]


def by_name(objs: Iterable[KubeObject]) -> dict[str, KubeObject]:
    """The objects keyed by `metadata.name`, in their order (Go's `ByName`). Names are unique only within a
    namespace: of several objects with one name, the last wins."""
    return {str((obj.get("metadata") or {}).get("name") or ""): obj for obj in objs}
