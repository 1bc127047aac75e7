"""The fast path of `kates watch`: the commonest command lines, parsed without building the click command.

A watch's start-up is mostly importing typer and click and building the command tree (about 40 ms of a 100 ms
start, measured), and a `kates watch --once` of a thousand objects is over in a quarter of a second. `parse` reads
the lines a reconciler is usually started with (queries, a hook, --once and the watch's timing options) by
cli/fastargs.py's grammar, and `run` hands them to `watchrun.run`, the function the click command (cli/watch.py)
calls, with the same `State`. Anything else returns None from `parse`, and cli/app.py takes the full path.

Invariants:
- A command line `parse` accepts gives `watchrun.run` the same values as the full path would
  (tests/unit/test_fastwatch.py runs every accepted line on both paths and compares them).
- `parse` accepts only: the word `watch`, no other word (hook arguments after `--` take the full path), the global
  -n/--namespace, --context and --kubeconfig anywhere, and after `watch` these options: -q/--query, --exec,
  -A/--all-namespaces, --once, --output-deltas, --wait-for-kinds, and the string-valued --debounce, --debounce-max,
  --hook-timeout, --max-backoff, --grace-period, --bootstrap-timeout, --stall-timeout, --log-format, --metrics-addr
  and --resync (read by `watchrun.run` itself, as click passes them through unchanged).
- Never the fast path where cli/fastget.py's is not taken (`fastget.enabled`, and a kuberc that may apply).
- Importing this module imports nothing outside the standard library's `os`.
- `run` pauses the cyclic collector before its imports (cli/collector.py) and, if the watch never began, ends the
  pause without freezing anything.
"""

from __future__ import annotations

from .fastargs import scan  # imports nothing

# option spelling -> watchrun.run's parameter; every one takes a value
_VALUES = {
    "-n": "namespace",
    "--namespace": "namespace",
    "--context": "context",
    "--kubeconfig": "kubeconfig",
    "-q": "queries",
    "--query": "queries",
    "--exec": "exec_",
    "--debounce": "debounce",
    "--debounce-max": "debounce_max",
    "--hook-timeout": "hook_timeout",
    "--max-backoff": "backoff_cap",
    "--grace-period": "grace_period",
    "--bootstrap-timeout": "bootstrap_timeout",
    "--stall-timeout": "stall_timeout",
    "--log-format": "log_format",
    "--metrics-addr": "metrics_addr",
    "--resync": "resync",
}
_FLAGS = {
    "-A": "all_namespaces",
    "--all-namespaces": "all_namespaces",
    "--once": "once",
    "--output-deltas": "output_deltas",
    "--wait-for-kinds": "wait_for_kinds",
}
_LISTS = frozenset({"namespace", "queries"})
_GLOBAL = ("namespace", "context", "kubeconfig")  # the root command's, for the State


def parse(argv: list[str]) -> dict[str, object] | None:
    """`argv` (without the program name) as `watchrun.run`'s keyword arguments plus the global options' values, or
    None when the full path must read it."""
    scanned = scan(argv, "watch", _VALUES, _FLAGS, lists=_LISTS, words=False, leading=frozenset(_GLOBAL))
    return None if scanned is None else scanned[0]


def run(found: dict[str, object]) -> int:
    """Run a parsed `watch` as the click command would (cli/watch.py), inside cli/app.py's error boundary."""
    from . import collector

    pause = collector.pause()  # before the imports: the watcher ends it at its first take (cli/collector.py)
    try:
        from . import fastargs
        from .watchrun import run as watch

        options = dict(found)
        namespace, context, kubeconfig = (options.pop(key, None) for key in _GLOBAL)
        queries = options.pop("queries", None)
        return fastargs.run(
            kubeconfig,  # type: ignore[arg-type]
            context,  # type: ignore[arg-type]
            namespace,  # type: ignore[arg-type]
            lambda state: watch(state, queries, **options),  # type: ignore[arg-type]
        )
    finally:
        pause.end(freeze=False)  # a no-op once the watch ran; after a usage error, the collector is back as it was
