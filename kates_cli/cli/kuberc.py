"""kubectl's kuberc (kubectl.config.k8s.io v1beta1 and v1alpha1 `Preference`): `aliases` and `defaults` rewrite the
command line before `argv.normalize` reads it, and `credentialPluginPolicy` / `credentialPluginAllowlist` set the
process's exec plugin policy (core/pluginpolicy.py). The rules are k8s.io/kubectl pkg/kuberc's.

Invariants:
- The file is `--kuberc PATH`, else $KUBERC, else ~/.kube/kuberc. `KUBECTL_KUBERC=false` turns kuberc off (and
  `--kuberc` is then an unknown flag, as in kubectl); so does `KUBERC=off` (with `--kuberc` an error).
- ~/.kube/kuberc is read only when it exists; yaml is imported only then (a plain `kates get` pays one stat()).
  A missing or unreadable default file, or one without a valid Preference, is a warning and kates goes on; the
  same with a file named by `--kuberc` or $KUBERC is a ConfigError. Unknown fields are a warning; the rest is used.
- An alias applies only when the first word that is not an option names no built-in command: an alias never shadows
  one (kubectl warns when asked to). `NAME ARGS` becomes `COMMAND [alias options] PREPEND... ARGS APPEND...`; the
  alias's options are defaults: skipped when the command line spells the flag (long form, or its shorthand).
- `defaults` apply to the built-in command itself (not to an alias of it), each option only when the command line
  does not spell it; they go right after the command's name, so a flag given on the command line (which comes later)
  wins, and so does the alias's prepended or appended one.
- A `defaults` entry for a command kubectl has and kates does not (`apply`), or a flag kates's command lacks, is
  skipped (a kuberc is shared with kubectl); a command neither has is kubectl's warning.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import field
from typing import Any, TextIO

import click

from ..core.records import record
from ..errors import ConfigError, UsageError
from .argv import find_command, option_table

GROUP = "kubectl.config.k8s.io"
VERSIONS = ("v1beta1", "v1alpha1")
# kubectl's commands (1.37): a kuberc default for one of these that kates lacks is not worth a warning
KUBECTL_COMMANDS = frozenset(
    "create expose run set explain get edit delete rollout scale autoscale certificate cluster-info top cordon "
    "uncordon drain taint describe logs attach exec port-forward proxy cp auth debug events diff apply patch "
    "replace wait kustomize label annotate completion alpha api-resources api-versions config plugin version "
    "options kuberc".split()
)
_ALIAS_NAME = re.compile(r"^[a-zA-Z]+$")
_SHORTHANDS = re.compile(r"^-[a-zA-Z]+$")


@record
class Options:
    command: str
    options: list[tuple[str, str]]  # (flag name, default)


@record
class Alias(Options):
    name: str = ""
    prepend: list[str] = field(default_factory=list)
    append: list[str] = field(default_factory=list)


@record
class Preference:
    defaults: list[Options] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    policy: str = ""
    allowlist: list[str] | None = None


def disabled() -> bool:
    return os.environ.get("KUBECTL_KUBERC", "").lower() == "false"


def apply(argv: Sequence[str], root: click.Group, prog: str = "kates", err: TextIO | None = None) -> list[str]:
    """`argv` (without the program name) rewritten by the kuberc's aliases and defaults; sets the plugin policy.
    Raises ConfigError for a kuberc kubectl refuses to use."""
    args = list(argv)
    err = err or sys.stderr
    if disabled():
        for arg in args:
            if arg == "--":
                break
            if arg == "--kuberc" or arg.startswith("--kuberc="):
                raise UsageError("unknown flag: --kuberc")
        return args
    if not args:
        return args
    pref = _load(_explicit(args), err)
    if pref is None:
        return args
    from ..core import pluginpolicy

    policy = pluginpolicy.Policy(pref.policy, None if pref.allowlist is None else tuple(pref.allowlist))
    _validate(pref, policy)
    pluginpolicy.set_policy(policy)
    ctx = click.Context(root, info_name=prog)
    alias = _alias_name(root, ctx, pref, args)
    if alias is None:
        return _defaults(root, ctx, pref, args, err)
    if any(entry.command.split() == [alias] for entry in pref.defaults):
        raise ConfigError(f"alias {alias} can not be overridden")
    args, _ = _aliases(root, ctx, pref, args, prog, err)
    return args


def plugin_policy() -> Any:
    """The kuberc's credential plugin policy alone (a `pluginpolicy.Policy`): for a shell's completion request, which
    runs no command but may run the user's exec plugin to list names. A kuberc named by $KUBERC that cannot be used,
    or a policy kubectl refuses, denies every plugin (kubectl would refuse the command: no plugin would run);
    completion prints nothing of it."""
    from ..core import pluginpolicy

    if disabled():
        return pluginpolicy.Policy()
    try:
        pref = _load("", io.StringIO())
        if pref is None:
            return pluginpolicy.Policy()
        policy = pluginpolicy.Policy(pref.policy, None if pref.allowlist is None else tuple(pref.allowlist))
        problem = pluginpolicy.validate(policy)
    except ConfigError:
        problem = "unusable"
    return pluginpolicy.Policy(pluginpolicy.DENY_ALL) if problem else policy


def _alias_name(root: click.Group, ctx: click.Context, pref: Preference, args: list[str]) -> str | None:
    """The alias the command line runs, if any (kubectl: the first word not an option, when no built-in is run)."""
    if find_command(args, root, ctx) is not None:
        return None
    name = next((a for a in args if not a.startswith("-")), None)
    return name if any(alias.name == name for alias in pref.aliases) else None


def _explicit(args: list[str]) -> str:
    """kubectl's getExplicitKuberc: `--kuberc PATH` or `--kuberc=PATH` before `--`."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--kuberc":
            if i + 1 < len(args):
                return args[i + 1]
            raise ConfigError("kuberc file is not found")
        if "--kuberc=" in arg:
            value = arg.split("=")[1]
            if value:
                return value
            raise ConfigError("kuberc file is not found")
    return ""


def _load(flag: str, err: TextIO) -> Preference | None:
    """kubectl's LoadKuberc + DefaultGetPreferences."""
    env = os.environ.get("KUBERC", "")
    if env == "off":
        if flag:
            raise ConfigError(
                "kuberc error disabling kuberc via KUBERC=off and passing kuberc flag are mutually exclusive"
            )
        return None
    default = os.path.join(os.path.expanduser("~"), ".kube", "kuberc")
    path, explicit = (flag, True) if flag else ((env, True) if env else (default, False))
    if not explicit and not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        reason = f"open {path}: {(exc.strerror or str(exc)).lower()}"
        if explicit:
            raise ConfigError(f"kuberc error kuberc: {reason}") from None
        err.write(f"kuberc: no preferences loaded from {path}: {reason}\n")
        return None
    pref, problem, unknown = _decode(data, path)
    if pref is not None:
        if unknown:
            err.write(f"kuberc: ignoring strict decoding error in {path}: strict decoding error: {unknown}\n")
        return pref
    if problem is None:
        return None
    if explicit:
        raise ConfigError(f"kuberc error kuberc: {problem}")
    err.write(f"kuberc: no preferences loaded from {path}: {problem}\n")
    return None


def _decode(data: bytes, path: str) -> tuple[Preference | None, str | None, str]:
    """The first document that is a Preference -> (it, None, unknown-field message); (None, problem, "") when
    documents were there but none is one; (None, None, "") for an empty file."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = [d for d in yaml.load_all(data, Loader=loader) if d is not None]  # a safe loader
    except yaml.YAMLError:
        docs = [None]  # a document that does not decode
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        if (
            kind != "Preference"
            or not isinstance(api_version, str)
            or api_version not in {f"{GROUP}/{v}" for v in VERSIONS}
        ):
            continue
        try:
            pref, unknown = _preference(doc, api_version.rpartition("/")[2])
        except (TypeError, ValueError, AttributeError):
            continue  # not even a lenient decode: the next document
        return pref, None, unknown
    if docs:
        return None, f"no valid preferences found in {path}, use --v=5 to see details", ""
    return None, None, ""


def _strs(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("a list of strings")
    return list(value)


def _str(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError("a string")
    return value


def _fields(item: Any, known: set[str], unknown: list[str]) -> dict[str, Any]:
    if item is None:
        return {}
    if not isinstance(item, dict):
        raise TypeError("an object")
    unknown += [f'unknown field "{k}"' for k in item if k not in known]
    return item


def _preference(doc: dict[str, Any], version: str) -> tuple[Preference, str]:
    beta = version == "v1beta1"
    defaults_key, options_key = ("defaults", "options") if beta else ("overrides", "flags")
    top = {"apiVersion", "kind", defaults_key, "aliases"}
    if beta:
        top |= {"credentialPluginPolicy", "credentialPluginAllowlist"}
    unknown: list[str] = []
    _fields(doc, top, unknown)

    def options(items: Any) -> list[tuple[str, str]]:
        out = []
        for item in items or []:
            o = _fields(item, {"name", "default"}, unknown)
            out.append((_str(o.get("name")), _str(o.get("default"))))
        return out

    pref = Preference()
    for item in doc.get(defaults_key) or []:
        d = _fields(item, {"command", options_key}, unknown)
        pref.defaults.append(Options(_str(d.get("command")), options(d.get(options_key))))
    for item in doc.get("aliases") or []:
        a = _fields(item, {"name", "command", "prependArgs", "appendArgs", options_key}, unknown)
        pref.aliases.append(
            Alias(
                _str(a.get("command")),
                options(a.get(options_key)),
                name=_str(a.get("name")),
                prepend=_strs(a.get("prependArgs")),
                append=_strs(a.get("appendArgs")),
            )
        )
    if beta:
        pref.policy = _str(doc.get("credentialPluginPolicy"))
        allow = doc.get("credentialPluginAllowlist")
        if allow is not None:
            pref.allowlist = [_str(_fields(e, {"command"}, unknown).get("command")) for e in allow]
    return pref, ", ".join(unknown)


def _validate(pref: Preference, policy: Any) -> None:
    """kubectl's Preferences.validate, in its words."""
    from ..core import pluginpolicy

    def flags(options: list[tuple[str, str]]) -> None:
        for name, _ in options:
            if name.startswith("-"):
                raise ConfigError(f"flag name {name} should be in long form without dashes")

    seen: set[str] = set()
    for alias in pref.aliases:
        if not _ALIAS_NAME.match(alias.name):
            raise ConfigError("invalid alias name, can only include alphabetical characters")
        flags(alias.options)
        if alias.name in seen:
            raise ConfigError(f"duplicate alias name {alias.name}")
        seen.add(alias.name)
    for d in pref.defaults:
        flags(d.options)
    problem = pluginpolicy.validate(policy)
    if problem:
        raise ConfigError(problem)


def _resolve(root: click.Group, ctx: click.Context, words: list[str]) -> tuple[click.Command, int] | None:
    """cobra's Find over command names: the command `words` start with, and how many words name it."""
    cmd: click.Command = root
    used = 0
    for word in words:
        if not isinstance(cmd, click.Group):
            break
        sub = cmd.get_command(ctx, word)
        if sub is None:
            break
        cmd, used = sub, used + 1
    return (cmd, used) if used else None


def _spelled(name: str, short: str | None, args: list[str]) -> bool:
    """kubectl's searchInArgs: does the command line spell the flag `--name` (or its shorthand)?"""
    for arg in args:
        if arg == f"--{name}" or arg.startswith(f"--{name}="):
            return True
        if not short:
            continue
        if arg.startswith(short):
            return True
        if _SHORTHANDS.match(arg) and short[1:] in arg[1:]:
            return True
    return False


def _flag_defaults(
    root: click.Group, cmd: click.Command, options: list[tuple[str, str]], args: list[str]
) -> list[str] | None:
    """`--name=default` for each option the command line does not spell; None names the first unknown flag."""
    table = {**option_table(root, is_global=True), **option_table(cmd)}
    out: list[str] = []
    for name, value in options:
        found = table.get(f"--{name}")
        if found is None:
            return None
        spec, _ = found
        if not _spelled(name, spec.short, args):
            out.append(f"--{name}={value}")
    return out


def _aliases(
    root: click.Group, ctx: click.Context, pref: Preference, args: list[str], prog: str, err: TextIO
) -> tuple[list[str], bool]:
    """kubectl's applyAliases -> (the new command line, whether an alias applied)."""
    if find_command(args, root, ctx) is not None:
        return args, False  # a built-in: aliases never shadow one
    at = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if at is None:
        return args, False
    name = args[at]
    for alias in pref.aliases:
        if alias.name != name:
            continue
        words = alias.command.split()
        found = _resolve(root, ctx, words)
        if found is None:
            raise ConfigError(f'command "{alias.command}" not found to set alias "{name}": [{" ".join(words)}]')
        cmd, used = found
        defaults = _flag_defaults(root, cmd, alias.options, [prog, *args])
        if defaults is None:
            table = {**option_table(root, is_global=True), **option_table(cmd)}
            bad = next(n for n, _ in alias.options if f"--{n}" not in table)
            raise ConfigError(f"invalid alias flag {bad} in alias {prog}")
        rest = args[at + 1 :]
        return [*args[:at], *words[:used], *defaults, *alias.prepend, *rest, *alias.append], True
    return args, False


def _defaults(root: click.Group, ctx: click.Context, pref: Preference, args: list[str], err: TextIO) -> list[str]:
    """kubectl's applyOverrides: each `defaults` entry for the command being run."""
    at = find_command(args, root, ctx)
    if at is None:
        return args
    found = _resolve(root, ctx, args[at:])
    if found is None:
        return args
    cmd, used = found
    inserted: list[str] = []
    for entry in pref.defaults:
        words = entry.command.split()
        target = _resolve(root, ctx, words)
        if target is None or target[1] != len(words):
            if not words or words[0] not in KUBECTL_COMMANDS:
                err.write(f'Warning: command "{entry.command}" not found to set kuberc override\n')
            continue
        if target[0] is not cmd:
            continue
        table = {**option_table(root, is_global=True), **option_table(cmd)}
        known = [(n, v) for n, v in entry.options if f"--{n}" in table]
        inserted += _flag_defaults(root, cmd, known, args) or []
    if not inserted:
        return args
    end = at + used
    return [*args[:end], *inserted, *args[end:]]
