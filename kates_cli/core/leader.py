"""Leader election against the API server: the thin loop that runs `core.lease.Election` on a Lease
(coordination.k8s.io/v1) through kates's own Client.

Invariants:
- Every write of the Lease is a create (which fails with 409 if another candidate created it first) or an update
  carrying the resourceVersion last read or written: a 409 means another candidate won the race; nothing is ever
  written blind.
- A candidate tries to acquire every retry period with client-go's jitter (retry_period x (1 + rand x 1.2)); a
  leader renews every retry period (client-go's fast path first: an update of the version it last wrote, then a
  read and a normal attempt). Leadership ends at once when the Lease is seen held by another identity ("taken"),
  when `renewed_at + renew_deadline` passes without a successful renewal ("renew deadline": a watchdog thread, so
  this holds even while a request hangs), and on `stop()` ("stopped"). A lost leader goes back to candidate.
- Callbacks run in the leader's threads, one at a time and in order (gained, renewed..., lost, gained, ...): each
  term's `on_gained` comes after the first `on_renewed(kill_at)` of that term, so the reaper's deadline is set
  before any hook of the term can start. Callbacks must be quick and must not block.
- Errors that retrying cannot fix (403/401 on leases, the Lease API not served, the namespace missing, an invalid
  Lease name) are fatal: the first one is raised by `start()` when it happens on the first attempt, later ones are
  kept in `error` for the watcher to raise. Others (unreachable, 5xx, 429, a lost answer) are retried, said once
  per streak through `notice`.
- `release()` (after `stop()`) writes client-go's release record only if the Lease, read again, is still ours.
- Beyond client-go: a candidate also watches its Lease, and a release (an empty holder) or a deletion wakes it for an
  attempt at once, so a graceful stop hands over in moments rather than after up to 2.2 retry periods. The watch only
  wakes: every decision is still made from a read. Without the watch verb it falls back to client-go's polling
  (said once through `notice`), and it retries quietly after any other trouble.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import ApiError, Conflict, Forbidden, Invalid, KatesError, NotFound, ResourceTypeNotFound
from .lease import JITTER_FACTOR, Election, Monotonic, Timing, Wait, Wall, Write, wall_now
from .watch import SHORT_WATCH

if TYPE_CHECKING:
    from .client import Client, KubeObject

LEASES = "leases.coordination.k8s.io"
_REFUSED_VERB = re.compile(r'cannot (\w+) resource "')


class Leader:
    """One candidate for one Lease. `start()` it, read `leading()` / `permit_until()` / `kill_at()` from any thread,
    `stop()` then `release()` it."""

    def __init__(
        self,
        client: Client,
        namespace: str,
        name: str,
        identity: str,
        timing: Timing,
        *,
        on_gained: Callable[[], None] | None = None,
        on_renewed: Callable[[float], None] | None = None,
        on_lost: Callable[[str], None] | None = None,
        notice: Callable[[str], None] | None = None,
        monotonic: Monotonic = time.monotonic,
        wall: Wall = wall_now,
        jitter: Callable[[], float] = random.random,
        watch_releases: bool = True,
    ):
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
        self.on_gained = on_gained
        self.on_renewed = on_renewed
        self.on_lost = on_lost
        self.notice = notice
        self.monotonic = monotonic
        self.jitter = jitter
        self.watch_releases = watch_releases
        self._poked = False  # a release was seen: attempt now
        self._watch: Any = None  # the open watch response, aborted by stop()
        self.election = Election(identity, timing, monotonic, wall)
        self.error: KatesError | None = None  # a fatal error met by the background thread
        self.gains = 0  # terms started
        self._lease: KubeObject | None = None  # the Lease as last read or written (its resourceVersion)
        self._lock = threading.RLock()  # election state and callbacks
        self._wake = threading.Condition(self._lock)
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._trouble: str | None = None  # the transient error of the current streak, said once
        self._verb = "get"  # the request in flight, for a refusal that does not name its verb

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"

    # -- what the watcher reads ------------------------------------------------------------------------------

    def leading(self) -> bool:
        with self._lock:
            return self.election.leading()

    @property
    def renewed_at(self) -> float:
        return self.election.renewed_at

    def kill_at(self) -> float:
        with self._lock:
            return self.election.kill_at()

    def permit_until(self) -> float | None:
        with self._lock:
            return self.election.permit_until()

    def wait_leading(self, timeout: float) -> bool:
        """Wait up to `timeout` for this candidate to lead; whether it does."""
        end = self.monotonic() + timeout
        with self._wake:
            while not self.election.leading() and not self._stopped.is_set() and self.error is None:
                left = end - self.monotonic()
                if left <= 0:
                    break
                self._wake.wait(left)
            return self.election.leading()

    # -- life cycle ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """The first attempt in the caller's thread (so a forbidden Lease fails at once), then the loops."""
        self._attempt()
        loops = [(self._loop, "leader"), (self._watchdog, "leader-deadline")]
        if self.watch_releases:
            loops.append((self._watch_lease, "leader-watch"))
        for target, name in loops:
            thread = threading.Thread(target=target, name=f"kates-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """End the loops; leadership ends ("stopped") if held. The Lease is not released (see `release`)."""
        with self._wake:
            self._stopped.set()
            self._wake.notify_all()
            watch = self._watch
        if watch is not None:
            watch.abort()
        for thread in self._threads:
            if thread.name != "kates-leader-watch":  # only a wake-up; it may wait on a stalled server
                thread.join(10)
        with self._lock:
            if self.election.lose():
                self._lost("stopped")

    def release(self) -> bool:
        """client-go's release (after `stop`): read the Lease, and if it is still ours write an empty holder with
        leaseDurationSeconds 1, so another candidate acquires at once. Whether it released."""
        try:
            lease = self._get()
            with self._lock:
                self.election.observe(lease)
                write = self.election.release()
            if write is None or lease is None:
                return False
            answer = self._put(write, lease)
            with self._lock:
                self.election.released(write, answer)
            return True
        except KatesError as exc:
            self._say(f"could not release lease {self.where}: {exc.message}")
            return False
        except (ValueError, TypeError, AttributeError) as exc:  # an answer that is no Lease (see _attempt)
            self._say(f"could not release lease {self.where}: an answer that is not a Lease ({exc})")
            return False

    # -- the loops -------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self._attempt()
            except Exception as exc:  # fatal (a refusal), or a bug: never a silent end of the election
                if not isinstance(exc, KatesError):
                    exc = KatesError(f"leader election on lease {self.where} failed: {type(exc).__name__}: {exc}")
                with self._wake:
                    self.error = exc
                    if self.election.lose():
                        self._lost("stopped")
                    self._wake.notify_all()
                return
            with self._lock:
                leading = self.election.leading()
            period = self.timing.retry_period
            self._pause(period if leading else period * (1 + self.jitter() * JITTER_FACTOR))

    def _pause(self, seconds: float) -> None:
        end = self.monotonic() + seconds
        with self._wake:
            while not self._stopped.is_set():
                if self._poked:
                    self._poked = False
                    return
                left = end - self.monotonic()
                if left <= 0:
                    return
                self._wake.wait(left)

    def _watch_lease(self) -> None:
        """Wake the candidate loop when the Lease is released or deleted (see the module's invariants)."""
        path = f"/apis/coordination.k8s.io/v1/namespaces/{self.namespace}/leases"
        params = {"watch": "1", "fieldSelector": f"metadata.name={self.name}", "timeoutSeconds": "300"}
        while not self._stopped.is_set():
            try:
                response = self.client.transport.open("GET", path, params=params, timeout=None)
            except Forbidden as exc:
                self._say(
                    f"cannot watch lease {self.where} ({exc.code or 403}): a release is noticed at the next attempt "
                    "(every retry period, with jitter), not at once"
                )
                return  # client-go's polling alone
            except NotFound:
                return
            except KatesError:
                self._stopped.wait(self.timing.retry_period)
                continue
            with self._lock:
                self._watch = response
            opened, lines = self.monotonic(), 0
            try:
                if self._stopped.is_set():
                    return
                for line in response.lines():
                    lines += 1
                    event = orjson.loads(line) if line else {}
                    spec = (event.get("object") or {}).get("spec") or {}
                    if event.get("type") == "DELETED" or (event.get("type") and not spec.get("holderIdentity")):
                        with self._wake:
                            self._poked = True
                            self._wake.notify_all()
            except (KatesError, ValueError):
                self._stopped.wait(self.timing.retry_period)
            else:
                if not lines and self.monotonic() - opened < SHORT_WATCH:  # ended at once, empty (core/watch.py)
                    self._stopped.wait(self.timing.retry_period)
            finally:
                with self._lock:
                    self._watch = None
                response.close()

    def _watchdog(self) -> None:
        """Leadership ends at renewed_at + renew_deadline without a renewal, even while a request hangs."""
        with self._wake:
            while not self._stopped.is_set():
                if self.election.held and not self.election.leading():
                    self.election.lose()
                    try:
                        self._lost("renew deadline")
                    except Exception as exc:  # the watcher's callback failed: this thread must go on regardless
                        self._say(f"leader election on lease {self.where}: ending the term: {exc}")
                    continue
                left = self.election.deadline() - self.monotonic() if self.election.held else 1.0
                self._wake.wait(max(0.01, min(left, 1.0)))

    def _attempt(self) -> None:
        """One tryAcquireOrRenew; raises only fatal errors."""
        try:
            with self._lock:
                fast = self.election.fast_renewal()
                lease = self._lease
            if fast is not None and lease is not None:
                try:
                    self._write(fast, lease)
                    self._recovered()
                    return
                except Conflict:
                    pass  # someone else wrote the Lease: read it, as client-go's slow path does
            lease = self._get()
            with self._lock:
                self._lease = lease
                if self.election.observe(lease) == "taken":
                    self._lost("taken")
                if self._stopped.is_set():  # stopping: never acquire after (or while) `release` writes
                    return
                plan = self.election.decide()
            if isinstance(plan, Wait):
                self._recovered()
                return
            self._write(plan, lease)
            self._recovered()
        except Conflict:
            self._recovered()  # lost the race: the next attempt reads the winner
        except (Forbidden, Invalid, NotFound) as exc:
            raise self._fatal(exc) from exc
        except KatesError as exc:
            self._trouble_once(exc.message)
        except (ValueError, TypeError, AttributeError) as exc:
            # an answer that is no Lease (a proxy's HTML page: not JSON, or JSON of another shape): retried like a
            # failed request; leadership still ends at the renew deadline (the watchdog)
            self._trouble_once(f"an answer that is not a Lease ({type(exc).__name__}: {exc})")

    def _trouble_once(self, message: str) -> None:
        """Say a retried failure once per streak of the same failure."""
        if message != self._trouble:
            self._trouble = message
            self._say(f"leader election on lease {self.where}: {message}; retrying")

    def _recovered(self) -> None:
        self._trouble = None

    def _write(self, plan: Write, lease: KubeObject | None) -> None:
        sent = self.monotonic()  # before sending: see core/lease.py
        answer = self._create(plan) if plan.create else self._put(plan, lease)
        with self._wake:
            gained = self.election.succeeded(plan, sent, answer)
            self._lease = answer
            giving_back = None
            if self._stopped.is_set():  # answered after stop(): no term. A renewal is `release`'s to undo (it reads
                self.election.lose()  # the Lease after this lands, or this meets its 409); an acquire may have
                if gained:  # landed after `release` found nothing to release: it is given back at once
                    giving_back = self.election.release()
        if self._stopped.is_set():
            if giving_back is not None:
                try:
                    released = self._put(giving_back, answer)
                    with self._lock:
                        self.election.released(giving_back, released)
                except Conflict:
                    pass  # written since: by `release` in the stopping thread, or by another candidate
                except KatesError as exc:
                    self._say(f"could not release lease {self.where}: {exc.message}")
            return
        with self._wake:
            if not self.election.leading():  # answered after its own deadline (kates was frozen): no term
                self.election.lose()
                if not gained:
                    self._lost("renew deadline")
                return
            if self.on_renewed is not None:
                self.on_renewed(self.election.kill_at())
            if gained:
                self.gains += 1
                if self.on_gained is not None:
                    self.on_gained()
            self._wake.notify_all()

    def _lost(self, reason: str) -> None:
        """Under the lock: tell the watcher that leadership ended."""
        self._wake.notify_all()
        if self.on_lost is not None:
            self.on_lost(reason)

    def _say(self, text: str) -> None:
        if self.notice is not None:
            self.notice(text)

    # -- requests --------------------------------------------------------------------------------------------

    def _get(self) -> KubeObject | None:
        self._verb = "get"
        try:
            return self.client.get(LEASES, self.name, self.namespace)
        except ResourceTypeNotFound:
            raise
        except NotFound:
            return None  # no Lease yet (a missing namespace shows on create)

    def _create(self, plan: Write) -> KubeObject:
        self._verb = "create"
        body: dict[str, Any] = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": plan.record.spec(),
        }
        return self.client.create(body, self.namespace)

    def _put(self, plan: Write, lease: KubeObject | None) -> KubeObject:
        assert lease is not None
        self._verb = "update"
        body = dict(lease)
        body.setdefault("apiVersion", "coordination.k8s.io/v1")
        body.setdefault("kind", "Lease")
        body["spec"] = {**(lease.get("spec") or {}), **plan.record.spec()}  # other fields (strategy...) kept
        try:
            return self.client.update(body, self.namespace)  # carries metadata.resourceVersion: 409 if it moved
        except ResourceTypeNotFound:
            raise
        except NotFound as exc:  # deleted since we read it: a race lost like a 409 (the next read shows it gone)
            raise Conflict(exc.message, code=409) from exc

    def _fatal(self, exc: ApiError) -> KatesError:
        m = _REFUSED_VERB.search(exc.message)  # the verb the server names, else the one in flight
        verb = m.group(1) if m else self._verb
        if isinstance(exc, Forbidden):
            return type(exc)(
                f"cannot {verb} leases (lease {self.where}): {exc.message}",
                hint=f"kates watch --leader-elect needs get, create and update on {LEASES} in {self.namespace}",
                status=exc.status,
                code=exc.code,
                reason=exc.reason,
            )
        return type(exc)(f"lease {self.where}: {exc.message}", status=exc.status, code=exc.code, reason=exc.reason)
