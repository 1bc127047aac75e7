"""Leader election on a coordination.k8s.io/v1 Lease, as client-go's `leaderelection` does it, as a pure state
machine: no I/O, an injected monotonic clock (every decision) and an injected wall clock (only for the MicroTime
fields written into the Lease). `core/leader.py` runs it against the API server.

Invariants:
- Expiry of another holder's Lease is judged only by the local monotonic clock: it has expired when
  `observed_at + leaseDurationSeconds` (the record's own duration, as client-go) has passed, where `observed_at` is
  the monotonic time at which this process last saw the Lease's record change (client-go compares the record; a
  write of the Lease's labels or annotations alone changes its resourceVersion, not its record). Remote
  timestamps (acquireTime, renewTime) are written for people and other clients, never compared.
- A Lease deleted while another identity holds it counts as held until that record would have expired by our clock
  (`observe` keeps the record and its time): a `kubectl delete lease` does not hand leadership over at once while
  the holder still believes it leads.
- A candidate writes (acquires) only a Lease that is absent, has no holder, has expired, or names this identity
  (client-go's rule: a restarted process with the same identity takes its Lease back at once; identities must be
  unique). Every write carries the resourceVersion last read, so of two candidates racing only one wins (409).
- Records are kept as client-go keeps them: holderIdentity, leaseDurationSeconds (the lease duration rounded up to
  whole seconds, so others never wait less than ours), acquireTime (set when the holder changes, kept on renewal),
  renewTime (every write), leaseTransitions (+1 when the holder changes, kept on renewal and on release), MicroTime
  as "2006-01-02T15:04:05.000000Z". Release writes an empty holder, leaseDurationSeconds 1, keeps transitions
  (client-go's ReleaseOnCancel), so any other candidate may acquire at once.
- `renewed_at` is the monotonic time taken *before* sending the last successful acquire/renew write. Others can
  only have seen that write after it, so none can acquire before `renewed_at + lease_duration` by its own clock
  (clocks running at the same rate: CLOCK_MONOTONIC on one machine, or nodes whose rates differ less than
  lease_duration / renew_deadline, as client-go documents).
- This process believes it leads exactly while it holds the Lease and `now < renewed_at + renew_deadline` (or
  `lease_duration - retry_period` from renewed_at, where that is sooner: a term never outlives `kill_at`); belief
  ends at once when the Lease is seen held by another identity. As renew_deadline < lease_duration, two candidates
  never believe they lead at overlapping times.
- `kill_at = renewed_at + lease_duration - retry_period`: the latest instant a fenced hook may live, one retry
  period before any other candidate could acquire.
- Timing is validated with client-go's rules, all durations > 0, lease_duration > renew_deadline >
  retry_period x JITTER_FACTOR.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from .records import record

JITTER_FACTOR = 1.2  # client-go's: an acquire retry waits retry_period x (1 + rand x 1.2)
MICRO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"  # Go's metav1.MicroTime: 2006-01-02T15:04:05.000000Z

Monotonic = Callable[[], float]
Wall = Callable[[], datetime]


def micro_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime(MICRO_TIME)


def wall_now() -> datetime:
    return datetime.now(UTC)


@record(frozen=True)
class Timing:
    """The three durations, in seconds (client-go's LeaseDuration, RenewDeadline, RetryPeriod)."""

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def problem(self) -> str | None:
        """Why this timing is refused (client-go's rules, with kates's flag names), or None."""
        if self.lease_duration <= 0:
            return "--lease-duration must be greater than zero"
        if self.renew_deadline <= 0:
            return "--renew-deadline must be greater than zero"
        if self.retry_period <= 0:
            return "--retry-period must be greater than zero"
        if self.lease_duration <= self.renew_deadline:
            return "--lease-duration must be greater than --renew-deadline"
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            return f"--renew-deadline must be greater than --retry-period x {JITTER_FACTOR:g} (client-go's jitter)"
        return None

    @property
    def lease_seconds(self) -> int:
        """leaseDurationSeconds as written: whole seconds, rounded up (others judge expiry by it)."""
        return max(1, math.ceil(self.lease_duration - 1e-9))

    def kill_at(self, renewed_at: float) -> float:
        return renewed_at + self.lease_duration - self.retry_period

    def permit_until(self, renewed_at: float) -> float:
        """The end of a term without a renewal: the renew deadline, but never after `kill_at` (a renew deadline
        within a retry period of the lease duration, which client-go allows, would have the reaper kill a hook
        while kates still led)."""
        return renewed_at + min(self.renew_deadline, self.lease_duration - self.retry_period)


@record(frozen=True)
class Record:
    """client-go's LeaderElectionRecord, as a Lease's spec holds it."""

    holder: str = ""
    lease_duration_seconds: int = 0
    acquire_time: str | None = None
    renew_time: str | None = None
    transitions: int = 0

    @classmethod
    def of(cls, lease: dict[str, Any]) -> Record:
        spec = lease.get("spec") or {}
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            lease_duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
            acquire_time=spec.get("acquireTime"),
            renew_time=spec.get("renewTime"),
            transitions=int(spec.get("leaseTransitions") or 0),
        )

    def spec(self) -> dict[str, Any]:
        """The Lease spec fields this record sets (client-go writes all five, the empty holder included)."""
        return {
            "holderIdentity": self.holder,
            "leaseDurationSeconds": self.lease_duration_seconds,
            "acquireTime": self.acquire_time,
            "renewTime": self.renew_time,
            "leaseTransitions": self.transitions,
        }


@record(frozen=True)
class Write:
    """Write `record`: create the Lease (`create`) or update the version last read."""

    record: Record
    create: bool = False
    acquiring: bool = False  # becoming the holder (vs renewing what this identity already holds)


@record(frozen=True)
class Wait:
    """Held by another identity whose Lease has not expired (by our clock) for `expires_in` more seconds."""

    holder: str
    expires_in: float


class Election:
    """One candidate's view of one Lease. Feed it what was read (`observe`), ask what to do (`decide`, or
    `fast_renewal` first while leading), and tell it how the write went (`succeeded`). Not thread-safe: the caller
    serialises calls."""

    def __init__(self, identity: str, timing: Timing, monotonic: Monotonic, wall: Wall = wall_now):
        if not identity:
            raise ValueError("the identity is empty")
        self.identity = identity
        self.timing = timing
        self.monotonic = monotonic
        self.wall = wall
        self.observed: Record | None = None  # the record last read or written; None: no Lease (or never read)
        self.observed_version: str | None = None
        self.observed_at: float | None = None  # monotonic time the observation last changed
        self.absent = True  # the last read found no Lease (`observed` may still hold a deleted one's record)
        self.held = False  # this process holds the Lease (acquired and not since lost or released)
        self.renewed_at = -math.inf  # monotonic time taken before sending the last successful acquire/renew

    # -- what we know --------------------------------------------------------------------------------------

    def leading(self, now: float | None = None) -> bool:
        now = self.monotonic() if now is None else now
        return self.held and now < self.timing.permit_until(self.renewed_at)

    def permit_until(self, now: float | None = None) -> float | None:
        return self.timing.permit_until(self.renewed_at) if self.leading(now) else None

    def kill_at(self) -> float:
        return self.timing.kill_at(self.renewed_at)

    def deadline(self) -> float:
        """When leadership ends without a renewal."""
        return self.timing.permit_until(self.renewed_at)

    def _expired(self, now: float) -> bool:
        if self.observed is None or self.observed_at is None:
            return True
        return now >= self.observed_at + self.observed.lease_duration_seconds

    def observe(self, lease: dict[str, Any] | None) -> str | None:
        """What a read returned (None: no Lease). Returns "taken" when this ends our leadership (another holder)."""
        record = Record.of(lease) if lease is not None else None
        version = str((lease or {}).get("metadata", {}).get("resourceVersion") or "") or None
        self.absent = lease is None
        old = self.observed
        if (
            lease is None
            and old is not None
            and old.holder
            and old.holder != self.identity
            and not self._expired(self.monotonic())
        ):
            pass  # deleted while another holds it: its record and time stand, so none takes it before it expires
        else:
            if record != old or self.observed_at is None:  # the record, not the version (client-go): a label or
                self.observed_at = self.monotonic()  # annotation written by someone else does not restart the clock
            self.observed, self.observed_version = record, version
        if self.held and (record is None or record.holder != self.identity):
            self.held = False
            return "taken"
        return None

    # -- what to do ----------------------------------------------------------------------------------------

    def _now_record(self) -> Record:
        stamp = micro_time(self.wall())
        return Record(self.identity, self.timing.lease_seconds, stamp, stamp, 0)

    def fast_renewal(self) -> Write | None:
        """While leading: the renewal to try on the version last seen, before reading (client-go's fast path)."""
        if not self.leading() or self.observed is None or self.observed.holder != self.identity:
            return None
        mine = self._now_record()
        return Write(replace(mine, acquire_time=self.observed.acquire_time, transitions=self.observed.transitions))

    def decide(self) -> Write | Wait:
        """After `observe`: acquire, renew, or wait (client-go's tryAcquireOrRenew, steps 2-4)."""
        mine = self._now_record()
        old = self.observed
        now = self.monotonic()
        if old is not None and old.holder and old.holder != self.identity and not self._expired(now):
            assert self.observed_at is not None
            return Wait(old.holder, self.observed_at + old.lease_duration_seconds - now)
        if old is None or self.absent:
            return Write(mine, create=True, acquiring=True)
        if old.holder == self.identity:
            return Write(
                replace(mine, acquire_time=old.acquire_time, transitions=old.transitions), acquiring=not self.held
            )
        return Write(replace(mine, transitions=old.transitions + 1), acquiring=True)

    def succeeded(self, write: Write, sent_at: float, lease: dict[str, Any] | None = None) -> bool:
        """The write (sent at monotonic `sent_at`) was accepted; `lease` is the server's answer. Returns whether
        this gained leadership (False for a renewal)."""
        gained = not self.held
        self.observed, self.absent = write.record, False
        version = str((lease or {}).get("metadata", {}).get("resourceVersion") or "") or None
        self.observed_version = version
        self.observed_at = self.monotonic()
        self.held = True
        self.renewed_at = sent_at
        return gained

    def lose(self) -> bool:
        """Stop holding (renew deadline passed, or stopped). Returns whether we held."""
        held, self.held = self.held, False
        return held

    def release(self) -> Write | None:
        """client-go's release: empty holder, leaseDurationSeconds 1, transitions kept; None when the Lease as last
        observed is not ours (nothing to release)."""
        old = self.observed
        if old is None or old.holder != self.identity:
            return None
        stamp = micro_time(self.wall())
        return Write(Record("", 1, stamp, stamp, old.transitions))

    def released(self, write: Write, lease: dict[str, Any] | None = None) -> None:
        self.held = False
        self.observed, self.absent = write.record, False
        self.observed_version = str((lease or {}).get("metadata", {}).get("resourceVersion") or "") or None
        self.observed_at = self.monotonic()
