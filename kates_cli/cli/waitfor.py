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
  With `--timeout=0` (`once`) each object is checked once, and those not met are reported after the others.
- A named object that is missing when the wait starts is skipped when `--for=delete` is asked, else it is an error
  (NotFound) reported after the others were waited for, unless `--for=create` is asked. An object that disappears
  while a condition other than delete is waited on is an error too, unless `--for=create` was asked.
- `delete` holds once the object was seen absent, or with another uid (deleted and created again) after the wait
  took it: every change is fed in order, so a delete followed at once by a create is still seen. Every other
  condition is about the object of that name as it is now.

kates's additions: with `any_` (`--any`) an object is done when one of the conditions holds, and the line says
which (`job.batch/pi condition met: condition=Failed`); the objects may be of several kinds.

Invariants:
- `Progress` changes only through `replace` (a stream's complete set) and `event` (one change), each returning the
  texts to print, in order (its `printer` makes them: kubectl's line, or the object for -o); it is `done` when every
  object is, and `failure` holds the first error that ends the wait.
- A condition another condition of the same object follows is never printed twice, and no object is printed before
  the one before it is done (kubectl waits on them one after the other).
- Nothing here blocks or reads a clock: the caller owns the deadline and asks `timeout_messages` when it passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from typing import TYPE_CHECKING, Any

from ..core.records import record
from ..errors import KatesError, NotFound, UsageError

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
    uid: str = ""
    next: int = 0  # the index of the next condition to check (AND); with --any, 1 once done
    missing_ok: bool = False  # absent at the start with --for=delete: nothing to wait for, nothing printed

    @property
    def name(self) -> str:
        return f"{self.watched.kind_group}/{self.key[1]}"


def met_line(target: Target, obj: KubeObject | None, condition: Condition | None) -> str:
    """kubectl's line for a condition met; with --any (`condition` given), which one."""
    return f"{target.name} condition met" + (f": {condition.text}" if condition is not None else "")


Printer = Callable[[Target, "KubeObject | None", "Condition | None"], str]


class Progress:
    """The wait's state: the objects each stream sees, the objects waited on, and the cursor over them. `printer`
    makes the text for a condition met from the object as last seen (None if never seen) and, with --any, the
    condition that held (kubectl's -o)."""

    def __init__(
        self,
        watched: list[Watched],
        conditions: list[Condition],
        *,
        any_: bool = False,
        once: bool = False,
        printer: Printer = met_line,
    ):
        self.printer = printer
        self.last: dict[tuple[str, Key], KubeObject] = {}  # each object as last seen, for -o after a delete
        self.watched = watched
        self.conditions = conditions
        self.any = any_
        self.once = once  # --timeout=0: each object is checked once; one not met is passed over, and reported
        self.unmet: list[Target] = []
        self.create = any(c.kind == "create" for c in conditions)
        self.delete = any(c.kind == "delete" for c in conditions)
        self.seen: dict[str, dict[Key, KubeObject]] = {}  # stream id -> what it holds now
        self.targets: list[Target] | None = None  # fixed once every stream has synced (and, with create, exists)
        self.cursor = 0
        self.failure: KatesError | None = None
        self.missing: list[KatesError] = []  # named objects absent at the start: reported once the rest is done

    # -- input -----------------------------------------------------------------------------------------------

    def replace(self, stream: str, objects: list[KubeObject]) -> list[str]:
        """A stream's complete set (its bootstrap, or a relist after a restart or a 410)."""
        self.seen[stream] = {_key(o): o for o in objects}
        self.last.update(((stream, key), o) for key, o in self.seen[stream].items())
        return self._advance()

    def event(self, stream: str, event_type: str, obj: KubeObject) -> list[str]:
        """One watch event, in order."""
        held = self.seen.setdefault(stream, {})
        if event_type == "DELETED":
            held.pop(_key(obj), None)
        else:
            held[_key(obj)] = obj
            self.last[(stream, _key(obj))] = obj
        return self._advance()

    @property
    def done(self) -> bool:
        return self.targets is not None and self.cursor >= len(self.targets) and self.failure is None and not self.unmet

    # -- the rules -------------------------------------------------------------------------------------------

    def _advance(self) -> list[str]:
        if self.failure is not None or (self.targets is not None and self.cursor >= len(self.targets)):
            return []
        if self.targets is None and not self._fix_targets():
            return []
        assert self.targets is not None
        lines: list[str] = []
        try:
            while self.cursor < len(self.targets):
                target = self.targets[self.cursor]
                if target.missing_ok:
                    self.cursor += 1
                    continue
                obj = self.seen.get(target.watched.id, {}).get(target.key)
                if self.any:
                    held = next((c for c in self.conditions if c.holds(self._seen_as(c, target, obj))), None)
                    if held is None:
                        self._absent(target, obj)
                        if self._passed_over(target):
                            continue
                        return lines
                    lines.append(self.printer(target, self._last(target), held))
                    self.cursor += 1
                    continue
                cond = self.conditions[target.next]
                if not cond.holds(self._seen_as(cond, target, obj)):
                    if cond.kind != "delete":
                        self._absent(target, obj)
                    if self._passed_over(target):
                        continue
                    return lines
                lines.append(self.printer(target, self._last(target), None))
                target.next += 1
                if target.next == len(self.conditions):
                    self.cursor += 1
        except KatesError as exc:
            self.failure = exc
            return lines
        if self.missing:  # the others are done: now the missing ones are reported
            self.failure = self.missing[-1]
        return lines

    @staticmethod
    def _seen_as(cond: Condition, target: Target, obj: KubeObject | None) -> KubeObject | None:
        """For `delete`, an object with another uid than the one the wait took was deleted and created again: the
        object waited on is gone. Every other condition is about the object of that name now."""
        if cond.kind == "delete" and obj is not None and target.uid and _uid(obj) != target.uid:
            return None
        return obj

    def _last(self, target: Target) -> KubeObject | None:
        return self.last.get((target.watched.id, target.key))

    def _passed_over(self, target: Target) -> bool:
        """With --timeout=0, an object not met is noted and the next one checked (kubectl checks each once)."""
        if not self.once or self.failure is not None:
            return False
        self.unmet.append(target)
        self.cursor += 1
        return True

    def _absent(self, target: Target, obj: KubeObject | None) -> None:
        """The object waited on is gone while a condition needing it is checked: kubectl's NotFound."""
        if obj is None and not self.create and not (self.any and self.delete):
            self.failure = _not_found(target)

    def _fix_targets(self) -> bool:
        """Take the objects to wait on, once every stream has synced (and, with create and AND, once all exist)."""
        if any(w.id not in self.seen for w in self.watched):
            return False
        targets: list[Target] = []
        missing: list[KatesError] = []
        for w in self.watched:
            held = self.seen[w.id]
            if w.names:
                for name in w.names:
                    key = (w.namespace or "", name)
                    obj = held.get(key)
                    if obj is None and self.create and not self.any:
                        return False  # kubectl waits for every object to exist before anything else
                    target = Target(w, key, _uid(obj) if obj is not None else "")
                    if obj is None and not self.create:
                        if self.delete:
                            target.missing_ok = not self.any  # AND: kubectl skips it; --any: `delete` holds
                        else:
                            missing.append(_not_found(target))
                            continue
                    targets.append(target)
            else:
                targets += [Target(w, key, _uid(held[key])) for key in sorted(held)]
        if self.create and not targets and not missing:
            return False  # kubectl waits for its selection to find something, across every kind asked
        if not targets and not missing and not self.delete:
            self.failure = KatesError("no matching resources found")
        self.targets = targets
        self.missing = missing
        return True

    # -- the end ---------------------------------------------------------------------------------------------

    def timeout_messages(self) -> list[str]:
        """What kubectl says when the time is up, one message per object not done: before the objects are known
        (waiting for them to be created), "timed out waiting for the condition"; after, "... on configmaps/a" for
        every object from the one waited on to the last (kubectl goes on to each with its time already spent);
        with --timeout=0, "condition not met for configmaps/a" for each object not met."""
        if self.targets is None:
            return [TIMED_OUT]
        if self.once:
            return [f"condition not met for {t.watched.resource}/{t.key[1]}" for t in self.unmet]
        pending = [t for t in self.targets[self.cursor :] if not t.missing_ok]
        return [f"{TIMED_OUT} on {t.watched.resource}/{t.key[1]}" for t in pending] or [TIMED_OUT]


def _key(obj: KubeObject) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _uid(obj: KubeObject) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def _not_found(target: Target) -> NotFound:
    return NotFound(f'{target.watched.group_resource} "{target.key[1]}" not found', code=404)
