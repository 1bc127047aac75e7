"""`kates delete`: by name, -f, -l or --all; waits (by watching) until the objects are really gone."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import typer

from ..errors import ApiError, ExitCode, KatesError, NotFound, PartialFailure, UsageError
from . import completion
from .get import parse_targets
from .manifests import load
from .state import State

if TYPE_CHECKING:
    from ..core.mapping import ResourceRef

Target = tuple["ResourceRef", str, "str | None"]  # ref, name, namespace


class WaitTimeout(KatesError):
    exit_code = ExitCode.ERROR


def register(app: typer.Typer) -> None:
    app.command("delete")(delete)


def delete(
    ctx: typer.Context,
    args: list[str] = typer.Argument(
        None, autocompletion=completion.kinds_then_names, metavar="[KIND[,KIND...] [NAME...] | TYPE/NAME...]"
    ),
    filenames: list[str] = typer.Option(
        None, "--filename", "-f", help="Delete the objects in these files.", click_type=completion.MANIFEST_FILES
    ),
    recursive: bool = typer.Option(False, "--recursive", "-R", help="Read directories recursively."),
    selector: str | None = typer.Option(None, "--selector", "-l", help="Delete objects matching this label selector."),
    all_: bool = typer.Option(False, "--all", help="Delete every object of the kinds in the namespace."),
    ignore_not_found: bool = typer.Option(False, "--ignore-not-found", help="A missing object is not an error."),
    cascade: str = typer.Option("background", "--cascade", help="background, foreground or orphan."),
    grace_period: int | None = typer.Option(None, "--grace-period", help="Seconds to let the object terminate."),
    dry_run: str = typer.Option("none", "--dry-run", help="server: check the deletion without doing it."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait until the objects are gone (default: wait)."),
    timeout: str | None = typer.Option(None, "--timeout", help="Give up waiting after this long, e.g. 60s."),
    fail_if_empty: bool = typer.Option(
        False, "--fail-if-empty", help="Exit 4 when -l/--all matches nothing (kubectl exits 0)."
    ),
) -> None:
    """Delete objects, and by default wait until they are gone (finalizers included).

    kubectl exits 0 when a selector matches nothing; so does kates, unless --fail-if-empty.
    """
    from .app import parse_duration

    state: State = ctx.obj
    if cascade not in ("background", "foreground", "orphan"):
        raise UsageError(f'invalid --cascade value "{cascade}"', hint="use background, foreground or orphan")
    if dry_run not in ("none", "server"):
        raise UsageError(f'invalid --dry-run value "{dry_run}"', hint="use server or none")
    limit = parse_duration(timeout) if timeout else None
    client = state.client()
    targets: list[Target] = []
    if filenames:
        if args or selector or all_:
            raise UsageError("give either -f, or KIND with names, -l or --all")
        for m in load(filenames, recursive):
            ref = client.ref_for(m.obj)
            meta = m.obj["metadata"]
            ns = (meta.get("namespace") or state.namespace or client.namespace) if ref.namespaced else None
            targets.append((ref, meta["name"], ns))
    else:
        parsed = parse_targets(args or [])
        named = any(t.names for t in parsed)
        if named and (selector or all_):
            raise UsageError("names cannot be given with --selector or --all")
        if not named and not (selector or all_):
            raise UsageError(
                "resource(s) were provided, but no name was specified", hint="give names, -l SELECTOR or --all"
            )
        for t in parsed:
            ref = client.resolve(t.kind)
            ns = (state.namespace or client.namespace) if ref.namespaced else None
            if named:
                targets += [(ref, name, ns) for name in t.names]
                continue
            for page in client.list_pages(ref, ns, label_selector=selector):
                targets += [(ref, i["metadata"]["name"], ns) for i in page.get("items") or ()]
        if not named and not targets:
            where = f" in {state.namespace or client.namespace} namespace" if parsed else ""
            state.env.stderr.write(f"No resources found{where}.\n")
            if fail_if_empty:
                raise NotFound("the selector matched no objects")
            return
    policy = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}[cascade]
    out, err = state.env.stdout, state.env.stderr
    gone: list[tuple[Target, str]] = []
    failures: list[ApiError] = []
    for ref, name, ns in targets:
        try:
            result = client.delete(
                ref, name, ns, propagation_policy=policy, grace_period=grace_period, dry_run=dry_run == "server"
            )
        except NotFound as exc:
            if not ignore_not_found:
                failures.append(exc)
                err.write(f"error: {exc.message}\n")
            continue
        except ApiError as exc:
            failures.append(exc)
            err.write(f"error: {exc.message}\n")
            continue
        suffix = " (server dry run)" if dry_run == "server" else ""
        out.write(f'{ref.kind_group} "{name}" deleted{suffix}\n')
        out.flush()
        owner = result.get("metadata") if result.get("kind") == ref.kind else result.get("details")
        uid = str((owner or {}).get("uid") or "")
        gone.append(((ref, name, ns), uid))
    if wait and dry_run != "server" and gone:
        _wait_gone(state, gone, limit)
    if failures:
        raise PartialFailure(f"{len(failures)} of {len(targets)} deletions failed", {f.exit_code for f in failures})


def _wait_gone(state: State, gone: list[tuple[Target, str]], limit: float | None) -> None:
    """Watch each kind involved until none of the deleted objects (same name and uid) remains."""
    from ..core.accumulator import Query

    client = state.client()
    by_query: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
    refs: dict[tuple[str, str | None], ResourceRef] = {}
    for (ref, name, ns), uid in gone:
        key = (ref.group_resource, ns)
        by_query.setdefault(key, []).append((name, uid))
        refs[key] = ref
    queries = [Query(f"q{i}", refs[k].group_resource, k[1]) for i, k in enumerate(by_query)]
    deadline = time.monotonic() + limit if limit else None
    status = None
    if state.env.stderr_tty:
        from rich.console import Console

        status = Console(file=state.env.stderr).status("waiting for deletion")
        status.start()
    try:
        with client.watch(*queries) as acc:
            while True:
                snap: dict[str, list[dict[str, Any]]] = {}
                remaining = []
                if acc.wait(0.2):
                    acc.update(snap)
                    for i, key in enumerate(by_query):
                        present = {(o["metadata"]["name"], o["metadata"].get("uid", "")) for o in snap[f"q{i}"]}
                        present_names = {n for n, _ in present}
                        remaining += [
                            n for n, uid in by_query[key] if (n, uid) in present or (not uid and n in present_names)
                        ]
                    if not remaining:
                        return
                    by_query = {k: [(n, u) for n, u in v if n in remaining] for k, v in by_query.items()}
                    if status is not None:
                        status.update(
                            f"waiting for {len(remaining)} object(s) to be deleted: {', '.join(remaining[:3])}"
                        )
                if deadline is not None and time.monotonic() > deadline:
                    left = [n for v in by_query.values() for n, _ in v]
                    raise WaitTimeout(f"timed out waiting for the deletion of {', '.join(left)}")
    finally:
        if status is not None:
            status.stop()
