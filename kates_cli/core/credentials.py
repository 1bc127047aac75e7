"""The exec credential plugin's credential, shared by the whole process, as client-go's exec authenticator keeps it.

Invariants:
- One `ExecAuthenticator` per (exec stanza, cluster server) per process (`exec_authenticator`): however many
  transports or threads ask, the plugin runs once and its credential is reused.
- A credential is reused until its `status.expirationTimestamp` has passed (client-go: `now.After(exp)`, no skew);
  one without an expiry is reused for the life of the process. An expired credential makes the next `get()` run
  the plugin again.
- `refresh(used)` after a 401 runs the plugin again only if `used` is still the current credential: when several
  requests fail with the same stale credential, the plugin runs once, not once per request (client-go's
  `maybeRefreshCreds`).
- The plugin runs under a lock, so two threads never run it at the same time; a failure raises `ConfigError`
  (from `config.run_exec_plugin`) and caches nothing.
- The plugin is interactive (it gets kates's stdin, and `"interactive": true` in KUBERNETES_EXEC_INFO; no time
  limit, as a browser login may take minutes) exactly when kates's stdin is a terminal, as client-go decides it;
  otherwise (a hook, a pipe, CI) it gets no stdin, and `interactiveMode: Always` fails.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable

from .config import ExecCredential, run_exec_plugin

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import Any

Runner = Callable[..., ExecCredential]


class ExecAuthenticator:
    """Runs one exec plugin when a credential is needed and none valid is cached."""

    def __init__(
        self,
        exec_config: dict[str, Any],
        cluster_server: str,
        *,
        clock: Callable[[], float] = time.time,
        run: Runner = run_exec_plugin,
    ):
        self.exec_config = exec_config
        self.cluster_server = cluster_server
        self._clock = clock
        self._run = run
        self._lock = threading.Lock()
        self._cred: ExecCredential | None = None

    def _expired(self, cred: ExecCredential) -> bool:
        return cred.expires_at is not None and self._clock() > cred.expires_at

    def get(self) -> ExecCredential:
        """The cached credential, or a new one from the plugin if there is none or it has expired."""
        with self._lock:
            if self._cred is None or self._expired(self._cred):
                self._cred = self._run(self.exec_config, cluster_server=self.cluster_server, interactive=_interactive())
            return self._cred

    def refresh(self, used: ExecCredential) -> ExecCredential:
        """After a 401 with `used`: run the plugin again, unless another caller already has."""
        with self._lock:
            if self._cred is used or self._cred is None:
                self._cred = self._run(self.exec_config, cluster_server=self.cluster_server, interactive=_interactive())
            return self._cred


def _interactive() -> bool:
    """Whether the plugin may talk to the user: kates's stdin is a terminal (client-go's isInteractive)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):  # closed
        return False


_AUTHENTICATORS: dict[str, ExecAuthenticator] = {}
_AUTHENTICATORS_LOCK = threading.Lock()


def exec_authenticator(exec_config: dict[str, Any], cluster_server: str) -> ExecAuthenticator:
    """The process's authenticator for this exec stanza and cluster (client-go's globalCache)."""
    key = json.dumps([exec_config, cluster_server], sort_keys=True, default=str)
    with _AUTHENTICATORS_LOCK:
        found = _AUTHENTICATORS.get(key)
        if found is None:
            found = _AUTHENTICATORS[key] = ExecAuthenticator(exec_config, cluster_server)
        return found
