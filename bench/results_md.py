"""bench/RESULTS.md: where kates stands, without running anything. It holds two sections, the latest default run and
the latest scale run, each with its tables, the machine it ran on, the date and the run's own note; a run rewrites
only its own section (between its markers) and keeps the other, so the file always shows the latest of both.

`python -m bench.results_md RESULTS.md RESULTS.json...` rewrites the sections from results files already written.

Smoke runs never write it (their sizes say nothing), unless a path is given explicitly (the smoke test does, to a
scratch file, so this code path cannot rot).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import scale
from .report import Row, cells, markdown, notes, read_json

TITLE = "# kates benchmark results"
INTRO = (
    "Written by `python -m bench.run` (`nox -s bench`; the scale section by `nox -s bench -- --scale`). Every figure "
    "is a ratio against a peer measured in the same run on the same local control plane; the module docstrings in "
    "bench/ say what each row measures. "
    "The API server and etcd share the machine with the client."
)


def _machine(meta: dict[str, Any]) -> list[str]:
    m = meta.get("machine", {})
    v = meta.get("versions", {})
    load = " -> ".join(f"{x[0]:.1f}" for x in (meta.get("loadavg_at_start"), meta.get("loadavg_at_end")) if x)
    lines = [
        f"- date: {meta.get('date', '?')}; revision {meta.get('revision', '?')}",
        f"- machine: {m.get('cpus', '?')} cores ({m.get('cpu_model') or 'unknown CPU'}), "
        f"{m.get('memory_gib', '?')} GiB memory, {m.get('kernel', '?')}, Python {m.get('python', '?')}",
        f"- peers: kubectl {_version(v.get('kubectl'))}; kubernetes Python client {v.get('kubernetes_client', '?')}; "
        f"client-go v0.37.2 (bench/peers/clientgo); server {_version(v.get('server'))}",
        f"- run: N={', '.join(f'{n:,}' for n in meta.get('sizes') or [meta.get('size', 0)])}, "
        f"{meta.get('rounds')} round(s), "
        f"{meta.get('seconds', 0):.0f} s wall; 1-min load average {load}",
    ]
    if meta.get("speed_at_start") and meta.get("speed_at_end"):
        lines.append(
            f"- machine speed (bench/run.py `machine_speed`, smaller is faster; compare runs by it): "
            f"{meta['speed_at_start'] * 1000:.0f} ms at the start, {meta['speed_at_end'] * 1000:.0f} ms at the end"
        )
    if meta.get("size_seconds"):
        lines.append(
            "- seconds per size: " + ", ".join(f"N={int(n):,}: {t:.0f}s" for n, t in meta["size_seconds"].items())
        )
    if meta.get("clientgo_build_seconds"):
        lines.append(f"- the client-go peer was built in this run: {meta['clientgo_build_seconds']:.0f} s")
    if meta.get("note"):
        lines.append(f"- **note**: {meta['note']}")
    if meta.get("errors"):
        lines += [f"- **failed**: {k}: {v}" for k, v in meta["errors"].items()]
    return lines


def _version(text: str | None) -> str:
    return (text or "?").split("Version:")[-1].strip()


def section(meta: dict[str, Any], rows: list[Row]) -> str:
    kind = "scale" if meta.get("scale") else "default"
    head = "## Scale run" if kind == "scale" else "## Default run"
    lines = [f"<!-- bench:{kind} -->", head, "", *_machine(meta), ""]
    lines += markdown(*cells(rows, bool(meta.get("smoke"))))
    if notes(rows):
        lines += ["", "Notes:", "", *[f"- {n}" for n in notes(rows)]]
    if kind == "scale" and meta.get("per_size") is not None:
        lines += ["", "### Cost per object", "", scale.md(scale.from_json(meta["per_size"]), meta["sizes"])]
    lines += [f"<!-- /bench:{kind} -->"]
    return "\n".join(lines)


def write(path: Path, meta: dict[str, Any], rows: list[Row]) -> None:
    """Replace this run's section of `path` (created if missing), keeping the other section."""
    kind = "scale" if meta.get("scale") else "default"
    old = path.read_text() if path.exists() else ""
    sections = {}
    for k in ("default", "scale"):
        found = re.search(rf"<!-- bench:{k} -->.*?<!-- /bench:{k} -->", old, re.DOTALL)
        sections[k] = (
            found.group(0) if found else f"<!-- bench:{k} -->\n## {k.title()} run\n\nnot run yet\n<!-- /bench:{k} -->"
        )
    sections[kind] = section(meta, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join([TITLE, INTRO, sections["default"], sections["scale"]]) + "\n")


if __name__ == "__main__":
    import sys

    for results in sys.argv[2:]:
        write(Path(sys.argv[1]), *read_json(Path(results)))
