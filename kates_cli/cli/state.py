"""The per-invocation state shared by every command: global options, the client (built on first use) and the
terminal environment. Commands receive it through `ctx.obj`; tests may build one directly."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.client import Client


@dataclass
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


@dataclass
class State:
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
