"""`kates create`, `update`, `update-status` and `patch`: every -f document parsed and checked before anything is
sent; one line per object as kubectl prints it; a server rejection of one object does not stop the others."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from ..errors import ApiError, Conflict, PartialFailure, ResourceTypeNotFound, UsageError
from . import completion, render
from .manifests import Manifest, load
from .state import State

if TYPE_CHECKING:
    from ..core.client import Client
    from ..core.mapping import ResourceRef

Action = Callable[["ResourceRef", dict[str, Any]], dict[str, Any]]
CONFLICT_RETRIES = 5


def register(app: typer.Typer) -> None:
    app.command("create")(create)
    app.command("update")(update)
    app.command("update-status")(update_status)
    app.command("patch")(patch)


FILES = typer.Option(
    None,
    "--filename",
    "-f",
    help="File, directory or - for stdin; repeatable.",
    click_type=completion.MANIFEST_FILES,
)
RECURSIVE = typer.Option(False, "--recursive", "-R", help="Read directories recursively.")
OUTPUT = typer.Option(
    None,
    "--output",
    "-o",
    help="json, yaml or name: print the server's returned objects.",
    autocompletion=completion.formats("json", "yaml", "name"),
)
DRY_RUN = typer.Option("none", "--dry-run", help="server: let the server check the change without persisting it.")
FIELD_MANAGER = typer.Option("kates", "--field-manager", help="The field manager name recorded by the server.")
RETRY = typer.Option(False, "--retry-on-conflict", help=f"On 409, re-read and re-apply (up to {CONFLICT_RETRIES}x).")


def _dry_run(value: str) -> bool:
    if value not in ("none", "server"):
        raise UsageError(
            f'invalid --dry-run value "{value}"', hint="use server or none (client dry runs are not offered)"
        )
    return value == "server"


def _check_output(output: str | None) -> None:
    if output not in (None, "json", "yaml", "name"):
        raise UsageError(
            f'unable to match a printer suitable for the output format "{output}"',
            hint="allowed formats are: json, yaml, name",
        )


def _namespace(state: State, client: Client, ref: ResourceRef, m: Manifest) -> str | None:
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


def run_each(
    state: State, manifests: list[Manifest], action: Action, past: str, output: str | None, dry_run: bool
) -> None:
    """Resolve every manifest's kind first (nothing sent on failure), then act on each and report."""
    client = state.client()
    plan: list[tuple[Manifest, ResourceRef, dict[str, Any]]] = []
    for m in manifests:
        try:
            ref = client.ref_for(m.obj)
        except ResourceTypeNotFound as exc:
            raise UsageError(f"{m.where}: {exc.message}", hint="is the CRD installed?") from exc
        obj = copy.deepcopy(m.obj)
        ns = _namespace(state, client, ref, m)
        if ns:
            obj.setdefault("metadata", {})["namespace"] = ns
        plan.append((m, ref, obj))
    out, err = state.env.stdout, state.env.stderr
    results: list[dict[str, Any]] = []
    failures: list[ApiError] = []
    for m, ref, obj in plan:
        try:
            result = action(ref, obj)
        except ApiError as exc:
            failures.append(exc)
            err.write(f"error: {m.where}: {exc.message}\n")
            continue
        results.append(result)
        name = (result.get("metadata") or {}).get("name") or (obj.get("metadata") or {}).get("name")
        if output is None:
            out.write(f"{ref.kind_group}/{name} {past}{' (server dry run)' if dry_run else ''}\n")
        elif output == "name":
            out.write(f"{ref.kind_group}/{name}\n")
        out.flush()
    if output in ("json", "yaml") and results:
        doc = results[0] if len(results) == 1 and len(plan) == 1 else render.as_list(results)
        out.write(render.to_json(doc) if output == "json" else render.to_yaml(doc))
    if failures:
        raise PartialFailure(f"{len(failures)} of {len(plan)} objects failed", {f.exit_code for f in failures})


def _start(
    ctx: typer.Context, filenames: list[str] | None, recursive: bool, output: str | None, dry_run: str
) -> tuple[State, list[Manifest], Client, bool]:
    """What every -f command does first: check the flags, read and check every manifest, then connect."""
    state: State = ctx.obj
    server_dry_run = _dry_run(dry_run)
    _check_output(output)
    manifests = load(filenames or [], recursive)
    return state, manifests, state.client(), server_dry_run


def create(
    ctx: typer.Context,
    filenames: list[str] = FILES,
    recursive: bool = RECURSIVE,
    output: str | None = OUTPUT,
    dry_run: str = DRY_RUN,
    field_manager: str = FIELD_MANAGER,
) -> None:
    """Create objects from files or stdin (any kind, CRDs included). Every document is checked before any is sent."""
    state, manifests, client, server_dry_run = _start(ctx, filenames, recursive, output, dry_run)

    def action(ref: ResourceRef, obj: dict[str, Any]) -> dict[str, Any]:
        return client.create(obj, dry_run=server_dry_run, field_manager=field_manager)

    run_each(state, manifests, action, "created", output, server_dry_run)


def _replace(
    client: Client,
    ref: ResourceRef,
    obj: dict[str, Any],
    *,
    status: bool,
    retry: bool,
    dry_run: bool,
    field_manager: str,
) -> dict[str, Any]:
    if status and "status" not in ref.subresources:  # before reading anything
        raise UsageError(f'the resource type "{ref.group_resource}" has no status subresource')
    meta = obj.setdefault("metadata", {})
    pinned = bool(meta.get("resourceVersion"))  # a precondition given by the user
    for attempt in range(CONFLICT_RETRIES + 1):
        body = copy.deepcopy(obj)
        if not pinned or attempt > 0:
            current = client.get(ref, meta["name"], meta.get("namespace"))
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        try:
            write = client.update_status if status else client.update
            return write(body, dry_run=dry_run, field_manager=field_manager)
        except Conflict:
            if not retry or attempt == CONFLICT_RETRIES:
                raise
    raise AssertionError("unreachable")


def update(
    ctx: typer.Context,
    filenames: list[str] = FILES,
    recursive: bool = RECURSIVE,
    output: str | None = OUTPUT,
    dry_run: str = DRY_RUN,
    field_manager: str = FIELD_MANAGER,
    retry_on_conflict: bool = RETRY,
) -> None:
    """Replace existing objects with the given manifests (kubectl replace).

    A metadata.resourceVersion in the manifest is a precondition: a stale one fails with Conflict (exit 7).
    Without one, kates reads the current version and replaces it.
    """
    state, manifests, client, server_dry_run = _start(ctx, filenames, recursive, output, dry_run)

    def action(ref: ResourceRef, obj: dict[str, Any]) -> dict[str, Any]:
        return _replace(
            client, ref, obj, status=False, retry=retry_on_conflict, dry_run=server_dry_run, field_manager=field_manager
        )

    run_each(state, manifests, action, "updated", output, server_dry_run)


def update_status(
    ctx: typer.Context,
    filenames: list[str] = FILES,
    recursive: bool = RECURSIVE,
    output: str | None = OUTPUT,
    dry_run: str = DRY_RUN,
    field_manager: str = FIELD_MANAGER,
    retry_on_conflict: bool = RETRY,
) -> None:
    """Write the status subresource of existing objects (kubectl has no such verb).

    Only .status is changed; a stale metadata.resourceVersion fails with Conflict (exit 7) unless
    --retry-on-conflict, which re-reads and re-applies the status.
    """
    state, manifests, client, server_dry_run = _start(ctx, filenames, recursive, output, dry_run)

    def action(ref: ResourceRef, obj: dict[str, Any]) -> dict[str, Any]:
        return _replace(
            client, ref, obj, status=True, retry=retry_on_conflict, dry_run=server_dry_run, field_manager=field_manager
        )

    run_each(state, manifests, action, "status updated", output, server_dry_run)


def validate_json_patch(patch: Any) -> None:
    """Check a JSON patch (RFC 6902) locally, before anything is sent."""
    import jsonpatch
    import jsonpointer

    if not isinstance(patch, list):
        raise UsageError("a json patch must be a list of operations")
    for i, op in enumerate(patch):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise UsageError(f"json patch operation {i}: needs op and path")
        if op["op"] not in ("add", "remove", "replace", "move", "copy", "test"):
            raise UsageError(f'json patch operation {i}: unknown op "{op["op"]}"')
        if op["op"] in ("add", "replace", "test") and "value" not in op:
            raise UsageError(f"json patch operation {i}: {op['op']} needs a value")
        if op["op"] in ("move", "copy") and "from" not in op:
            raise UsageError(f"json patch operation {i}: {op['op']} needs from")
        for key in ("path", "from"):
            if key in op:
                try:
                    jsonpointer.JsonPointer(op[key])
                except (jsonpointer.JsonPointerException, TypeError) as exc:
                    raise UsageError(f"json patch operation {i}: bad {key} {op[key]!r}: {exc}") from exc
    try:
        jsonpatch.JsonPatch(patch)
    except jsonpatch.JsonPatchException as exc:
        raise UsageError(f"invalid json patch: {exc}") from exc


def _parse_patch(text: str, source: str) -> Any:
    import yaml

    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{source}: not JSON or YAML: {str(exc).splitlines()[0]}") from exc


def patch(
    ctx: typer.Context,
    args: list[str] = typer.Argument(
        None, autocompletion=completion.kinds_then_names, metavar="[KIND NAME | TYPE/NAME]"
    ),
    patch_text: str | None = typer.Option(None, "--patch", "-p", help="The patch, as JSON or YAML."),
    patch_file: str | None = typer.Option(None, "--patch-file", help="Read the patch from this file."),
    patch_type: str | None = typer.Option(
        None, "--type", help="strategic (default for built-in kinds), merge, or json. CRDs take merge or json."
    ),
    filenames: list[str] = FILES,
    recursive: bool = RECURSIVE,
    subresource: str | None = typer.Option(None, "--subresource", help="Patch this subresource, e.g. status."),
    local: bool = typer.Option(False, "--local", help="Apply the patch to the -f objects and print; no cluster."),
    output: str | None = OUTPUT,
    dry_run: str = DRY_RUN,
    field_manager: str = FIELD_MANAGER,
) -> None:
    """Patch objects named by KIND NAME, TYPE/NAME or -f. JSON patches are validated before they are sent."""
    state: State = ctx.obj
    server_dry_run = _dry_run(dry_run)
    _check_output(output)
    if (patch_text is None) == (patch_file is None):
        raise UsageError("give exactly one of --patch/-p and --patch-file")
    if patch_file is not None:
        try:
            with open(patch_file, encoding="utf-8") as fh:
                patch_text = fh.read()
        except OSError as exc:
            raise UsageError(f"cannot read {patch_file}: {exc.strerror}") from exc
    assert patch_text is not None
    body = _parse_patch(patch_text, patch_file or "--patch")
    if patch_type not in (None, "strategic", "merge", "json"):
        raise UsageError(f'unknown patch type "{patch_type}"', hint="use strategic, merge or json")
    if patch_type == "json":
        validate_json_patch(body)
    elif not isinstance(body, dict):
        raise UsageError(f"a {patch_type or 'strategic'} patch must be an object")
    if local:
        _patch_local(state, filenames or [], recursive, body, patch_type or "merge", output)
        return
    if filenames:
        if args:
            raise UsageError("give either -f or KIND NAME, not both")
        manifests = load(filenames, recursive)
    else:
        manifests = [_named_manifest(state, args or [])]
    client = state.client()

    def action(ref: ResourceRef, obj: dict[str, Any]) -> dict[str, Any]:
        kind_type = patch_type or ("strategic" if _builtin(ref) else "merge")
        meta = obj.get("metadata") or {}
        try:
            return client.patch(
                ref,
                meta["name"],
                body,
                patch_type=kind_type,
                namespace=meta.get("namespace"),
                subresource=subresource,
                dry_run=server_dry_run,
                field_manager=field_manager,
            )
        except ApiError as exc:
            if exc.code == 415 and kind_type == "strategic":
                raise UsageError(
                    f"application/strategic-merge-patch+json is not supported by {ref.api_version}, "
                    f"Kind={ref.kind}: {exc.message}",
                    hint="use --type merge or --type json for custom resources",
                ) from exc
            raise

    run_each(state, manifests, action, "patched", output, server_dry_run)


def _builtin(ref: ResourceRef) -> bool:
    """Built-in groups are single words or end in .k8s.io; CRD groups (example.com) take merge patches by default."""
    return "." not in ref.group or ref.group.endswith(".k8s.io")


def _named_manifest(state: State, args: list[str]) -> Manifest:
    if len(args) == 1 and "/" in args[0]:
        kind, _, name = args[0].partition("/")
    elif len(args) == 2:
        kind, name = args
    else:
        raise UsageError("specify the object to patch as KIND NAME, TYPE/NAME, or -f FILE")
    ref = state.client().resolve(kind)
    obj = {"apiVersion": ref.api_version, "kind": ref.kind, "metadata": {"name": name}}
    return Manifest(obj, f"{ref.kind_group}/{name}", 1, 1)


def _patch_local(
    state: State, filenames: list[str], recursive: bool, body: Any, patch_type: str, output: str | None
) -> None:
    import jsonpatch

    if patch_type == "strategic":
        raise UsageError("--local cannot compute a strategic merge patch", hint="use --type merge or --type json")
    results = []
    for m in load(filenames, recursive):
        if patch_type == "json":
            try:
                results.append(jsonpatch.apply_patch(m.obj, body))
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise UsageError(f"{m.where}: the json patch does not apply: {exc}") from exc
        else:
            results.append(merge_patch(m.obj, body))
    doc: Any = results[0] if len(results) == 1 else render.as_list(results)
    out = state.env.stdout
    if output == "name":
        out.write("".join(f"{r['kind'].lower()}/{r['metadata']['name']}\n" for r in results))
    else:
        out.write(render.to_json(doc) if output == "json" else render.to_yaml(doc))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
