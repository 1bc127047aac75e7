"""`kates create`, `update`, `update-status` and `patch`: every -f document (and every patch) parsed, checked and
encoded before anything is sent (manifests.py, sendable.py); one line per object as kubectl prints it; a server
rejection of one object (an oversize object's 413 included) does not stop the others. When the server cannot be
reached, or a fenced write gets no permit (nothing sent, core/coherence.py), the object being written is reported
as not sent, or as possibly applied when its answer was lost after sending (outcome.py: such a write is never
repeated), the objects never sent are named, and kates stops.

Objects are sent with fieldValidation=Strict unless --validate says otherwise (kubectl's default since 1.27), so an
unknown or duplicate field fails the object instead of being dropped. An object whose kind is defined by a
CustomResourceDefinition earlier in the same input waits (up to CRD_WAIT_SECONDS) until that kind is served."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from ..core import deepjson
from ..core.records import record
from ..errors import (
    ApiError,
    Conflict,
    Fenced,
    NotFound,
    PartialFailure,
    ResourceTypeNotFound,
    Unreachable,
    UsageError,
)
from . import completion, localvalidate, render
from .manifests import Manifest, check, crd_refs, load, namespace_of
from .nooptcommand import NoOptCommand
from .outcome import lost_answer, maybe_applied
from .state import State

if TYPE_CHECKING:
    from ..core.client import Client
    from ..core.mapping import ResourceRef

# an action writes one object and returns the server's answer and what to print after the name ("created", ...)
Action = Callable[["ResourceRef", dict[str, Any]], tuple[dict[str, Any], str]]
CONFLICT_RETRIES = 5
CRD_WAIT_SECONDS = 60.0


class ValidateFlagCommand(NoOptCommand):
    """A bare `--validate` means `--validate=strict`; a bare `--dry-run` means `--dry-run=client` (kubectl's
    NoOptDefVal), refused by `parse_dry_run`: it never takes the next argument for its value."""

    NO_OPT_DEFAULTS = {"--validate": "strict", "--dry-run": "client"}


def register(app: typer.Typer) -> None:
    app.command("create", cls=ValidateFlagCommand)(create)
    app.command("update", cls=ValidateFlagCommand)(update)
    app.command("update-status", cls=ValidateFlagCommand)(update_status)
    app.command("patch", cls=ValidateFlagCommand)(patch)


FILES = typer.Option(
    None,
    "--filename",
    "-f",
    help="File, directory or - for stdin; repeatable.",
    click_type=completion.MANIFEST_FILES,
)
RECURSIVE = typer.Option(False, "--recursive", "-R", help="Read directories recursively.")


def _caseless_output(value: str | None) -> str | None:
    """-o JSON, Yaml, KYAML, NAME: kubectl's printer flags match these in any case."""
    return value.lower() if value is not None and value.lower() in ("json", "yaml", "kyaml", "name") else value


OUTPUT = typer.Option(
    None,
    "--output",
    "-o",
    help="json, yaml, kyaml or name: print the server's returned objects.",
    autocompletion=completion.formats("json", "yaml", "kyaml", "name"),
    callback=_caseless_output,
)
DRY_RUN = typer.Option(
    "none",
    "--dry-run",
    help="server: let the server check the change without persisting it (client dry runs, and a bare --dry-run, "
    "which means one, are not offered).",
)
FIELD_MANAGER = typer.Option("kates", "--field-manager", help="The field manager name recorded by the server.")
RETRY = typer.Option(False, "--retry-on-conflict", help=f"On 409, re-read and re-apply (up to {CONFLICT_RETRIES}x).")
VALIDATE = typer.Option(
    "strict",
    "--validate",
    metavar="strict|warn|ignore|local",
    help="What the server does with unknown or duplicate fields: strict (or true, or a bare --validate) fails the "
    "object, warn writes the object and prints a warning per field, ignore (or false) drops them silently. local "
    "sends nothing: each object is checked against its CRD's schema (wrong types, missing or unknown fields; exit 8 "
    "if any is invalid); built-in kinds pass.",
)
PATCH_VALIDATE = typer.Option(
    "strict",
    "--validate",
    metavar="strict|warn|ignore",
    help="What the server does with unknown or duplicate fields: strict (or true, or a bare --validate) fails the "
    "patch, warn applies it and prints a warning per field, ignore (or false) drops them silently.",
)
VALIDATION_VALUES = {"strict": "Strict", "warn": "Warn", "ignore": "Ignore"}


def field_validation(value: str) -> str:
    """kubectl's --validate values -> the server's fieldValidation: strict|warn|ignore, or a Go boolean (true is
    strict, false is ignore)."""
    if value in VALIDATION_VALUES:
        return VALIDATION_VALUES[value]
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return "Strict"
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return "Ignore"
    if value == "local":
        raise UsageError("--validate=local is for create, update and update-status: a patch is no whole object")
    raise UsageError(f'invalid --validate option "{value}"; must be one of: strict (or true), warn, ignore (or false)')


def parse_dry_run(value: str) -> bool:
    """--dry-run -> whether it is a server dry run; a client dry run (a bare --dry-run too: kubectl's NoOptDefVal
    means client) is refused, as kates offers none. `delete` refuses the same way."""
    if value == "client":
        raise UsageError(
            "client dry runs are not offered: kates has no client-side dry run (a bare --dry-run means "
            "--dry-run=client, as in kubectl)",
            hint="use --dry-run=server: the server checks the change without persisting it",
        )
    if value not in ("none", "server"):
        raise UsageError(
            f'invalid --dry-run value "{value}"', hint="use server or none (client dry runs are not offered)"
        )
    return value == "server"


def _check_output(output: str | None) -> None:
    if output not in (None, "json", "yaml", "kyaml", "name"):
        raise UsageError(
            f'unable to match a printer suitable for the output format "{output}"',
            hint="allowed formats are: json, yaml, kyaml, name",
        )


@record
class _Step:
    m: Manifest
    ref: ResourceRef  # provisional (from the defining CRD's spec) while `defined_by` is set
    obj: dict[str, Any]
    defined_by: int | None = None  # index of the step whose CRD (earlier in the input) defines this kind
    served: bool = True  # the kind was in discovery at the start


def plan_steps(state: State, client: Client, manifests: list[Manifest]) -> list[_Step]:
    """Resolve every manifest's kind and namespace before anything is sent (UsageError on the first failure). A kind
    the server does not serve yet is accepted when a CRD earlier in the input defines it."""
    steps: list[_Step] = []
    defined: dict[tuple[str, str], tuple[int, ResourceRef]] = {}  # (apiVersion, kind) -> (CRD step, provisional ref)
    for m in manifests:
        key = (str(m.obj.get("apiVersion")), str(m.obj.get("kind")))
        defined_by, served = defined[key][0] if key in defined else None, True
        try:
            ref = client.ref_for(m.obj)
        except ResourceTypeNotFound as exc:
            if key not in defined:
                raise UsageError(f"{m.where}: {exc.message}", hint="is the CRD installed?") from exc
            ref, served = defined[key][1], False
        obj = deepjson.copy(m.obj)  # (copy.deepcopy recurses: an object 500 levels deep is a RecursionError)
        ns = namespace_of(state, client, ref, m)
        if ns:
            obj.setdefault("metadata", {})["namespace"] = ns
        steps.append(_Step(m, ref, obj, defined_by, served))
        for crd_ref in crd_refs(m.obj):
            defined[(crd_ref.api_version, crd_ref.kind)] = (len(steps) - 1, crd_ref)
    return steps


def _unserved(exc: ApiError) -> bool:
    """A 404 about the resource type itself (not served yet), rather than about an object or a namespace."""
    details = (exc.status or {}).get("details") or {}
    return isinstance(exc, NotFound) and not details.get("name")


def _when_served(client: Client, step: _Step, deadline: float) -> ResourceRef:
    """The served ref of a kind that a CRD of this input defines: discovery is refetched until it appears."""
    api_version, kind = step.ref.api_version, step.ref.kind
    delay = 0.1
    while True:
        try:
            return client.discovery.by_kind(api_version, kind)
        except ResourceTypeNotFound:
            if time.monotonic() + delay > deadline:
                raise ResourceTypeNotFound(
                    f'no matches for kind "{kind}" in version "{api_version}": its CustomResourceDefinition was '
                    f"created but not served within {CRD_WAIT_SECONDS:.0f}s"
                ) from None
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
        client.discovery.refresh()


def run_each(
    state: State,
    manifests: list[Manifest],
    action: Action,
    verb: str,
    output: str | None,
    dry_run: bool,
    *,
    subresource: str | None = None,
) -> None:
    """Resolve every manifest's kind first (nothing sent on failure), then act on each and report. `verb` names
    the action in error lines ("creating"). With `subresource`, every kind served now must have it (update-status:
    a ConfigMap among Deployments is refused before the Deployments' statuses are written)."""
    client = state.client()
    plan = plan_steps(state, client, manifests)
    for step in plan:
        if subresource is not None and step.served and subresource not in step.ref.subresources:
            raise UsageError(
                f'{step.m.where}: the resource type "{step.ref.group_resource}" has no {subresource} subresource'
            )
    out, err = state.env.stdout, state.env.stderr
    results: list[dict[str, Any]] = []
    failures: list[ApiError] = []
    failed: set[int] = set()
    for i, step in enumerate(plan):
        m, ref, obj = step.m, step.ref, step.obj
        try:
            deadline = time.monotonic() + CRD_WAIT_SECONDS
            unservable = None  # why this kind will not be served: its CRD failed, or was only created in a dry run
            if step.defined_by is not None and (step.defined_by in failed or dry_run):
                why = "failed" if step.defined_by in failed else "was only created in a server dry run"
                unservable = ResourceTypeNotFound(
                    f'no matches for kind "{ref.kind}" in version "{ref.api_version}": its '
                    f"CustomResourceDefinition ({plan[step.defined_by].m.where}) {why}"
                )
            if not step.served:
                if unservable is not None:
                    raise unservable
                ref = _when_served(client, step, deadline)
            while True:
                try:
                    result, past = action(ref, obj)
                    break
                except NotFound as exc:  # a kind (re)defined by this input can be listed before it is served
                    if step.defined_by is None or not _unserved(exc):
                        raise
                    if unservable is not None:
                        raise unservable from None
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        except ApiError as exc:
            failures.append(exc)
            failed.add(i)
            err.write(f"error: {verb} {m.where}: {exc.message}\n")
            continue
        except (Unreachable, Fenced) as exc:
            # the server is gone, or writes are fenced (nothing sent): say what became of this object, and which
            # were never sent, then stop
            _report_unreachable(err, plan, i, exc, verb, output, results, out, dry_run)
            raise
        results.append(result)
        name = (result.get("metadata") or {}).get("name") or (obj.get("metadata") or {}).get("name")
        if output is None:
            out.write(f"{ref.kind_group}/{name} {past}{' (server dry run)' if dry_run else ''}\n")
        elif output == "name":
            out.write(f"{ref.kind_group}/{name}\n")
        out.flush()
    if output in ("json", "yaml", "kyaml") and results:
        results = render.hide_managed_fields(results)  # as kubectl's printers do
        doc = results[0] if len(results) == 1 and len(plan) == 1 else render.as_list(results)
        out.write(render.document(output, doc))
    if failures:
        raise PartialFailure(f"{len(failures)} of {len(plan)} objects failed", {f.exit_code for f in failures})


def _what(step: _Step) -> str:
    """`configmaps "x"` (kubectl's way of naming an object in an error), or its generateName."""
    meta = step.obj.get("metadata") or {}
    if meta.get("name"):
        return f'{step.ref.group_resource} "{meta["name"]}"'
    return f'{step.ref.group_resource} (generateName "{meta.get("generateName", "")}")'


def _report_unreachable(
    err: Any,
    plan: list[_Step],
    i: int,
    exc: Unreachable | Fenced,
    verb: str,
    output: str | None,
    results: list[dict[str, Any]],
    out: Any,
    dry_run: bool,
) -> None:
    """The server could not be reached (or the write was fenced) while writing plan[i]: one line for that object
    (whose write may have been applied when the connection dropped after sending), one naming the objects never
    sent, and the objects already written (-o json/yaml prints them, as it would have at the end)."""
    step = plan[i]
    if maybe_applied(exc):
        err.write(f"error: {verb} {step.m.where}: {lost_answer(_what(step))}\n")
    else:
        err.write(f"error: {verb} {step.m.where}: {exc.message}\n")
    rest = plan[i + 1 :]
    if rest:
        names = ", ".join(_what(s) for s in rest[:5]) + (", ..." if len(rest) > 5 else "")
        err.write(f"error: {len(rest)} of {len(plan)} objects were not sent: {names}\n")
    if output in ("json", "yaml", "kyaml") and results:
        doc = render.as_list(render.hide_managed_fields(results))
        out.write(render.document(output, doc))
    out.flush()
    exc.message = f"{exc.message} ({len(results)} of {len(plan)} objects {'checked' if dry_run else 'written'})"


def _start(
    ctx: typer.Context,
    filenames: list[str] | None,
    recursive: bool,
    output: str | None,
    dry_run: str,
    validate: str,
    *,
    generate_name: bool = False,
) -> tuple[State, list[Manifest], Client, bool, str]:
    """What every -f command does first: check the flags, read and check every manifest, then connect."""
    state: State = ctx.obj
    server_dry_run = parse_dry_run(dry_run)
    validation = "local" if validate == "local" else field_validation(validate)
    _check_output(output)
    manifests = load(filenames or [], recursive, generate_name=generate_name)
    return state, manifests, state.client(), server_dry_run, validation


def create(
    ctx: typer.Context,
    filenames: list[str] = FILES,
    recursive: bool = RECURSIVE,
    output: str | None = OUTPUT,
    dry_run: str = DRY_RUN,
    field_manager: str = FIELD_MANAGER,
    validate: str = VALIDATE,
) -> None:
    """Create objects from files or stdin (any kind, CRDs included). Every document is checked before any is sent.

    An object whose kind is defined by a CustomResourceDefinition earlier in the input waits until the server serves
    that kind (up to 60s). Unknown fields fail the object unless --validate=warn or ignore. --validate=local sends
    nothing: each object is checked against its CRD's schema (a CRD in the same input serves for its kinds).
    """
    state, manifests, client, server_dry_run, validation = _start(
        ctx, filenames, recursive, output, dry_run, validate, generate_name=True
    )
    if validation == "local":
        localvalidate.run(state, plan_steps(state, client, manifests), output, server_dry_run)
        return

    def action(ref: ResourceRef, obj: dict[str, Any]) -> tuple[dict[str, Any], str]:
        created = client.create(obj, dry_run=server_dry_run, field_manager=field_manager, field_validation=validation)
        return created, "created"

    run_each(state, manifests, action, "creating", output, server_dry_run)


def _replace(
    client: Client,
    ref: ResourceRef,
    obj: dict[str, Any],
    *,
    status: bool,
    retry: bool,
    dry_run: bool,
    field_manager: str,
    field_validation: str,
) -> dict[str, Any]:
    if status and "status" not in ref.subresources:  # before reading anything
        raise UsageError(f'the resource type "{ref.group_resource}" has no status subresource')
    meta = obj.setdefault("metadata", {})
    pinned = bool(meta.get("resourceVersion"))  # a precondition given by the user
    for attempt in range(CONFLICT_RETRIES + 1):
        body = deepjson.copy(obj)
        if not pinned or attempt > 0:
            current = client.get(ref, meta["name"], meta.get("namespace"))
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        try:
            write = client.update_status if status else client.update
            return write(body, dry_run=dry_run, field_manager=field_manager, field_validation=field_validation)
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
    validate: str = VALIDATE,
) -> None:
    """Replace existing objects with the given manifests (kubectl replace).

    A metadata.resourceVersion in the manifest is a precondition: a stale one fails with Conflict (exit 7).
    Without one, kates reads the current version and replaces it. --validate=local checks each object against its
    CRD's schema and sends nothing.
    """
    _replace_each(ctx, filenames, recursive, output, dry_run, field_manager, retry_on_conflict, validate, status=False)


def update_status(
    ctx: typer.Context,
    filenames: list[str] = FILES,
    recursive: bool = RECURSIVE,
    output: str | None = OUTPUT,
    dry_run: str = DRY_RUN,
    field_manager: str = FIELD_MANAGER,
    retry_on_conflict: bool = RETRY,
    validate: str = VALIDATE,
) -> None:
    """Write the status subresource of existing objects (kubectl has no such verb).

    Only .status is changed; a stale metadata.resourceVersion fails with Conflict (exit 7) unless
    --retry-on-conflict, which re-reads and re-applies the status.
    """
    _replace_each(ctx, filenames, recursive, output, dry_run, field_manager, retry_on_conflict, validate, status=True)


def _replace_each(
    ctx: typer.Context,
    filenames: list[str],
    recursive: bool,
    output: str | None,
    dry_run: str,
    field_manager: str,
    retry_on_conflict: bool,
    validate: str,
    *,
    status: bool,
) -> None:
    """update and update-status: replace each manifest's object, or only its status subresource."""
    state, manifests, client, server_dry_run, validation = _start(ctx, filenames, recursive, output, dry_run, validate)
    if validation == "local":
        localvalidate.run(state, plan_steps(state, client, manifests), output, server_dry_run)
        return

    def action(ref: ResourceRef, obj: dict[str, Any]) -> tuple[dict[str, Any], str]:
        replaced = _replace(
            client,
            ref,
            obj,
            status=status,
            retry=retry_on_conflict,
            dry_run=server_dry_run,
            field_manager=field_manager,
            field_validation=validation,
        )
        return replaced, "status updated" if status else "updated"

    verb = "updating the status of" if status else "updating"
    run_each(state, manifests, action, verb, output, server_dry_run, subresource="status" if status else None)


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


def _refuse_constant(word: str) -> Any:
    raise ValueError(word)


def _parse_patch(text: str, source: str) -> Any:
    """The patch as JSON, else YAML, in its JSON form: NaN, infinities and alias bombs are refused here (Python's
    json takes NaN and Infinity, which orjson would send as null). `source` names the patch in errors."""
    from . import sendable
    from .manifests import parse_value

    try:
        body = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise UsageError(f"unable to parse {source}: the patch nests too deep") from None
    except ValueError as exc:
        if str(exc) in ("NaN", "Infinity", "-Infinity"):
            word = {"NaN": "NaN", "Infinity": "+Inf", "-Infinity": "-Inf"}[str(exc)]
            raise UsageError(f"unable to parse {source}: json: unsupported value: {word}") from None
        return parse_value(text, source)
    body = sendable.normalize(body, f"unable to parse {source}")
    sendable.to_json(body, f"unable to parse {source}")  # refused here when it has no JSON bytes (a lone surrogate)
    return body


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
    validate: str = PATCH_VALIDATE,
) -> None:
    """Patch objects named by KIND NAME, TYPE/NAME or -f. JSON patches are validated before they are sent.

    A patch that changes nothing prints "patched (no change)". Unknown fields in the patch fail it unless
    --validate=warn or ignore (kubectl patch sends no fieldValidation, so the server only warns).
    """
    state: State = ctx.obj
    server_dry_run = parse_dry_run(dry_run)
    validation = field_validation(validate)
    _check_output(output)
    if (patch_text is None) == (patch_file is None):
        raise UsageError("give exactly one of --patch/-p and --patch-file")
    if patch_file is not None:
        try:
            with open(patch_file, encoding="utf-8") as fh:
                patch_text = fh.read()
        except OSError as exc:
            raise UsageError(f"cannot read {patch_file}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise UsageError(f"cannot read {patch_file}: not UTF-8 (byte {exc.start})") from None
    assert patch_text is not None
    shown = patch_text if len(patch_text) <= 60 else patch_text[:57] + "..."
    body = _parse_patch(patch_text, patch_file or json.dumps(shown))
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
        manifests = load(filenames, recursive, generate_name=False)
    else:
        manifests = [_named_manifest(state, args or [])]
    client = state.client()

    def action(ref: ResourceRef, obj: dict[str, Any]) -> tuple[dict[str, Any], str]:
        kind_type = patch_type or ("strategic" if _builtin(ref) else "merge")
        meta = obj.get("metadata") or {}
        before = client.get(ref, meta["name"], meta.get("namespace"), subresource)  # as kubectl: for "(no change)"

        def send(as_type: str) -> dict[str, Any]:
            return client.patch(
                ref,
                meta["name"],
                body,
                patch_type=as_type,
                namespace=meta.get("namespace"),
                subresource=subresource,
                dry_run=server_dry_run,
                field_manager=field_manager,
                field_validation=validation,
            )

        try:
            try:
                after = send(kind_type)
            except ApiError as exc:
                # kates chose strategic for a *.k8s.io group, and the kind is a CRD's (gateway.networking.k8s.io):
                # a 415 applied nothing, so the merge patch is sent instead
                if exc.code != 415 or kind_type != "strategic" or patch_type is not None:
                    raise
                after = send("merge")
        except ApiError as exc:
            if exc.code == 415 and kind_type == "strategic" and patch_type is not None:
                raise UsageError(
                    f"application/strategic-merge-patch+json is not supported by {ref.api_version}, "
                    f"Kind={ref.kind}: {exc.message}",
                    hint="use --type merge or --type json for custom resources",
                ) from exc
            raise
        return after, "patched" if after != before else "patched (no change)"

    run_each(state, manifests, action, "patching", output, server_dry_run)


def _builtin(ref: ResourceRef) -> bool:
    """Built-in groups are single words or end in .k8s.io; CRD groups (example.com) take merge patches by default (a
    CRD of a .k8s.io group answers the strategic patch 415, and gets the merge patch then)."""
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
    return Manifest(obj, f"{ref.kind_group}/{name}", 0, 0)  # index 0: named on the command line, not a document


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
        patched = results[-1]
        if not isinstance(patched, dict):
            raise UsageError(f"{m.where}: the patched object is no object")
        check(Manifest(patched, f"{m.where}, patched", 0, 0))  # a patch that removed its kind, name or metadata
    doc: Any = results[0] if len(results) == 1 else render.as_list(results)
    out = state.env.stdout
    if output == "name":
        out.write("".join(f"{_kind_group(r)}/{r['metadata']['name']}\n" for r in results))
    else:
        out.write(render.document(output, doc))


def _kind_group(obj: dict[str, Any]) -> str:
    """kubectl's -o name prefix: the kind in lower case, and its API group when it has one (`deployment.apps`):
    ResourceRef.kind_group's rule, taken from the object itself, as --local resolves nothing (no discovery)."""
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    return f"{str(obj['kind']).lower()}.{group}" if group else str(obj["kind"]).lower()


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
