"""The kates error tree and its exit codes.

Invariants:
- Every failure a user can cause or meet is a `KatesError` subclass; each class maps to exactly one
  `ExitCode`, and only `cli.app.main()` turns an error into a process exit.
- An error carries the server's `Status` message when there is one (`status` holds the raw Status dict).
- This module imports nothing from kates, so every other module may import it.
"""

from __future__ import annotations

from enum import IntEnum

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import Any


class ExitCode(IntEnum):
    """Process exit codes, documented in the README. kubectl uses 1 for everything; kates does not."""

    SUCCESS = 0
    ERROR = 1  # any failure without a more specific code
    USAGE = 2  # bad flags, arguments or input documents (also click's own usage errors)
    CONFIG = 3  # kubeconfig missing, unreadable or inconsistent
    NOT_FOUND = 4  # a named object or resource type does not exist
    FORBIDDEN = 5  # authenticated but not allowed (403) or not authenticated (401)
    UNREACHABLE = 6  # the API server could not be reached or timed out
    CONFLICT = 7  # 409: stale resourceVersion or the object already exists
    INVALID = 8  # 422: the server rejected the object as invalid
    HOOK_FAILED = 9  # a watch hook failed more often than allowed
    FENCED = 10  # a write inside a leader's hook refused: no permit from a watcher holding its lease
    TIMEOUT = 11  # `kates wait`: the time ran out before the conditions held (--timeout=0: they did not hold)
    INTERRUPTED = 130  # SIGINT / SIGTERM
    BROKEN_PIPE = 141  # stdout's reader went away (`kates get ... | head -1`); a shell shows 141 for SIGPIPE too


class KatesError(Exception):
    """Base class: a one-line message, an optional hint, and the server's Status if any."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None, status: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status


class UsageError(KatesError):
    exit_code = ExitCode.USAGE


class ConfigError(KatesError):
    exit_code = ExitCode.CONFIG


class ApiError(KatesError):
    """An error answered by the API server; `code` is the HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        code: int = 0,
        reason: str = "",
        hint: str | None = None,
        status: dict[str, Any] | None = None,
    ):
        super().__init__(message, hint=hint, status=status)
        self.code = code
        self.reason = reason


class NotFound(ApiError):
    exit_code = ExitCode.NOT_FOUND


class ResourceTypeNotFound(NotFound):
    """The server has no resource type by that name (raised by discovery, not by a 404). A usage error: the
    argument names nothing the server knows, which is not the same as a missing object."""

    exit_code = ExitCode.USAGE


class Forbidden(ApiError):
    exit_code = ExitCode.FORBIDDEN


class Unauthorized(Forbidden):
    pass


class Conflict(ApiError):
    exit_code = ExitCode.CONFLICT


class AlreadyExists(Conflict):
    pass


class Invalid(ApiError):
    exit_code = ExitCode.INVALID


class Gone(ApiError):
    """410: the requested resourceVersion is too old (watch must relist)."""


class Unreachable(KatesError):
    exit_code = ExitCode.UNREACHABLE


class TLSVerifyError(Unreachable):
    """The server's certificate failed verification (unknown CA, hostname mismatch, expired): not transient, so
    retrying cannot help; the message names the verification failure."""


class Uncertain(Unreachable):
    """A write whose answer was lost: the request was sent whole, then the connection failed, so the server may or
    may not have applied it. Never retried (a repeated create or generateName create would act twice); the caller
    reports it per object. `method` and `path` name the request."""

    def __init__(self, message: str, *, method: str = "", path: str = "", hint: str | None = None):
        super().__init__(message, hint=hint)
        self.method = method
        self.path = path


class Fenced(KatesError):
    """A write not sent because the hook's watcher gave no valid permit (`kates watch --leader-elect`): it does not
    hold its lease, it did not answer, or the permit expired before the request could be sent. Nothing reached the
    server."""

    exit_code = ExitCode.FENCED


class TimedOut(KatesError):
    """`kates wait` gave up: its --timeout passed (or, with --timeout=0, a condition did not hold)."""

    exit_code = ExitCode.TIMEOUT


class PartialFailure(KatesError):
    """Some of several operations failed, each already reported; the exit code is theirs if they agree."""

    def __init__(self, message: str, codes: set[ExitCode]):
        super().__init__(message)
        self.exit_code = codes.pop() if len(codes) == 1 else ExitCode.ERROR


class Interrupted(KatesError):
    exit_code = ExitCode.INTERRUPTED


class OutputError(KatesError):
    """The output could not be written: stdout refused it (ENOSPC, EIO, EFBIG: not a reader that went away, which
    is a broken pipe), or the temporary file a list is spooled to on its way there did."""


_BY_CODE: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
}


def from_status(code: int, status: dict[str, Any] | None, fallback: str = "") -> ApiError:
    """Build the matching ApiError from an HTTP code and a (possibly missing) Status body."""
    status = status if isinstance(status, dict) else None
    reason = str(status.get("reason", "")) if status else ""
    message = str(status.get("message", "")) if status else ""
    if not message:
        message = fallback or f"the server responded with HTTP {code}"
    if message.startswith(' "" is invalid: '):  # an Invalid about no kind and no name, e.g. a patch: kubectl's words
        message = "the request is invalid: " + message[len(' "" is invalid: ') :]
    cls: type[ApiError] = _BY_CODE.get(code, ApiError)
    if code == 409 and reason == "AlreadyExists":
        cls = AlreadyExists
    return cls(message, code=code, reason=reason, status=status)
