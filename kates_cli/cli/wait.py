"""`kates wait`: wait until conditions hold on objects, as kubectl wait does, over the resilient watch.

Invariants:
- The rules (which `--for`, what holds, what is printed, in which order) are waitfor.py's; this module builds the
  streams, feeds their changes into `waitfor.Progress` one at a time under one lock, prints the lines it returns,
  and owns the deadline.
- Every kind (and every named object, by a `metadata.name` field selector, as kubectl watches it) is followed by a
  core watch stream, so a dropped connection or an API server restart resumes or relists instead of ending the
  wait; a relist is compared with what was held, so an object deleted meanwhile counts as deleted. Past
  PER_OBJECT_STREAMS names of a kind, one stream follows the kind in the namespace; when the server refuses it
  (403: a Role with resourceNames; 405), one stream per name takes its place, as kubectl reads each object.
- When a condition's wait on an object begins, the object is read (GET), as kubectl reads it then, so whether it
  exists at its turn is the server's answer, not a stream's that may lag; a read that fails otherwise leaves the
  stream's view standing (list and watch stay the only verbs kates wait needs).
- `--timeout=0` lists once, checks once, and starts no watch.
- `-o` prints each object met as kubectl wait's printer does (json/yaml/kyaml without managedFields unless
  --show-managed-fields, templates with them); a template's execution error is printed as kubectl prints it
  (go-template: its debugging dump on stdout; jsonpath: nothing) and does not end the wait, since kubectl ignores
  its printer's errors.
- Every error is reported, one `error:` line each, in kubectl's order (the objects' errors, then at a timeout one
  per object not done); an object's error does not end the wait (waitfor.py).
- Exit codes: 0 when every condition was met; TIMEOUT when the time ran out (or, with `--timeout=0`, a condition
  did not hold); NOT_FOUND when a named object is missing at its turn and `--for=delete` was not asked; when the
  errors are of several kinds, 1 (README: the exit code is theirs if they agree, else 1).
"""

from __future__ import annotations

import io
import threading
import time
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from ..core.selectors import compare_rv
from ..errors import (
    ApiError,
    Forbidden,
    KatesError,
    NotFound,
    PartialFailure,
    Unauthorized,
    UsageError,
)
from . import completion, printflags
from .state import State
from .waitfor import Condition, Printer, Progress, Target, Watched, met_line, parse_conditions

if TYPE_CHECKING:
    from ..core.accumulator import Entry
    from ..core.client import Client
    from ..core.mapping import ResourceRef
    from ..core.watch import Sink
    from .jsonpath import JSONPath

WEEK = 7 * 24 * 3600.0  # kubectl: a negative --timeout waits a week
PER_OBJECT_STREAMS = 10
FORMATS = (
    "json",
    "yaml",
    "kyaml",
    "name",
    "go-template",
    "go-template-file",
    "template",
    "templatefile",
    "jsonpath",
    "jsonpath-as-json",
    "jsonpath-file",
)  # kubectl wait's list, in its order


def register(app: typer.Typer) -> None:
    app.command("wait")(wait)


def arguments_conflict(args: list[str], *, paths: bool, selecting: bool) -> str | None:
    """kubectl's builder's refusal of resource arguments given with -f, or of names given with a selector (-l,
    --field-selector, --all), worded as it words each; None when they go together."""
    if not args:
        return None
    pairs = "/" in args[0]  # TYPE/NAME... (parse_targets refuses a mix)
    if paths:
        if pairs:
            return "resource/name arguments cannot be provided when a path is specified"
        return "when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well"
    if selecting and pairs:
        return "selectors and the all flag cannot be used when passing resource/name arguments"
    if selecting and len(args) > 1:
        return "name cannot be provided when a selector is specified"
    return None


def wait(
    ctx: typer.Context,
    args: list[str] = typer.Argument(
        None, autocompletion=completion.kinds_then_names, metavar="TYPE[/NAME] [NAME...] | TYPE/NAME..."
    ),
    for_: list[str] = typer.Option(
        None,
        "--for",
        help="The condition to wait on: create, delete, condition=NAME[=VALUE] (VALUE defaults to true; compared "
        "without regard to case) or jsonpath='{EXPR}'[=VALUE] (no VALUE: any value). Repeatable: all must hold, "
        "in the order given (create is waited for first), or one of them with --any.",
        autocompletion=completion.formats("create", "delete", "condition=", "jsonpath="),
    ),
    any_: bool = typer.Option(
        False,
        "--any",
        help="An object is done when one of the --for conditions holds (a Job Complete or Failed); the line printed "
        "says which.",
    ),
    timeout: str = typer.Option(
        "30s",
        "--timeout",
        help="How long to wait before giving up, e.g. 30s or 5m; 0 checks once; a negative value waits a week.",
    ),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Select across all namespaces."),
    selector: str | None = typer.Option(
        None, "--selector", "-l", help="Wait on the objects matching this label selector."
    ),
    field_selector: str | None = typer.Option(
        None, "--field-selector", help="Wait on the objects matching this field selector."
    ),
    all_: bool = typer.Option(False, "--all", help="Wait on every object of the kinds given."),
    filenames: list[str] = typer.Option(
        None,
        "--filename",
        "-f",
        help="Wait on the objects named in these manifests (file, directory or -).",
        click_type=completion.MANIFEST_FILES,
    ),
    recursive: bool = typer.Option(False, "--recursive", "-R", help="With -f DIR: read its subdirectories too."),
    output: str | None = printflags.output(
        "Print each object met instead of `KIND/NAME condition met`: json, yaml, kyaml, name, "
        "go-template=TEMPLATE (or template=TEMPLATE), go-template-file=PATH (or templatefile=PATH), jsonpath=TEMPLATE, "
        "jsonpath-as-json=TEMPLATE or jsonpath-file=PATH (a deleted object as last seen).",
        FORMATS,
    ),
    template: str | None = printflags.template(),
    allow_missing_template_keys: bool = printflags.allow_missing_template_keys(),
    show_managed_fields: bool = printflags.show_managed_fields(),
) -> None:
    """Wait for a condition on one or many objects.

    Waits until every --for condition holds on every object named (TYPE/NAME, TYPE NAME..., -f FILE) or selected
    (TYPE with -l, --field-selector or --all), and prints `KIND/NAME condition met` for each condition met, as
    kubectl wait does. Objects may be of several kinds (`kates wait deploy/web svc/web --for=create`).
    With --any, one of the --for conditions suffices, and the line says which: `kates wait job/pi --any
    --for=condition=Complete --for=condition=Failed`.

    Each object is read when its turn comes, as kubectl reads it: one created meanwhile is waited on, one missing
    then is an error, and the wait goes on to the next; every error is reported at the end. The wait follows a
    watch that survives dropped connections and API server restarts. Exit codes: 0 when met; 11 when the time ran
    out (--timeout=0: a condition did not hold); 4 when a named object does not exist at its turn and
    --for=delete was not asked; 1 when the errors are of several kinds.
    """
    state: State = ctx.obj
    printer, newline = _printer(output, template, allow_missing_template_keys, show_managed_fields)
    conditions = parse_conditions(list(for_ or []))
    from .durations import parse_duration

    seconds = parse_duration(timeout, "--timeout", negative=True)
    if seconds < 0:
        seconds = WEEK
    selecting = bool(selector or field_selector or all_)
    conflict = arguments_conflict(args or [], paths=bool(filenames), selecting=selecting)
    if conflict:
        raise UsageError(conflict)
    if filenames:
        client, watched = _manifest_watched(state, filenames, recursive)
    else:
        from .get import parse_targets, resolve_targets

        if not args:
            raise UsageError(
                "You must provide one or more resources by argument or filename.",
                hint="e.g. 'kates wait deploy/web --for=condition=Available', 'kates wait cm -l app=web --for=create', "
                "'kates wait -f web.yaml --for=delete'",
            )
        targets = parse_targets(args)
        client = state.client()
        refs = resolve_targets(client, targets)
        named = any(names for _, names in refs)
        if not named and not selecting:
            raise UsageError("resource(s) were provided, but no name was specified")
        if named and all_namespaces:
            raise UsageError("a resource cannot be retrieved by name across all namespaces")
        namespace = state.namespace or client.namespace
        watched = []
        for ref, names in refs:
            ns = None if not ref.namespaced or all_namespaces else namespace
            _add(watched, ref, ns, names)
    progress = Progress(
        [w for w, _, _ in watched], conditions, any_=any_, once=seconds == 0, reads=True, printer=printer
    )
    if seconds == 0:
        _check_once(state, client, watched, progress, selector, field_selector, newline)
        return
    _follow(state, client, watched, progress, selector, field_selector, seconds, newline)


def _printer(
    output: str | None, template: str | None, allow_missing_keys: bool, show_managed_fields: bool = False
) -> tuple[Printer, bool]:
    """The text for each condition met -- kubectl's line, or the object in the -o format kubectl wait offers -- and
    whether a newline is to follow it (kubectl's line), or the text ends as kubectl's printer ends it (nothing after a
    template's text: as in kubectl, `{{"\\n"}}` is the user's to write)."""
    if not output and not template:
        return met_line, True
    from . import render
    from .get import parse_output

    unmatched = UsageError(  # kubectl's one line, its formats sorted
        f'unable to match a printer suitable for the output format "{output}", allowed formats are: '
        + ",".join(sorted(FORMATS))
    )
    if (output or "").partition("=")[0] in ("custom-columns", "custom-columns-file"):
        raise unmatched  # kubectl wait has no custom-columns printer: a spec (or its absence) is never looked at
    out = parse_output(output, template, allow_missing_keys)
    if out.format not in ("json", "yaml", "kyaml", "name", "go-template", "jsonpath", "jsonpath-as-json"):
        raise unmatched
    documents = [0]

    def show(target: Target, obj: dict[str, Any] | None, condition: Condition | None) -> str:
        if out.format == "name" or obj is None:  # (an object never seen: its name, as kates has nothing else)
            return target.name + ("" if out.format in ("go-template", "jsonpath") else "\n")
        if out.format == "go-template":
            # as kubectl wait: an execution error prints what came before it and kubectl's debugging dump, and the
            # wait goes on (kubectl ignores the printer's error)
            text = io.StringIO()
            try:
                out.columns[0][1].write(text, obj)
            except UsageError:
                pass
            return text.getvalue()
        if out.format in ("json", "yaml", "kyaml") and not show_managed_fields:  # (never from templates, as kubectl)
            meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
            obj = {**obj, "metadata": meta}
        if out.format == "json":
            return render.to_json(obj)
        if out.format == "kyaml":  # every document has its `---`
            return render.to_kyaml(obj)
        if out.format == "yaml":
            documents[0] += 1
            return ("---\n" if documents[0] > 1 else "") + render.to_yaml(obj)
        path: JSONPath = out.columns[0][1]
        try:  # kubectl's JSONPath finds every result before printing any: an error prints nothing, and is ignored
            if out.format == "jsonpath":
                return path.render(obj)  # as kubectl: nothing after it (`{.x}{"\\n"}` is the user's to write)
            return path.render_json(obj)
        except UsageError:
            return ""

    return show, False


Followed = tuple[Watched, "ResourceRef", str]  # what progress knows, the kind, the field selector of its stream


def _add(watched: list[Followed], ref: ResourceRef, ns: str | None, names: list[str]) -> None:
    """Streams for these objects: one per named object (a `metadata.name` field selector, as kubectl watches each),
    or, past PER_OBJECT_STREAMS names, one for the kind in the namespace (fewer connections); a selection: one."""
    unique = list(dict.fromkeys(names))
    if not unique or len(unique) > PER_OBJECT_STREAMS:
        watched.append(_watched(len(watched), ref, ns, unique))
        return
    for name in unique:
        watched.append(_watched(len(watched), ref, ns, [name]))


def _watched(index: int, ref: ResourceRef, ns: str | None, names: list[str]) -> Followed:
    fields = f"metadata.name={names[0]}" if len(names) == 1 else ""
    w = Watched(f"w{index}", ref.kind_group, ref.resource, ref.group_resource, ns, names)
    return w, ref, fields


def _manifest_watched(state: State, paths: list[str], recursive: bool) -> tuple[Client, list[Followed]]:
    from .getfile import PerObjectClient, manifest_targets

    client, refs = manifest_targets(state, paths, recursive)
    assert isinstance(client, PerObjectClient)  # it knows each object's namespace
    objects = [
        (ref, client._namespace_of(ref, name) if ref.namespaced else None, name)
        for ref, names in refs
        for name in names
    ]
    groups: dict[tuple[ResourceRef, str | None], list[str]] = {}
    for ref, ns, name in objects:
        groups.setdefault((ref, ns), []).append(name)
    watched: list[Followed] = []
    taken: set[tuple[ResourceRef, str | None, str]] = set()
    for ref, ns, name in objects:  # in manifest order, as kubectl takes them
        names = list(dict.fromkeys(groups[(ref, ns)]))
        if len(names) > PER_OBJECT_STREAMS:  # one stream for the kind, where the first of them stands
            if (ref, ns, "") not in taken:
                taken.add((ref, ns, ""))
                watched.append(_watched(len(watched), ref, ns, names))
        elif (ref, ns, name) not in taken:
            taken.add((ref, ns, name))
            watched.append(_watched(len(watched), ref, ns, [name]))
    return client, watched


def _emit(state: State, lines: list[str], newline: bool) -> None:
    if lines:
        end = "\n" if newline else ""
        state.env.stdout.write("".join(line + end for line in lines))
        state.env.stdout.flush()


def _report(state: State, errors: list[KatesError]) -> NoReturn:
    """Every error, in order, one `error:` line each (kubectl prints each of its aggregate's), the last one raised;
    the exit code is theirs if they agree, else 1 (README)."""
    for error in errors[:-1]:
        state.env.stderr.write(f"error: {error.message}\n")
    last = errors[-1]
    codes = {e.exit_code for e in errors}
    if len(codes) > 1:
        raise PartialFailure(last.message, codes)
    raise last


def refused(error: KatesError) -> bool:
    """The server will not let this stream be read (403; 405: the kind cannot be listed or watched) -- kubectl's
    IsForbidden and IsMethodNotSupported; 401 is not (the credentials are wrong, not the request)."""
    if isinstance(error, Forbidden):
        return not isinstance(error, Unauthorized)
    return isinstance(error, ApiError) and error.code == 405


_UNREAD: dict[str, Any] = {}  # a read that could not be made: the stream's view stands


def _read(client: Client, ref: ResourceRef, target: Target) -> dict[str, Any] | None:
    """GET the object a condition's wait begins on: it, or None when it is not found. A read that fails otherwise
    (the server unreachable, which the wait rides out; no get verb, where list and watch are granted) is _UNREAD:
    the wait goes on with its stream's view, which the read only brings up to date."""
    try:
        return client.get(ref, target.key[1], (target.key[0] or None) if ref.namespaced else None)
    except NotFound:
        return None
    except KatesError:
        return _UNREAD


def _selectors(
    w: Watched, fields: str, selector: str | None, field_selector: str | None
) -> tuple[str | None, str | None]:
    if w.names:
        return None, fields
    return selector or None, field_selector or None


def _check_once(
    state: State,
    client: Client,
    watched: list[Followed],
    progress: Progress,
    selector: str | None,
    field_selector: str | None,
    newline: bool,
) -> None:
    """`--timeout=0`: one list per stream (per object, where the kind's list is refused), one check."""
    lines: list[str] = []
    for w, ref, fields in watched:
        labels, fsel = _selectors(w, fields, selector, field_selector)
        try:
            items = _list(client, ref, w, labels, fsel)
        except KatesError as exc:
            if not (len(w.names) > 1 and refused(exc)):
                raise
            # the kind's list is refused (a Role with resourceNames): each object's, as kubectl reads each
            items = [item for name in w.names for item in _list(client, ref, w, None, f"metadata.name={name}")]
        lines += progress.replace(w.id, items)
    _emit(state, lines, newline)
    if not progress.finished:
        _report(state, progress.timeout_errors())
    if progress.errors:
        _report(state, progress.errors)


def _list(client: Client, ref: ResourceRef, w: Watched, labels: str | None, fields: str | None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.list_pages(
        ref,
        w.namespace,
        label_selector=labels,
        field_selector=fields,
        all_namespaces=w.namespace is None and ref.namespaced,
    ):
        items += page.get("items") or []
    return items


class _Feed:
    """One stream's sink: every change goes into the shared progress, under the shared lock, in order."""

    def __init__(self, stream_id: str, progress: Progress, changed: threading.Condition, lines: list[str]):
        self.id, self.progress, self.changed, self.lines = stream_id, progress, changed, lines
        self.error: KatesError | None = None

    def replace(self, query: str, entries: list[Entry], rv: str) -> None:
        with self.changed:
            self.lines += self.progress.replace(self.id, [e.obj for e in entries], rv)
            self.changed.notify_all()

    def event(self, query: str, event_type: str, entry: Entry) -> None:
        with self.changed:
            self.lines += self.progress.event(self.id, event_type, entry.obj)
            self.changed.notify_all()

    def bookmark(self, query: str, rv: str) -> None:
        pass

    def fail(self, error: KatesError) -> None:
        with self.changed:
            self.error = error
            self.changed.notify_all()


class _Parts:
    """The streams of one object each that stand in for a kind's stream the server refused: together they are that
    stream's set, handed to the progress (as one complete set) once every one of them has listed, then at each
    change."""

    def __init__(self, feed: _Feed, names: list[str]):
        self.feed = feed
        self.parts: dict[str, dict[tuple[str, str], dict[str, Any]] | None] = dict.fromkeys(names)
        self.rv = ""  # the newest resourceVersion a part listed at
        self.error: KatesError | None = None

    def part(self, name: str) -> _Part:
        return _Part(self, name)

    def changed(self) -> None:
        """Under the feed's lock: one part changed."""
        if all(p is not None for p in self.parts.values()):
            objects = [o for p in self.parts.values() if p is not None for o in p.values()]
            self.feed.lines += self.feed.progress.replace(self.feed.id, objects, self.rv)
        self.feed.changed.notify_all()


class _Part:
    """The sink of one object's stream, for `_Parts`."""

    def __init__(self, parts: _Parts, name: str):
        self.parts, self.name = parts, name

    def replace(self, query: str, entries: list[Entry], rv: str) -> None:
        with self.parts.feed.changed:
            self.parts.parts[self.name] = {e.key: e.obj for e in entries}
            if (compare_rv(rv, self.parts.rv) or 0) > 0 or not self.parts.rv:
                self.parts.rv = rv
            self.parts.changed()

    def event(self, query: str, event_type: str, entry: Entry) -> None:
        with self.parts.feed.changed:
            held = self.parts.parts[self.name]
            if held is None:
                return
            if event_type == "DELETED":
                held.pop(entry.key, None)
            else:
                held[entry.key] = entry.obj
            # the set is as new as this event: a deletion is seen only past the object's own newest version (the
            # one its turn read, perhaps after the lists: a graceful deletion bumps it)
            if entry.rv and ((compare_rv(entry.rv, self.parts.rv) or 0) > 0 or not self.parts.rv):
                self.parts.rv = entry.rv
            self.parts.changed()

    def bookmark(self, query: str, rv: str) -> None:
        pass

    def fail(self, error: KatesError) -> None:
        with self.parts.feed.changed:
            self.parts.error = error
            self.parts.feed.changed.notify_all()


def _follow(
    state: State,
    client: Client,
    watched: list[Followed],
    progress: Progress,
    selector: str | None,
    field_selector: str | None,
    seconds: float,
    newline: bool,
) -> None:
    from ..core.accumulator import Query, QueryState
    from ..core.watch import Stream
    from .watch import stderr_notice

    deadline = time.monotonic() + seconds
    changed = threading.Condition()
    lines: list[str] = []
    notice = stderr_notice(state)
    feeds: list[tuple[_Feed, Followed]] = []
    streams: dict[str, list[Stream]] = {}  # watched id -> its stream, or the streams of its objects
    split: dict[str, _Parts] = {}
    refs = {w.id: ref for w, ref, _ in watched}

    def stream(sink: Sink, w: Watched, ref: ResourceRef, labels: str | None, fields: str | None, title: str) -> Stream:
        query = Query(w.id, ref.group_resource, w.namespace, labels, fields)
        qstate = QueryState(query, ref.group, ref.resource, ref.api_version, ref.kind)
        qstate.title = title
        qstate.hint = "kates wait needs the list and watch verbs on every kind it waits on"
        s = Stream(client.transport, client.discovery, sink, qstate, ref, notice=notice)
        s.kind_gone_hint = "kates wait cannot wait for a kind to come back: wait again once the server serves it"
        return s

    for followed in watched:
        w, ref, fields = followed
        labels, fsel = _selectors(w, fields, selector, field_selector)
        feed = _Feed(w.id, progress, changed, lines)
        feeds.append((feed, followed))
        title = f"{ref.kind_group}" + (f"/{w.names[0]}" if len(w.names) == 1 else "")
        streams[w.id] = [stream(feed, w, ref, labels, fsel, title)]
    for started in streams.values():
        for s in started:
            s.start()
    try:
        with changed:
            while True:
                _emit(state, lines, newline)
                del lines[:]
                if progress.finished:  # even if a stream failed since (a deleted CRD: its objects were reported
                    if progress.errors:  # deleted first)
                        _report(state, progress.errors)
                    return
                wanted = progress.wanted
                if wanted is not None:  # a condition's wait begins: the object is read now, as kubectl reads it
                    changed.release()  # (the streams go on meanwhile)
                    try:
                        obj = _read(client, refs[wanted.watched.id], wanted)
                    finally:
                        changed.acquire()
                    lines += progress.read(wanted, progress.current(wanted) if obj is _UNREAD else obj)
                    continue
                for feed, (w, ref, _) in feeds:
                    if feed.error is not None and w.id not in split and len(w.names) > 1 and refused(feed.error):
                        # the kind's stream is refused (a Role with resourceNames): each object's, as kubectl reads
                        # each, in its place
                        for s in streams[w.id]:
                            s.stop()
                        parts = split[w.id] = _Parts(feed, w.names)
                        streams[w.id] = [
                            stream(parts.part(n), w, ref, None, f"metadata.name={n}", f"{ref.kind_group}/{n}")
                            for n in w.names
                        ]
                        feed.error = None
                        for s in streams[w.id]:
                            s.start()
                failed = next(
                    (e for e in [f.error for f, _ in feeds] + [p.error for p in split.values()] if e is not None),
                    None,
                )
                if failed is not None:
                    _report(state, [*progress.errors, failed])
                left = deadline - time.monotonic()
                if left <= 0:
                    _report(state, progress.timeout_errors())
                changed.wait(left)
    finally:
        for started in streams.values():
            for s in started:
                s.stop()
