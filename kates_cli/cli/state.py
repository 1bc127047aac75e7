"""The per-invocation state shared by every command: global options, the client (built on first use) and the
terminal environment. Commands receive it through `ctx.obj`; tests may build one directly."""

from __future__ import annotations

import os
import sys
from dataclasses import field

from ..core.records import record

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import IO

    from ..core.client import Client


@record
class Env:
    """Where output goes and whether it is a terminal (injected so tests can vary it)."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)

    @property
    def stdout_tty(self) -> bool:
        return _isatty(self.stdout) and not os.environ.get("NO_COLOR")

    @property
    def stderr_tty(self) -> bool:
        return _isatty(self.stderr) and not os.environ.get("NO_COLOR")


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@record
class State:
    """The global options of one kates command, and the client made from them (once)."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    namespaces: list[str] = field(default_factory=list)  # every -n given (logs takes several)
    namespace_explicit: bool = False  # -n was given (not just $KATES_NAMESPACE)
    request_timeout: float | None = None
    debug: bool = False
    env: Env = field(default_factory=Env)
    _client: Client | None = None

    def client(self) -> Client:
        if self._client is None:
            from ..core.client import Client

            self._client = Client(self.kubeconfig, self.context, self.namespace, self.request_timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def from_options(
    kubeconfig: str | None,
    context: str | None,
    namespace: list[str] | None,
    request_timeout: float | None = None,
    debug: bool = False,
) -> State:
    """The State of the root command's global options, as every path that parses them builds it (cli/root.py, and
    cli/fastget.py for the commonest `get`). Inside a `kates watch` hook, KATES_CONTEXT and KATES_NAMESPACE name the
    watcher's cluster: they are the defaults."""
    env_ns = os.environ.get("KATES_NAMESPACE") or None
    given = [ns for value in namespace or [] for ns in value.split(",") if ns]  # -n a,b -n c
    return State(
        kubeconfig=kubeconfig,
        context=context or os.environ.get("KATES_CONTEXT") or None,
        namespace=given[-1] if given else env_ns,
        namespace_explicit=bool(given),
        namespaces=list(given or ([env_ns] if env_ns else [])),
        request_timeout=request_timeout or None,
        debug=debug,
    )
