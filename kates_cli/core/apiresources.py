"""The server's resource types as client-go's discovery lists them (`ServerResources`,
`ServerPreferredResources`), flattened as Go kates flattens them: pure functions of the two aggregated discovery
documents (from /api and /apis), so they are unit-tested over a recorded pair.

Invariants:
- Each resource is one plain dict shaped as a `metav1.APIResource` in JSON: `name`, `singularName`, `namespaced`,
  `group`, `version`, `kind`, `verbs` always; `shortNames` and `categories` when not empty. `group` and `version`
  are always filled (Go kates fills them from the list's group/version when discovery leaves them empty), `group`
  is "" for the core group.
- A subresource is its own entry named `parent/sub` (`deployments/scale`), its group, version and kind those of
  what it returns (`autoscaling`, `v1`, `Scale`), as client-go converts aggregated discovery; it inherits the
  parent's singular name and scope.
- Order is discovery's: the core group first, then groups in the server's priority order, each group's versions
  in preference order, resources as listed. Versions the server marks `Stale` (an aggregated API that did not
  answer) are left out, where client-go returns what it has together with an error.
- The preferred list has no subresources and one entry per group and resource: from the group's preferred (first)
  version when it serves the resource, else from the first version that does (client-go's rule).
"""

from __future__ import annotations

from typing import Any

__all__ = ["server_preferred_resources", "server_resources"]

APIResource = dict[str, Any]


def _versions(core: dict[str, Any], groups: dict[str, Any]) -> list[tuple[str, int, str, list[dict[str, Any]]]]:
    """(group, version index within the group, version, resources) for every current version, in discovery order."""
    out = []
    for doc in (core, groups):
        for item in doc.get("items") or ():
            group = str((item.get("metadata") or {}).get("name") or "")
            for i, ver in enumerate(item.get("versions") or ()):
                if ver.get("freshness", "Current") != "Current":
                    continue
                out.append((group, i, str(ver.get("version") or ""), list(ver.get("resources") or ())))
    return out


def _entry(name: str, singular: str, namespaced: bool, group: str, version: str, res: dict[str, Any]) -> APIResource:
    kind = res.get("responseKind") or {}
    entry: APIResource = {
        "name": name,
        "singularName": singular,
        "namespaced": namespaced,
        "group": kind.get("group") or group,
        "version": kind.get("version") or version,
        "kind": str(kind.get("kind") or ""),
        "verbs": list(res.get("verbs") or ()),
    }
    for key in ("shortNames", "categories"):
        if res.get(key):
            entry[key] = list(res[key])
    return entry


def _resource(group: str, version: str, res: dict[str, Any]) -> APIResource:
    name = str(res.get("resource") or "")
    return _entry(name, str(res.get("singularResource") or ""), res.get("scope") == "Namespaced", group, version, res)


def server_resources(core: dict[str, Any], groups: dict[str, Any]) -> list[APIResource]:
    """Every resource of every served version, subresources included (client-go's `ServerGroupsAndResources`,
    flattened as Go kates's `ServerResources`)."""
    out: list[APIResource] = []
    for group, _, version, resources in _versions(core, groups):
        for res in resources:
            parent = _resource(group, version, res)
            out.append(parent)
            for sub in res.get("subresources") or ():
                entry = _entry(
                    f"{parent['name']}/{sub.get('subresource', '')}",
                    parent["singularName"],
                    parent["namespaced"],
                    group,
                    version,
                    {"responseKind": sub.get("responseKind"), "verbs": sub.get("verbs")},
                )
                out.append(entry)
    return out


def server_preferred_resources(core: dict[str, Any], groups: dict[str, Any]) -> list[APIResource]:
    """One entry per group and resource, in its preferred version, no subresources (client-go's
    `ServerPreferredResources`, flattened as Go kates's). Discovery lists a group's versions in preference order,
    so the first version serving a resource is the one client-go picks: the preferred one, else the next."""
    seen: set[tuple[str, str]] = set()
    out: list[APIResource] = []
    for group, _, version, resources in _versions(core, groups):
        for res in resources:
            key = (group, str(res.get("resource") or ""))
            if key not in seen:
                seen.add(key)
                out.append(_resource(group, version, res))
    return out
