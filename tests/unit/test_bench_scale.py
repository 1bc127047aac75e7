"""The scale table's arithmetic (bench/scale.py) and the Markdown summary's sections (bench/results_md.py): pure
logic, no control plane."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import results_md, scale
from bench.report import Row


def test_cost_per_object_leaves_out_the_empty_baseline() -> None:
    figs: scale.Figures = {
        ("B1", "kates", "wall"): {0: 0.1, 1000: 0.2, 10000: 1.1},
        ("B2", "kates", "rss"): {0: 30.0, 1000: 31.6},
    }
    assert scale.per_object(figs, "B1", "kates", "wall", [1000, 10000]) == pytest.approx([100.0, 100.0])  # µs
    # B2 holds N ConfigMaps + N/2 Secrets + N/10 Services: 1,600 objects at N=1000; 1.6 MiB -> 1.024 KiB each
    assert scale.per_object(figs, "B2", "kates", "rss", [1000]) == pytest.approx([1.024])
    assert scale.per_object(figs, "B2", "kates", "rss", [50000]) == [None]


@pytest.mark.parametrize(
    ("costs", "grows"),
    [
        ([10.0, 10.5, 9.8], False),  # flat: linear cost
        ([10.0, 20.0, 40.0], True),  # rising at every size
        ([10.0, 25.0, 14.0], False),  # noise, not growth: it falls at the last step
        ([10.0, 11.0, 12.0], False),  # rising, but by less than GROWTH_LIMIT overall
        ([None, 10.0, 30.0], True),  # an unmeasured size is left out
    ],
)
def test_growth_is_flagged_only_when_the_cost_rises_at_every_size(costs: list[float | None], grows: bool) -> None:
    assert scale.growth(costs)[1] is grows


def test_scale_table_shows_each_size_the_ratios_and_the_flag() -> None:
    figs: scale.Figures = {
        ("B1", "kates", "wall"): {0: 0.1, 1000: 0.2, 10000: 2.1},  # 100 µs, then 200 µs per object: grows
        ("B1", "kubectl", "wall"): {0: 0.1, 1000: 0.3, 10000: 2.1},  # 200 µs per object, flat
    }
    text = scale.text(figs, [1000, 10000])
    assert "N=1,000" in text and "N=10,000" in text
    assert "GROWS: B1 wall per object, kates: 2.00x GROWS" in text
    ratio = next(line for line in text.splitlines() if "kates/kubectl" in line)
    assert "0.50x" in ratio and "1.00x" in ratio
    assert scale.from_json(scale.to_json(figs)) == figs


def test_machine_speed_is_the_best_of_its_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import run

    ticks = iter([0.0, 0.30, 1.0, 1.10, 2.0, 2.50, 3.0, 3.20, 4.0, 4.40])  # loops of 0.30, 0.10, 0.50, 0.20, 0.40 s
    monkeypatch.setattr(run, "SPEED_LOOP", 10)
    assert run.machine_speed(lambda: next(ticks)) == pytest.approx(0.10)


def test_results_md_rewrites_only_its_own_section(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    row = Row("B1", "get cm -o json, N=1000: wall", "s", 0.5, "kubectl", 1.0, check="ratio<=0.5")
    meta = {
        "scale": False,
        "date": "2026-12-04 23:00 UTC",
        "machine": {"cpus": 2},
        "note": "shared machine",
        "speed_at_start": 0.0412,
        "speed_at_end": 0.1234,
    }
    results_md.write(path, meta, [row])
    first = path.read_text()
    assert (
        "machine speed (bench/run.py `machine_speed`, smaller is faster; compare runs by it): 41 ms at the start, "
        in first
    )
    assert "123 ms at the end" in first
    assert "## Default run" in first and "0.50x" in first and "shared machine" in first and "not run yet" in first
    figs: scale.Figures = {("B1", "kates", "wall"): {0: 0.1, 1000: 0.2}}
    scale_meta = {"scale": True, "sizes": [1000], "date": "2026-12-05 00:00 UTC", "per_size": scale.to_json(figs)}
    results_md.write(path, scale_meta, [row])
    both = path.read_text()
    assert "not run yet" not in both and "### Cost per object" in both
    assert both.count("shared machine") == 1 and "2026-12-04 23:00 UTC" in both and "2026-12-05 00:00 UTC" in both
    results_md.write(path, dict(meta, date="2026-12-05 01:00 UTC"), [row])
    again = path.read_text()
    assert "2026-12-04 23:00 UTC" not in again and "2026-12-05 01:00 UTC" in again and "### Cost per object" in again


@pytest.mark.parametrize(
    ("argv", "rounds"),
    [
        ([], 3),
        (["--scale"], 3),  # a median of three: with two, one slow round moves the figure (the mean)
        (["--smoke"], 1),
        (["--smoke", "--scale"], 1),
        (["--scale", "--rounds", "2"], 2),
    ],
)
def test_rounds_default_to_three_but_for_the_smoke_run(argv: list[str], rounds: int) -> None:
    from bench import run

    assert run.parse_args(argv).rounds == rounds
