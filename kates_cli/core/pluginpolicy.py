"""The exec credential plugin policy of a kuberc (`credentialPluginPolicy`, `credentialPluginAllowlist`), as
client-go's exec authenticator enforces it (plugin/pkg/client/auth/exec: updateCommandAndCheckAllowlistLocked).

Invariants:
- One policy per process, set once by the CLI from the kuberc before any command runs (`set_policy`), or, for a
  shell's completion request, made from it when a plugin first needs it (`set_loader`); the library alone never
  sets one, so a library user's plugins run as before (client-go's default: AllowAll).
- `check(command)` runs before the plugin starts: a plugin the policy refuses never runs, and the refusal is a
  ConfigError in client-go's words (`plugin path "..." is not permitted by the credential plugin allowlist`).
- A command is allowed when the allowlist names it verbatim (after path cleaning), or names its path as found on
  PATH, or holds an entry of the same base name that resolves on PATH to the same file (client-go's three checks).
- `validate` words a misconfigured policy as client-go's ValidatePluginPolicy does.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..errors import ConfigError
from .records import record

ALLOW_ALL, DENY_ALL, ALLOWLIST = "AllowAll", "DenyAll", "Allowlist"


@record(frozen=True)
class Policy:
    type: str = ""  # "" means AllowAll
    allowlist: tuple[str, ...] | None = None  # the entries' `command`; None when the kuberc has no allowlist


_POLICY = Policy()
_LOADER: Callable[[], Policy] | None = None


def set_policy(policy: Policy) -> None:
    global _POLICY, _LOADER
    _POLICY, _LOADER = policy, None


def set_loader(loader: Callable[[], Policy]) -> None:
    """The policy, made by `loader` when it is first needed (a shell's completion request: its kuberc is read only
    if an exec plugin is about to run, so a completion that runs none never imports the kuberc's reader)."""
    global _LOADER
    _LOADER = loader


def current() -> Policy:
    global _POLICY, _LOADER
    if _LOADER is not None:
        loader, _LOADER = _LOADER, None
        _POLICY = loader()
    return _POLICY


def validate(policy: Policy) -> str | None:
    """client-go's ValidatePluginPolicy: the error's words, or None."""
    if policy.type in ("", ALLOW_ALL, DENY_ALL):
        if policy.allowlist is not None:
            return (
                f'misconfigured credential plugin allowlist: plugin policy is "{policy.type}" but allowlist is non-nil'
            )
        return None
    if policy.type != ALLOWLIST:
        return f'unknown plugin policy: "{policy.type}"'
    if policy.allowlist is None:
        return f'credential plugin policy set to "{ALLOWLIST}", but allowlist is unspecified'
    if not policy.allowlist:
        return f'credential plugin policy set to "{ALLOWLIST}", but allowlist is empty; use "{DENY_ALL}" policy instead'
    for i, entry in enumerate(policy.allowlist):
        if not entry:
            return f"misconfigured credential plugin allowlist: empty allowlist entry #{i + 1}"
    return None


def _look_path(command: str) -> str | None:
    """Go's exec.LookPath: a name with a separator is used as is (if executable), otherwise searched on PATH."""
    if os.sep in command:
        return command if os.path.isfile(command) and os.access(command, os.X_OK) else None
    import shutil  # lazily: start-up (a plain `kates get` never needs it)

    return shutil.which(command)


def check(command: str, policy: Policy | None = None) -> None:
    """Raise ConfigError unless `policy` (default: the process's) lets the plugin `command` run."""
    policy = policy or current()
    if policy.type in ("", ALLOW_ALL):
        return
    cmd = os.path.normpath(command)
    if policy.type == DENY_ALL:
        raise ConfigError(f'getting credentials: plugin "{cmd}" not allowed: policy set to "{DENY_ALL}"')
    if policy.type != ALLOWLIST:
        raise ConfigError(f'getting credentials: unknown plugin policy "{policy.type}"')
    entries = set(policy.allowlist or ())
    if cmd in entries:
        return
    resolved = _look_path(cmd)
    if resolved is None:
        raise ConfigError(
            f'getting credentials: plugin path "{cmd}" cannot be resolved for credential plugin allowlist check: '
            f'exec: "{cmd}": executable file not found in $PATH'
        )
    if resolved in entries:
        return
    base = os.path.basename(resolved)
    for entry in policy.allowlist or ():
        if os.path.basename(entry) == base and _look_path(entry) == resolved:
            return
    raise ConfigError(
        f'getting credentials: plugin path "{resolved}" is not permitted by the credential plugin allowlist'
    )
