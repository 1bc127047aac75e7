"""`kates wait`'s conditions and its progress over the objects waited on: pure logic, no client, no threads.

kubectl's rules (k8s.io/kubectl pkg/cmd/wait, 1.37), reproduced:
- `--for` is `create`, `delete` (either in any case), `condition=NAME[=VALUE]` (VALUE defaults to `true`; names
  and values compare after case folding; a condition whose observedGeneration, or else the status's, is older than
  metadata.generation does not count) or `jsonpath=EXPR[=VALUE]` (EXPR relaxed as `get --sort-by` relaxes it; no
  VALUE: any single non-empty result; with one: the single scalar result, printed as Go's %v, equals it after
  trimming spaces; a map or a list is an error). Several `--for` must all hold.
- Objects are taken in the order given, and each one's conditions in the order given: a condition, once seen to
  hold, is printed (`deployment.apps/web condition met`) and never checked again. With `--for=create`, nothing is
  checked until every named object exists, or the selection has found something (kubectl waits for creation first).
- An object is read when its turn comes, not before (kubectl's builder reads each named object as it visits it): a
  named object created after the wait started is waited on like the others, and one missing when its turn comes, or
  when the wait for one of its conditions other than delete begins, is that object's error (NotFound), and the wait
  goes on to the next object. An object deleted while a condition is waited on is waited on still: the condition is
  about the object of that name, and may be met by one created again (kubectl's watch takes a delete as "not yet").
  With `--for=delete` asked, every NotFound is dropped (kubectl ignores them): a named object missing at its turn is
  passed over, nothing printed.
- An error about one object (NotFound, a jsonpath that leads to a list, or with `--timeout=0` "condition not met for
  configmaps/a") does not end the wait: every error is reported at the end, in order (kubectl's aggregate).
- `delete` holds once the object was seen absent, or with another uid (deleted and created again) after its wait
  began: every change is fed in order, so a delete followed at once by a create is still seen.

kates's additions: with `any_` (`--any`) an object is done when one of the conditions holds, and the line says
which (`job.batch/pi condition met: condition=Failed`); an object missing at its turn is then waited for when
`create` or `delete` is among them (either may yet hold); the objects may be of several kinds.

Invariants:
- `Progress` changes only through `replace` (a stream's complete set), `event` (one change) and `read` (an object
  read when a condition's wait on it begins), each returning the texts to print, in order (its `printer` makes
  them: kubectl's line, or the object for -o); it is `finished` when every object is done with, `done` when
  finished without an error, and `errors` holds each object's error in order.
- A condition another condition of the same object follows is never printed twice, and no object is printed before
  the one before it is done with (kubectl waits on them one after the other).
- With `reads` (not with `once`), nothing is decided about an object at the start of a condition's wait on it
  until the caller has read it (`wanted`, then `read`): the read, not a stream that may lag, says whether it exists
  then; what was read stands for the object until its stream is as new (by resourceVersion).
- Nothing here blocks or reads a clock: the caller owns the deadline and asks `timeout_errors` when it passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from typing import TYPE_CHECKING, Any

from ..core.records import record
from ..core.selectors import compare_rv
from ..errors import KatesError, NotFound, TimedOut, UsageError

if TYPE_CHECKING:
    from .jsonpath import JSONPath

KubeObject = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)

JSONPATH_FORMAT = (
    "jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or "
    "--for=jsonpath='{.status.readyReplicas}'"
)
TIMED_OUT = "timed out waiting for the condition"


@record(frozen=True)
class Condition:
    """One `--for`: `text` as given, `kind` one of create, delete, condition, jsonpath."""

    text: str
    kind: str
    name: str = ""
    value: str = ""
    path: JSONPath | None = None

    def holds(self, obj: KubeObject | None) -> bool:
        """Whether this condition holds on `obj` (None: absent). Raises KatesError where kubectl errors."""
        if self.kind == "create":
            return obj is not None
        if self.kind == "delete":
            return obj is None
        if obj is None:
            return False
        if self.kind == "condition":
            return _condition_met(obj, self.name, self.value)
        return _jsonpath_met(obj, self)


def parse_conditions(values: list[str]) -> list[Condition]:
    """The `--for` values -> conditions, or kubectl's usage errors."""
    conditions: list[Condition] = []
    for text in values:
        lower = text.lower()
        if lower in ("create", "delete"):
            conditions.append(Condition(text, lower))
        elif text.startswith("condition="):
            name, eq, value = text[len("condition=") :].partition("=")
            conditions.append(Condition(text, "condition", name, value if eq else "true"))
        elif text.startswith("jsonpath="):
            conditions.append(_jsonpath_condition(text))
        else:
            raise UsageError(f'unrecognized condition: "{text}"')
    if not conditions:
        raise UsageError("unrecognized condition: []", hint="use --for=create, delete, condition=NAME or jsonpath=EXPR")
    return conditions


def split_jsonpath_input(text: str) -> list[str]:
    """kubectl's splitJSONPathInput: split on single `=`; `==` stays in its part."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "=":
            if i + 1 < len(text) and text[i + 1] == "=":
                current.append("==")
                i += 2
                continue
            parts.append("".join(current))
            current = []
        else:
            current.append(text[i])
        i += 1
    parts.append("".join(current))
    return parts


def _jsonpath_condition(text: str) -> Condition:
    from .jsonpath import JSONPath, relaxed_path

    parts = split_jsonpath_input(text[len("jsonpath=") :])
    if len(parts) > 2:
        raise UsageError(JSONPATH_FORMAT)
    expression = relaxed_path(parts[0])
    if not expression:
        raise UsageError("jsonpath expression cannot be empty")
    value = ""
    if len(parts) == 2:
        value = parts[1].strip("'\"")
        if not value:
            raise UsageError(
                "jsonpath wait has to have a value after equal sign, like --for=jsonpath='{.status.readyReplicas}'=3"
            )
    return Condition(text, "jsonpath", value=value, path=JSONPath(expression))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _condition_met(obj: KubeObject, name: str, want: str) -> bool:
    status = obj.get("status")
    conditions = status.get("conditions") if isinstance(status, dict) else None
    if not isinstance(conditions, list):
        return False
    for cond in conditions:
        if not isinstance(cond, dict):
            continue
        ctype, cstatus = cond.get("type"), cond.get("status")
        if not isinstance(ctype, str) or ctype.casefold() != name.casefold() or not isinstance(cstatus, str):
            continue
        generation = _int((obj.get("metadata") or {}).get("generation"))
        if generation is not None:
            observed = _int(cond.get("observedGeneration"))
            if observed is None and isinstance(status, dict):
                observed = _int(status.get("observedGeneration"))
            if observed is not None and observed < generation:
                return False
        return cstatus.casefold() == want.casefold()
    return False


def _jsonpath_met(obj: KubeObject, cond: Condition) -> bool:
    from .jsonpath.gofmt import _sprint

    assert cond.path is not None
    values = cond.path.find(obj)
    if not values:
        return False
    if len(values) > 1:
        raise KatesError("given jsonpath expression matches more than one value")
    if not cond.value:
        return True
    if isinstance(values[0], dict | list):
        raise KatesError("jsonpath leads to a nested object or list which is not supported")
    return _sprint(values[0]).strip() == cond.value.strip()


@record
class Watched:
    """What one stream follows: named objects of one kind in one namespace, or a selection (`names` empty)."""

    id: str
    kind_group: str  # `deployment.apps`: the printed name's prefix
    resource: str  # `deployments`: the timeout message's
    group_resource: str  # `deployments.apps`: the NotFound message's
    namespace: str | None
    names: list[str] = field(default_factory=list)


@record
class Target:
    """One object waited on, and how far its conditions have got."""

    watched: Watched
    key: Key
    uid: str = ""  # the object `delete` waits on: the one read when that wait began (another uid: it was deleted)
    next: int = 0  # the index of the next condition to check (AND); with --any, 1 once done
    begun: int = -1  # the index of the condition whose wait has begun (the object was read for it); -1: not its turn
    read: int = -1  # the index of the condition the object was last read (GET) for, with `reads`
    got: KubeObject | None = None  # what that read found (None: not found)

    @property
    def name(self) -> str:
        return f"{self.watched.kind_group}/{self.key[1]}"

    @property
    def resource_name(self) -> str:
        """kubectl's name for it in its messages: `configmaps/a`."""
        return f"{self.watched.resource}/{self.key[1]}"


def met_line(target: Target, obj: KubeObject | None, condition: Condition | None) -> str:
    """kubectl's line for a condition met; with --any (`condition` given), which one."""
    return f"{target.name} condition met" + (f": {condition.text}" if condition is not None else "")


Printer = Callable[[Target, "KubeObject | None", "Condition | None"], str]


class Progress:
    """The wait's state: the objects each stream sees, the objects waited on, and the cursor over them. `printer`
    makes the text for a condition met from the object as last seen (None if never seen) and, with --any, the
    condition that held (kubectl's -o).

    With `reads`, an object is read afresh when a condition's wait on it begins, as kubectl GETs it then: the wait
    stops at `wanted` until the caller hands over what it read (`read`), so that a stream a little behind the server
    never decides whether the object exists at its turn. What was read stands for the object until its stream has
    caught up with it (by resourceVersion)."""

    def __init__(
        self,
        watched: list[Watched],
        conditions: list[Condition],
        *,
        any_: bool = False,
        once: bool = False,
        reads: bool = False,
        printer: Printer = met_line,
    ):
        self.printer = printer
        self.last: dict[tuple[str, Key], KubeObject] = {}  # each object as last seen, for -o after a delete
        self.watched = watched
        self.conditions = conditions
        self.any = any_
        self.once = once  # --timeout=0: each object is checked once; one not met is an error, and the next checked
        self.reads = reads and not once  # (with --timeout=0 the one list is the read)
        self.create = any(c.kind == "create" for c in conditions)
        self.delete = any(c.kind == "delete" for c in conditions)
        self.seen: dict[str, dict[Key, KubeObject]] = {}  # stream id -> what it holds now
        self.fresh: dict[tuple[str, Key], KubeObject] = {}  # objects read, newer than their stream's (for a while)
        self.gone: dict[tuple[str, Key], str] = {}  # the resourceVersion at which a stream last saw an object go
        self.targets: list[Target] | None = None  # fixed once every stream has synced (and, with create, exists)
        self.cursor = 0
        self.wanted: Target | None = None  # the object to read before the wait can go on (with `reads`)
        self.errors: list[KatesError] = []  # each object's error, in order; the wait goes on to the next object

    # -- input -----------------------------------------------------------------------------------------------

    def replace(self, stream: str, objects: list[KubeObject], rv: str = "") -> list[str]:
        """A stream's complete set (its bootstrap, or a relist after a restart or a 410), listed at `rv`."""
        held = {_key(o): o for o in objects}
        for key in set(self.seen.get(stream, ())) | {k for s, k in self.fresh if s == stream}:
            if key not in held:
                self.gone[(stream, key)] = rv
        self.seen[stream] = held
        self.last.update(((stream, key), o) for key, o in held.items())
        return self._advance()

    def event(self, stream: str, event_type: str, obj: KubeObject) -> list[str]:
        """One watch event, in order."""
        held = self.seen.setdefault(stream, {})
        key = _key(obj)
        if event_type == "DELETED":
            held.pop(key, None)
            self.gone[(stream, key)] = _rv(obj)  # (a deletion's event carries the deletion's resourceVersion)
        else:
            held[key] = obj
            self.last[(stream, key)] = obj
        return self._advance()

    def read(self, target: Target, obj: KubeObject | None) -> list[str]:
        """What reading `wanted` found (None: not found)."""
        if target is not self.wanted:
            return []
        self.wanted = None
        target.read, target.got = target.next, obj
        at = (target.watched.id, target.key)
        if obj is not None:
            self.fresh[at] = obj
            if _newer(obj, self.last.get(at)):
                self.last[at] = obj
        else:  # gone by now: what the stream still holds is older (its delete is on its way)
            self.seen.get(target.watched.id, {}).pop(target.key, None)
            self.fresh.pop(at, None)
        return self._advance()

    @property
    def finished(self) -> bool:
        """Every object waited on is done with: its conditions met, or its error noted."""
        return self.targets is not None and self.cursor >= len(self.targets)

    @property
    def done(self) -> bool:
        """Finished without an error: every condition was met."""
        return self.finished and not self.errors

    def current(self, target: Target) -> KubeObject | None:
        """The object as it is now, as far as is known: its stream's, or what was read when that is newer."""
        at = (target.watched.id, target.key)
        obj = self.seen.get(target.watched.id, {}).get(target.key)
        fresh = self.fresh.get(at)
        if fresh is None:
            return obj
        if obj is not None:
            newer = compare_rv(_rv(obj), _rv(fresh))
            return obj if newer is None or newer >= 0 else fresh
        gone = compare_rv(self.gone.get(at), _rv(fresh))
        return None if gone is not None and gone >= 0 else fresh  # (gone after the read, or not caught up yet)

    # -- the rules -------------------------------------------------------------------------------------------

    def _advance(self) -> list[str]:
        if self.finished or self.wanted is not None or (self.targets is None and not self._fix_targets()):
            return []
        assert self.targets is not None
        lines: list[str] = []
        while self.cursor < len(self.targets):
            target = self.targets[self.cursor]
            try:
                if not self._step(target, lines):
                    break
            except KatesError as exc:  # this object's error: noted, and the wait goes on to the next (kubectl)
                self._failed(exc)
        return lines

    def _failed(self, error: KatesError) -> None:
        """The object waited on fails: its error is noted (kubectl drops every NotFound with --for=delete)."""
        if not (self.delete and isinstance(error, NotFound)):
            self.errors.append(error)
        self.cursor += 1

    def _step(self, target: Target, lines: list[str]) -> bool:
        """Check `target`'s next condition; False when the wait for it goes on (or for a read). Raises its error
        (NotFound for an object missing when a condition's wait begins: kubectl reads the object then)."""
        index = 0 if self.any else target.next
        obj = self.current(target)
        if target.begun < index:  # a condition's wait begins (with --any, all of them): the object is read now
            if self.reads and target.read != index:
                self.wanted = target
                return False
            if self.reads:
                obj = target.got
            first = target.begun < 0  # its turn: a named object is read (a missing one is NotFound, delete too)
            target.begun = index
            kinds = {c.kind for c in self.conditions} if self.any else {self.conditions[index].kind}
            if obj is None:
                waitable = {"create", "delete"} if self.any else {"delete"}
                if not kinds & waitable or (not self.any and first and bool(target.watched.names)):
                    raise _not_found(target)
            if "delete" in kinds:
                target.uid = _uid(obj) if obj is not None else ""
        if self.any:
            held = next((c for c in self.conditions if c.holds(self._seen_as(c, target, obj))), None)
            if held is None:
                return self._not_met(target)
            lines.append(self.printer(target, self._last(target), held))
            self.cursor += 1
            return True
        if not self.conditions[index].holds(self._seen_as(self.conditions[index], target, obj)):
            return self._not_met(target)
        lines.append(self.printer(target, self._last(target), None))
        target.next += 1
        if target.next == len(self.conditions):
            self.cursor += 1
        return True

    def _not_met(self, target: Target) -> bool:
        """A condition that does not hold: the wait goes on, or with --timeout=0 it is this object's error."""
        if not self.once:
            return False
        raise TimedOut(f"condition not met for {target.resource_name}")

    @staticmethod
    def _seen_as(cond: Condition, target: Target, obj: KubeObject | None) -> KubeObject | None:
        """For `delete`, an object with another uid than the one its wait began with was deleted and created again:
        the object waited on is gone. Every other condition is about the object of that name now (kubectl waits on
        through a delete, and a condition met by an object created again under the name is met)."""
        if cond.kind == "delete" and obj is not None and target.uid and _uid(obj) != target.uid:
            return None
        return obj

    def _last(self, target: Target) -> KubeObject | None:
        return self.last.get((target.watched.id, target.key))

    def _fix_targets(self) -> bool:
        """Take the objects to wait on, once every stream has synced (and, with create and AND, once all exist).
        Whether a named object exists is not judged here: it is read when its turn comes (`_step`)."""
        if any(w.id not in self.seen for w in self.watched):
            return False
        targets: list[Target] = []
        for w in self.watched:
            held = self.seen[w.id]
            if w.names:
                for name in w.names:
                    key = (w.namespace or "", name)
                    if key not in held and self.create and not self.any:
                        return False  # kubectl waits for every object to exist before anything else
                    targets.append(Target(w, key))
            else:
                targets += [Target(w, key) for key in sorted(held)]
        if self.create and not targets:
            return False  # kubectl waits for its selection to find something, across every kind asked
        if not targets and not self.delete:
            self.errors.append(KatesError("no matching resources found"))
        self.targets = targets
        return True

    # -- the end ---------------------------------------------------------------------------------------------

    def timeout_errors(self) -> list[KatesError]:
        """What kubectl reports when the time is up, one error per object, in order: before the objects are known
        (waiting for them to be created), "timed out waiting for the condition"; after, the errors of the objects
        done with, then "... on configmaps/a" for the object waited on and for each one after it, except that one
        missing by then is NotFound (kubectl goes on to each with its time spent, and reads it first)."""
        if self.targets is None:
            return [TimedOut(TIMED_OUT)]
        errors = list(self.errors)
        for i, target in enumerate(self.targets[self.cursor :]):
            if i > 0 and self.current(target) is None:
                cond = None if self.any else self.conditions[target.next]
                missing = (
                    not (self.create or self.delete)
                    if cond is None
                    else cond.kind != "delete" or bool(target.watched.names)
                )
                if missing:
                    if not self.delete:  # (kubectl drops every NotFound with --for=delete)
                        errors.append(_not_found(target))
                    continue
            errors.append(TimedOut(f"{TIMED_OUT} on {target.resource_name}"))
        return errors or [TimedOut(TIMED_OUT)]


def _key(obj: KubeObject) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _uid(obj: KubeObject) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def _rv(obj: KubeObject) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _newer(obj: KubeObject, than: KubeObject | None) -> bool:
    """Whether `obj` is newer than `than` (None: nothing), by resourceVersion; incomparable: not newer."""
    return than is None or (compare_rv(_rv(obj), _rv(than)) or 0) > 0


def _not_found(target: Target) -> NotFound:
    return NotFound(f'{target.watched.group_resource} "{target.key[1]}" not found', code=404)
