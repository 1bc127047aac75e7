"""`kates delete`: by name, -f, -l, --field-selector or --all (-A: in every namespace); waits (by watching) until
the objects are really gone. One line per deletion as kubectl prints it (`configmap "x" deleted from NS namespace`,
or `-o name`); --now, --force and --grace-period follow kubectl's rules. A deletion whose answer was lost is
reported as possibly applied (outcome.py), never repeated; --timeout is a Go duration (durations.py).

As kubectl's builder: with -f, -l keeps the manifests whose own labels match, --all keeps every one, and
--field-selector is ignored; resource arguments with -f, and names with a selector, are refused in its words.
-l, --field-selector and --all ignore a missing object unless --ignore-not-found=false is given. The wait reads
each deleted object (or its kind in the namespace, for several) by a watch; one the server will not let kates
watch (403, 405) is not waited for, and never turns a deletion that succeeded into a failure."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import typer

from ..core.records import record
from ..errors import (
    ApiError,
    ExitCode,
    Fenced,
    KatesError,
    NotFound,
    PartialFailure,
    Unreachable,
    UsageError,
)
from . import completion, warning
from .get import parse_targets
from .manifests import crd_refs, load, namespace_of
from .nooptcommand import NoOptCommand
from .outcome import lost_answer, maybe_applied
from .state import State
from .wait import arguments_conflict, refused
from .write import parse_dry_run

if TYPE_CHECKING:
    from ..core.accumulator import Entry
    from ..core.client import Client
    from ..core.mapping import ResourceRef
    from ..core.watch import Stream

Target = tuple["ResourceRef", str, "str | None"]  # ref, name, namespace


class WaitTimeout(KatesError):
    exit_code = ExitCode.ERROR


class DeleteCommand(NoOptCommand):
    """A bare `--cascade` means `--cascade=background`, a bare `--dry-run` `--dry-run=client` (kubectl's NoOptDefVal:
    its "unchanged" means client), which kates refuses as write.py does."""

    NO_OPT_DEFAULTS = {"--cascade": "background", "--dry-run": "client"}


def register(app: typer.Typer) -> None:
    app.command("delete", cls=DeleteCommand)(delete)


# what Go's strconv.ParseBool takes: kubectl reads --cascade=true/false as the deprecated boolean form
_GO_BOOLS = {**dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True)}
_GO_BOOLS.update(dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False))


FORCE_WARNING = (
    "Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource "
    "may continue to run on the cluster indefinitely."
)
CLUSTER_SCOPE_WARNING = "deleting cluster-scoped resources, not scoped to the provided namespace"


def grace_period_for(grace_period: int | None, now: bool, force: bool) -> int | None:
    """kubectl's rules for --grace-period, --now and --force -> the grace period to send (None: the object's own)."""
    grace = None if grace_period is None or grace_period < 0 else grace_period
    if now:
        if grace_period is not None and grace_period != -1:  # kubectl: any value but its default, -1
            raise UsageError("--now and --grace-period cannot be specified together")
        grace = 1
    if grace == 0 and not force:
        grace = 1  # kubectl: 0 without --force means 1, against accidental data loss
    if force:
        if grace is None:
            grace = 0
        elif grace > 0:
            raise UsageError("--force and --grace-period greater than 0 cannot be specified together")
    return grace


def deleted_line(
    ref: ResourceRef, name: str, namespace: str | None, *, grace: int | None, dry_run: bool = False
) -> str:
    """kubectl's line for one deletion: `configmap "x" deleted from NS namespace`."""
    operation = "force deleted" if grace == 0 else "deleted"
    if ref.namespaced:
        operation += f" from {namespace} namespace"
    if dry_run:
        operation += " (server dry run)"
    return f'{ref.kind_group} "{name}" {operation}\n'


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
    field_selector: str | None = typer.Option(
        None, "--field-selector", help="Delete objects matching this field selector, e.g. metadata.name=x."
    ),
    all_: bool = typer.Option(False, "--all", help="Delete every object of the kinds in the namespace."),
    all_namespaces: bool = typer.Option(
        False, "--all-namespaces", "-A", help="With -l, --field-selector or --all: in every namespace."
    ),
    ignore_not_found: bool | None = typer.Option(
        None,
        "--ignore-not-found/--no-ignore-not-found",
        help="A missing object is not an error (the default with -l, --field-selector or --all, unless "
        "--ignore-not-found=false).",
    ),
    cascade: str = typer.Option("background", "--cascade", help="background, foreground or orphan."),
    grace_period: int | None = typer.Option(
        None, "--grace-period", help="Seconds to let the object terminate (0 means 1 unless --force)."
    ),
    now: bool = typer.Option(False, "--now", help="Signal the objects to stop at once (--grace-period=1)."),
    force: bool = typer.Option(
        False, "--force", help="Delete at once, without waiting for the object to confirm it stopped (grace 0)."
    ),
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="name: print TYPE/NAME per deleted object.",
        autocompletion=completion.formats("name"),
    ),
    dry_run: str = typer.Option(
        "none",
        "--dry-run",
        help="server: check the deletion without doing it (client dry runs, and a bare --dry-run, which means one, "
        "are not offered).",
    ),
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
    if cascade in _GO_BOOLS:  # kubectl's deprecated boolean form, with its warning
        replacement = "background" if _GO_BOOLS[cascade] else "orphan"
        state.env.stderr.write(
            f"warning: --cascade={cascade} is deprecated (boolean value) and can be replaced with "
            f"--cascade={replacement}.\n"
        )
        cascade = replacement
    if cascade not in ("background", "foreground", "orphan"):
        raise UsageError(f'invalid cascade value ({cascade}). Must be "background", "foreground", or "orphan"')
    server_dry_run = parse_dry_run(dry_run)  # the same refusal of a client dry run as create's
    if output not in (None, "name"):
        raise UsageError(f"unexpected -o output mode: {output}. We only support '-o name'")
    if all_ and (selector or field_selector):  # kubectl's builder's words (its own check after it is never reached)
        raise UsageError("setting 'all' parameter but found a non empty selector.")
    grace = grace_period_for(grace_period, now, force)
    if force and grace == 0:
        warning.warn(FORCE_WARNING)
    limit = parse_duration(timeout, "--timeout") if timeout is not None else None
    selecting = bool(selector or field_selector or all_)
    # kubectl: -l, --field-selector and --all ignore a missing object, unless --ignore-not-found=false is given
    ignore = selecting if ignore_not_found is None else ignore_not_found
    if not filenames and not args:
        raise UsageError(
            "You must provide one or more resources by argument or filename.",
            hint="e.g. -f FILE, KIND NAME, TYPE/NAME, or KIND with -l SELECTOR, --field-selector or --all",
        )
    conflict = arguments_conflict(args or [], paths=bool(filenames), selecting=selecting)
    if conflict:
        raise UsageError(conflict)
    if filenames:
        manifests = load(filenames, recursive, generate_name=False)
        if selector:  # as kubectl: the manifests' own labels are matched (--all: every one; --field-selector: ignored)
            from ..core.selectors import LabelSelector

            labels = LabelSelector(selector)
            manifests = [m for m in manifests if labels.matches(m.obj["metadata"].get("labels"))]
    client = state.client()
    targets: list[Target] = []
    # (apiVersion, kind) -> index of the target that is the CRD defining it, earlier in the same -f input
    defined: dict[tuple[str, str], int] = {}
    defined_by: dict[int, int] = {}  # target index -> its CRD's target index
    if filenames:
        if not manifests:  # the selector matched none of them
            state.env.stdout.write("No resources found\n")
            if fail_if_empty:
                raise NotFound("the selector matched no objects")
            return
        for m in manifests:
            ref = client.ref_for(m.obj)
            meta = m.obj["metadata"]
            ns = namespace_of(state, client, ref, m)  # an explicit -n the object contradicts is refused
            crd = defined.get((ref.api_version, ref.kind))
            if crd is not None:
                defined_by[len(targets)] = crd
            targets.append((ref, meta["name"], ns))
            defined.update({(r.api_version, r.kind): len(targets) - 1 for r in crd_refs(m.obj)})
    else:
        parsed = parse_targets(args or [])
        named = any(t.names for t in parsed)
        if named and all_namespaces:
            raise UsageError("a resource cannot be retrieved by name across all namespaces")
        if not named and not selecting:
            raise UsageError(
                "resource(s) were provided, but no name was specified",
                hint="give names, -l SELECTOR, --field-selector or --all",
            )
        for t in parsed:
            ref = client.resolve(t.kind)
            ns = (state.namespace or client.namespace) if ref.namespaced else None
            if named:
                targets += [(ref, name, ns) for name in t.names]
                continue
            pages = client.list_pages(
                ref, ns, all_namespaces=all_namespaces, label_selector=selector, field_selector=field_selector
            )
            for page in pages:
                for item in page.get("items") or ():
                    meta = item["metadata"]
                    targets.append((ref, meta["name"], meta.get("namespace") if ref.namespaced else None))
        if not named and not targets:
            state.env.stdout.write("No resources found\n")
            if fail_if_empty:
                raise NotFound("the selector matched no objects")
            return
    policy = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}[cascade]
    warn_cluster_scope = state.namespace_explicit and not all_namespaces
    out, err = state.env.stdout, state.env.stderr
    gone: list[tuple[Target, str]] = []
    failures: list[ApiError] = []
    deleted: set[int] = set()
    for i, (ref, name, ns) in enumerate(targets):
        if warn_cluster_scope and not ref.namespaced:
            warning.warn(CLUSTER_SCOPE_WARNING)
            warn_cluster_scope = False
        try:
            result = client.delete(ref, name, ns, propagation_policy=policy, grace_period=grace, dry_run=server_dry_run)
        except NotFound as exc:
            if defined_by.get(i) in deleted and not server_dry_run:  # its CRD, deleted just now, took it along
                out.write(
                    f"{ref.kind_group}/{name}\n" if output == "name" else deleted_line(ref, name, ns, grace=grace)
                )
                continue
            if not ignore:  # (a selected object may go before it is deleted: ignored by default)
                failures.append(exc)
                err.write(f"error: {exc.message}\n")
            continue
        except ApiError as exc:
            failures.append(exc)
            err.write(f"error: {exc.message}\n")
            continue
        except (Unreachable, Fenced) as exc:  # the server is gone or writes are fenced: this one, the unsent; stop
            what = f'{ref.group_resource} "{name}"'
            err.write(f"error: {lost_answer(what) if maybe_applied(exc) else f'{what}: {exc.message}'}\n")
            rest = [f'{r.group_resource} "{n}"' for r, n, _ in targets[i + 1 :]]
            if rest:
                more = ", ..." if len(rest) > 5 else ""
                err.write(
                    f"error: {len(rest)} of {len(targets)} deletions were not sent: {', '.join(rest[:5])}{more}\n"
                )
            raise
        if output == "name":
            out.write(f"{ref.kind_group}/{name}\n")
        else:
            out.write(deleted_line(ref, name, ns, grace=grace, dry_run=server_dry_run))
        out.flush()
        deleted.add(i)
        owner = result.get("metadata") if result.get("kind") == ref.kind else result.get("details")
        uid = str((owner or {}).get("uid") or "")
        gone.append(((ref, name, ns), uid))
    if wait and not server_dry_run and gone:
        _wait_gone(state, gone, limit)
    if failures:
        raise PartialFailure(f"{len(failures)} of {len(targets)} deletions failed", {f.exit_code for f in failures})


class _Gone:
    """The sink of one stream of the wait: the objects it holds (key -> uid; None until it has listed), or its
    failure. Every change wakes the waiter."""

    def __init__(self, changed: threading.Condition):
        self.changed = changed
        self.present: dict[tuple[str, str], str] | None = None
        self.error: KatesError | None = None

    def replace(self, query: str, entries: list[Entry], rv: str) -> None:
        with self.changed:
            self.present = {e.key: e.uid for e in entries}
            self.changed.notify_all()

    def event(self, query: str, event_type: str, entry: Entry) -> None:
        with self.changed:
            if self.present is not None:
                if event_type == "DELETED":
                    self.present.pop(entry.key, None)
                else:
                    self.present[entry.key] = entry.uid
            self.changed.notify_all()

    def bookmark(self, query: str, rv: str) -> None:
        pass

    def fail(self, error: KatesError) -> None:
        with self.changed:
            self.error = error
            self.changed.notify_all()


@record
class _Watch:
    """One stream of the wait: the deleted objects of one kind in one namespace it follows, by (name, uid)."""

    ref: ResourceRef
    namespace: str | None
    left: list[tuple[str, str]]
    sink: _Gone
    stream: Stream
    alone: bool  # one object, by its name (else the kind in the namespace)

    def still(self) -> list[tuple[str, str]]:
        """The objects not gone yet (all of them before the stream has listed): same name, and same uid when the
        deletion's answer gave one (another uid: deleted, and created again)."""
        present = self.sink.present
        if present is None:
            return self.left
        ns = self.namespace or ""
        return [(n, uid) for n, uid in self.left if (ns, n) in present and (not uid or present[(ns, n)] == uid)]


def _wait_gone(state: State, gone: list[tuple[Target, str]], limit: float | None) -> None:
    """Watch the deleted objects until none remains (same name and uid). One object of a kind in a namespace is
    watched alone (a `metadata.name` field selector, as kubectl watches each); several, by one stream of their kind
    in the namespace. A stream the server refuses (403: a Role with resourceNames; 405) is replaced by one per
    object, and an object whose own stream is refused is not waited for, as kubectl does not fail a delete for a
    wait it may not make. A kind no longer served (its CRD deleted too) is read by GET instead."""
    from ..core.accumulator import Query, QueryState
    from ..core.watch import Stream

    client = state.client()
    changed = threading.Condition()
    groups: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
    refs: dict[tuple[str, str | None], ResourceRef] = {}
    for (ref, name, ns), uid in gone:
        key = (ref.group_resource, ns)
        groups.setdefault(key, []).append((name, uid))
        refs[key] = ref
    watches: list[_Watch] = []

    def watch(ref: ResourceRef, ns: str | None, left: list[tuple[str, str]]) -> _Watch:
        alone = len(left) == 1
        fields = f"metadata.name={left[0][0]}" if alone else None
        query = Query(f"q{len(watches)}", ref.group_resource, ns, None, fields)
        sink = _Gone(changed)
        stream = Stream(client.transport, client.discovery, sink, QueryState(query), ref)
        w = _Watch(ref, ns, list(left), sink, stream, alone)
        watches.append(w)
        stream.start()
        return w

    for key, objects in groups.items():
        watch(refs[key], key[1], objects)
    deadline = time.monotonic() + limit if limit else None
    polled: list[tuple[ResourceRef, str, str | None, str]] = []  # their kind no longer served: read by GET
    status = None
    if state.env.stderr_tty:
        from rich.console import Console

        status = Console(file=state.env.stderr).status("waiting for deletion")
        status.start()
    try:
        with changed:
            while True:
                remaining: list[str] = []
                for w in list(watches):
                    if w.sink.error is None:
                        w.left = w.still()
                        remaining += [n for n, _ in w.left]
                        continue
                    error, w.left = w.sink.error, w.still()
                    w.stream.stop()
                    watches.remove(w)
                    w.sink.error = None
                    if refused(error):
                        if not w.alone:  # the kind's stream: one per object in its place
                            for one in w.left:
                                remaining.append(watch(w.ref, w.namespace, [one]).left[0][0])
                        continue  # one object's: not waited for (kubectl ignores IsForbidden, IsMethodNotSupported)
                    if not isinstance(error, NotFound):
                        raise error
                    polled += [(w.ref, n, w.namespace, uid) for n, uid in w.left]
                if not remaining:
                    break
                if status is not None:
                    status.update(f"waiting for {len(remaining)} object(s) to be deleted: {', '.join(remaining[:3])}")
                if deadline is not None and time.monotonic() > deadline:
                    left = [n for w in watches for n, _ in w.left] + [n for _, n, _, _ in polled]
                    raise WaitTimeout(f"timed out waiting for the deletion of {', '.join(left)}")
                changed.wait(0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic())))
    finally:
        for w in watches:
            w.stream.stop()
        if status is not None:
            status.stop()
    if polled:
        _poll_gone(client, polled, deadline)


def _poll_gone(client: Client, left: list[tuple[ResourceRef, str, str | None, str]], deadline: float | None) -> None:
    """Read each object until it is gone (404, of the object or of its kind) or has another uid."""
    while True:
        still = []
        for ref, name, ns, uid in left:
            try:
                obj = client.get(ref, name, ns)
            except NotFound:
                continue
            if not uid or (obj.get("metadata") or {}).get("uid") == uid:
                still.append((ref, name, ns, uid))
        left = still
        if not left:
            return
        if deadline is not None and time.monotonic() > deadline:
            raise WaitTimeout(f"timed out waiting for the deletion of {', '.join(n for _, n, _, _ in left)}")
        time.sleep(0.5)
