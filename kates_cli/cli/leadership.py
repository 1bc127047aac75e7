"""`kates watch --leader-elect`: the flags turned into a Lease candidate, and what leadership means for the hook.

Invariants:
- Every leader-election flag is checked before any request: `--lease` is required with `--leader-elect`, and the
  other leader flags are refused without it (a replica that silently ran every hook would defeat the point);
  durations are Go durations with client-go's rules (core.lease.Timing.problem), a bad one is a usage error.
- The identity is `--identity`, else $POD_NAME, else the hostname plus a random suffix (two processes on one host
  never share one: client-go lets a holder's identity take its Lease back at once).
- The hook is fenced by cli/hook.py (HookRunner.fence when leadership ends, Reaper.fence after every renewal): SIGTERM
  to its process group at once, SIGKILL by min(kill_at, now + --grace-period), kill_at = last renewal + lease
  duration - retry period, as HELP says.
"""

from __future__ import annotations

import os
import secrets
import socket

from ..core.lease import Timing
from ..core.records import record
from ..errors import UsageError

DEFAULTS = {"--lease-duration": "15s", "--renew-deadline": "10s", "--retry-period": "2s"}

HELP = (
    "LEADER ELECTION: with --leader-elect --lease NAME, several replicas share one Lease (coordination.k8s.io/v1, "
    "client-go's protocol: a client-go candidate can share it). Every replica bootstraps and keeps its snapshot "
    "current; only the leader runs the hook (or prints), and a replica that becomes leader runs it at once on the "
    "snapshot it holds, without relisting (KATES_DELTAS: the net change since this replica's last successful run; "
    "every object as an add for a replica that never ran). The leader renews every retry period; with no "
    "successful renewal for the renew deadline, or when the Lease is seen taken, it stops leading. Its running "
    "hook then gets SIGTERM at once, and its process group SIGKILL at the latest at T + lease duration - retry "
    "period (T: when the last successful renewal was sent; earlier when --grace-period is shorter), one retry "
    "period before any other replica may take the Lease: with the defaults 15s, 10s and 2s, 13s after T. A "
    "separate reaper process enforces that deadline even when kates itself is frozen. Writes made through kates "
    "inside the hook need a permit from this process, valid until T + renew deadline; without one they fail with "
    "exit 10 (FENCED) and are not sent. On SIGINT/SIGTERM the leader stops its hook, then releases the Lease; the "
    "other replicas watch it, so one leads at once (without the watch verb on the Lease, at its next attempt: up "
    "to 2.2 retry periods with client-go's jitter). With --once, "
    "kates waits to lead, runs once (again if leadership ended during the run), releases and exits with the "
    "hook's code. Leader flags without --leader-elect are usage errors."
)


@record(frozen=True)
class LeaseOptions:
    namespace: str
    name: str
    identity: str
    timing: Timing

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"


def default_identity() -> str:
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}_{secrets.token_hex(4)}"


def parse_options(
    leader_elect: bool,
    lease: str | None,
    namespace: str | None,
    identity: str | None,
    durations: dict[str, str | None],
    default_namespace: str,
) -> LeaseOptions | None:
    """The leader-election flags -> LeaseOptions (None without --leader-elect), or a UsageError."""
    from .durations import parse_duration

    flags = [("--lease", lease), ("--lease-namespace", namespace), ("--identity", identity), *durations.items()]
    given = [flag for flag, value in flags if value is not None]
    if not leader_elect:
        if given:
            raise UsageError(f"{given[0]} needs --leader-elect", hint="add --leader-elect --lease NAME")
        return None
    if not lease:
        raise UsageError("--leader-elect needs --lease NAME", hint="e.g. --leader-elect --lease my-watch")
    if identity is not None and not identity:
        raise UsageError("--identity must not be empty")
    seconds = {flag: parse_duration(value or DEFAULTS[flag], flag) for flag, value in durations.items()}
    timing = Timing(seconds["--lease-duration"], seconds["--renew-deadline"], seconds["--retry-period"])
    problem = timing.problem()
    if problem is not None:
        shown = ", ".join(f"{flag} {durations[flag] or DEFAULTS[flag]}" for flag in DEFAULTS)
        raise UsageError(f"{problem} (got {shown})")
    return LeaseOptions(namespace or default_namespace, lease, identity or default_identity(), timing)
