"""`kates version` and `kates api-resources`, printed as kubectl 1.37 prints them.

The selection, order and documents of `api-resources` are pure functions of the discovered refs, unit-tested over a
recorded discovery document; the command only wires them to discovery and stdout.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

from .. import __version__
from ..errors import KatesError, UsageError
from . import completion
from .render import PlainTable
from .state import State

if TYPE_CHECKING:
    from ..core.mapping import ResourceRef


def register(app: typer.Typer) -> None:
    app.command("version")(version)
    app.command("api-resources")(api_resources)


_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "386", "i686": "386"}


def client_version() -> dict[str, str]:
    """kates's part of `version -o json|yaml`: kubectl's clientVersion keys that kates can fill honestly (its
    version and platform); the Go build fields (gitCommit, buildDate, goVersion, compiler) have no kates meaning."""
    major, minor = [*__version__.split("."), "", ""][:2]
    machine = platform.machine().lower()
    os_name = {"win32": "windows"}.get(sys.platform, sys.platform)
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"v{__version__}",
        "platform": f"{os_name}/{_ARCH.get(machine, machine)}",
    }


def version(
    ctx: typer.Context,
    client_only: bool = typer.Option(False, "--client", help="Show the client version only; contact no server."),
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="json or yaml: clientVersion and the server's serverVersion, as kubectl's.",
        autocompletion=completion.formats("json", "yaml"),
    ),
) -> None:
    """Print the client and server versions.

    With -o json|yaml, clientVersion holds kates's version (major, minor, gitVersion, platform) and serverVersion the
    server's /version as is; kubectl's kustomizeVersion is left out (kates has no kustomize)."""
    state: State = ctx.obj
    if output not in (None, "", "json", "yaml"):
        raise UsageError("--output must be 'yaml' or 'json'")
    out = state.env.stdout
    doc: dict[str, Any] = {"clientVersion": client_version()}
    server_error: KatesError | None = None
    if not client_only:
        try:
            doc["serverVersion"] = state.client().server_version()
        except KatesError as exc:  # kubectl prints the client part, then the error
            server_error = exc
    if output == "json":
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    elif output == "yaml":
        from .render import to_yaml

        out.write(to_yaml(doc) + "\n")
    else:
        out.write(f"Client Version: v{__version__}\n")
        if "serverVersion" in doc:
            out.write(f"Server Version: {doc['serverVersion'].get('gitVersion', 'unknown')}\n")
    if server_error is not None:
        raise server_error


# -- api-resources ---------------------------------------------------------------------------------------------


def preferred(refs: list[ResourceRef]) -> list[ResourceRef]:
    """One ref per (group, resource), the first listed (the group's preferred version), in discovery order; resources
    without verbs are left out, as kubectl leaves them out."""
    seen: set[tuple[str, str]] = set()
    out = []
    for ref in refs:
        key = (ref.group, ref.resource)
        if key not in seen and ref.verbs:
            seen.add(key)
            out.append(ref)
    return out


def select(
    refs: list[ResourceRef],
    *,
    namespaced: bool | None = None,
    api_group: str | None = None,
    verbs: Sequence[str] = (),
    categories: Sequence[str] = (),
) -> list[ResourceRef]:
    """kubectl's filters: every one given must hold; a resource must have all `verbs` and all `categories`."""
    return [
        r
        for r in refs
        if (namespaced is None or r.namespaced == namespaced)
        and (api_group is None or r.group == api_group)
        and set(verbs) <= set(r.verbs)
        and set(categories) <= set(r.categories)
    ]


def sort_resources(refs: list[ResourceRef], by: str | None) -> list[ResourceRef]:
    """kubectl's stable order: by group (default), name or kind, then by name."""
    if by not in (None, "", "name", "kind"):
        raise UsageError("--sort-by accepts only name or kind")

    def key(r: ResourceRef) -> tuple[str, str]:
        first = r.resource if by == "name" else r.kind if by == "kind" else r.group
        return (first, r.resource)

    return sorted(refs, key=key)


def resource_list(refs: list[ResourceRef]) -> dict[str, Any]:
    """The APIResourceList kubectl prints for -o json|yaml (Go's field order; empty shortNames and categories left
    out, and `resources` null when nothing is selected)."""
    resources: list[dict[str, Any]] = []
    for r in refs:
        item: dict[str, Any] = {
            "name": r.resource,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "group": r.group or None,
            "version": r.version,
            "kind": r.kind,
            "verbs": list(r.verbs),
            "shortNames": list(r.short_names) or None,
            "categories": list(r.categories) or None,
        }
        resources.append({k: v for k, v in item.items() if v is not None})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "", "resources": resources or None}


def table_rows(refs: list[ResourceRef], wide: bool, no_headers: bool) -> list[list[str]]:
    headers = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    if wide:
        headers += ["VERBS", "CATEGORIES"]
    rows = [] if no_headers else [headers]
    for r in refs:
        row = [r.resource, ",".join(r.short_names), r.api_version, "true" if r.namespaced else "false", r.kind]
        if wide:
            row += [",".join(r.verbs), ",".join(r.categories)]
        rows.append(row)
    return rows


def _bool_flag(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("true", "t", "1"):
        return True
    if value.lower() in ("false", "f", "0"):
        return False
    raise UsageError(f'invalid {name} value "{value}"', hint="use true or false")


def _list_flag(values: list[str] | None) -> list[str]:
    """kubectl's string slices: repeatable, and comma-separated within one value."""
    return [v for value in values or [] for v in value.split(",") if v]


def api_resources(
    ctx: typer.Context,
    namespaced: str | None = typer.Option(
        None, "--namespaced", help="true: namespaced kinds only; false: cluster-scoped only."
    ),
    api_group: str | None = typer.Option(None, "--api-group", help="Only kinds of this API group ('' for core)."),
    verbs: list[str] = typer.Option(None, "--verbs", help="Only kinds that support all these verbs (list,watch)."),
    categories: list[str] = typer.Option(None, "--categories", help="Only kinds in all these categories (all)."),
    sort_by: str | None = typer.Option(None, "--sort-by", help="name or kind (default: API group, then name)."),
    cached: bool = typer.Option(False, "--cached", help="Use the cached discovery if it is fresh enough."),
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="wide, name, json, yaml or kyaml.",
        autocompletion=completion.formats("wide", "name", "json", "yaml", "kyaml"),
    ),
    no_headers: bool = typer.Option(False, "--no-headers", help="Print no header line."),
) -> None:
    """List the resource types the server knows, as kubectl api-resources does."""
    state: State = ctx.obj
    if output not in (None, "", "wide", "name", "json", "yaml", "kyaml"):
        raise UsageError(
            f'unable to match a printer suitable for the output format "{output}"',
            hint="allowed formats are: json, name, wide, yaml, kyaml",
        )
    sort_resources([], sort_by)  # a bad --sort-by fails before the server is asked
    only_namespaced = _bool_flag("--namespaced", namespaced)
    discovery = state.client().discovery
    refs = preferred(discovery.refs() if cached else discovery.refresh())
    refs = select(
        refs,
        namespaced=only_namespaced,
        api_group=api_group,
        verbs=_list_flag(verbs),
        categories=_list_flag(categories),
    )
    refs = sort_resources(refs, sort_by)
    out = state.env.stdout
    if output == "name":
        out.write("".join(f"{r.group_resource}\n" for r in refs))
    elif output == "json":
        out.write(json.dumps(resource_list(refs), indent=4, ensure_ascii=False) + "\n")
    elif output == "yaml":
        from .render import to_yaml

        out.write(to_yaml(resource_list(refs)))
    elif output == "kyaml":  # a Go struct: kyaml keeps its field order, as the JSON above does
        from .kyamlout import dump, ordered

        out.write(dump(ordered(resource_list(refs))))
    else:
        out.write(PlainTable().format(table_rows(refs, output == "wide", no_headers)))
