"""The report's panels: held-out per task with n, 95% interval and chance; confidence
histograms; calibration; curriculum quotas; and counts that agree with the tables."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from graphs.report import build_report
from graphs.report.data import load_run
from graphs.report.heldout import option_counts, task_intervals, wilson
from graphs.store import RunStore
from tests.graphs.test_report import parse


@pytest.fixture(scope="module")
def report(report_run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_report(report_run_dir, tmp_path_factory.mktemp("panels") / "page.html")


def figures(text: str, css_class: str) -> list[str]:
    return re.findall(rf'<figure class="[^"]*{css_class}[^"]*">(.*?)</figure>', text, re.S)


def test_wilson_interval_matches_the_textbook_values() -> None:
    low, high = wilson(0, 1)
    assert low == 0.0 and high == pytest.approx(0.7935, abs=1e-4)
    low, high = wilson(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))


def test_intervals_n_and_chance_follow_the_predictions() -> None:
    predictions = [
        {"id": 0, "question_type": "object_rel_direction_easy", "answer_kind": "multiple_choice",
         "ground_truth": "A", "score": 1.0},
        {"id": 1, "question_type": "object_rel_direction_hard", "answer_kind": "multiple_choice",
         "ground_truth": "B", "score": 0.0},
        {"id": 2, "question_type": "room_size_estimation", "answer_kind": "numeric",
         "ground_truth": "10", "score": 0.5},
        {"id": 3, "question_type": "room_size_estimation", "answer_kind": "numeric",
         "ground_truth": "20", "score": 0.3},
    ]  # fmt: skip
    found = task_intervals(predictions, {0: 2, 1: 4})
    direction = found["object_rel_direction"]
    assert (direction.n, direction.score, direction.chance) == (2, 0.5, pytest.approx(0.375))
    assert 0.0 <= direction.low < 0.5 < direction.high <= 1.0
    room = found["room_size_estimation"]
    assert room.n == 2 and room.score == pytest.approx(0.4)
    # guessing 20 for 10 is off by 100% (MRA 0); 10 for 20 by 50% (only theta 0.50 holds: 0.1)
    assert room.chance == pytest.approx(0.05)
    assert room.low < 0.4 < room.high


def test_heldout_panels_show_n_interval_and_chance_for_every_task(
    report: Path, report_run_dir: Path
) -> None:
    store = RunStore(report_run_dir)
    result = json.loads(store.eval_result_path(1).read_text())
    scored = {**result["result"]["tasks"], **result["result"]["extra_tasks"]}
    options = option_counts(store.eval_dir)
    text, _ = parse(report)
    panels = figures(text, "heldout-multiple")
    assert len(panels) == len(scored) + 1  # the overall first
    for task, entry in scored.items():
        panel = next(p for p in panels if f'<figcaption title="{task}">' in p)
        assert f"n={entry['count']} ·" in panel
        assert panel.count('class="interval"') == 3  # start, it 0, it 1
        ids = [p["id"] for p in result["predictions"]
               if p["question_type"] == task or p["question_type"].startswith(task + "_")]  # fmt: skip
        if all(p["answer_kind"] == "multiple_choice" for p in result["predictions"]
               if p["id"] in ids):  # fmt: skip
            chance = sum(1 / options[i] for i in ids) / len(ids)
            assert f"chance {100 * chance:.0f}%" in panel and 'class="chance"' in panel
    heldout = next(t for t in parse(report)[1].tables if t[0][0] == "task")
    for row in heldout[1:-1]:
        assert int(row[1]) == scored[row[0]]["count"]
        assert all(re.fullmatch(r"\d+\.\d% \(\d+–\d+\)", cell) for cell in row[3:])


def test_counts_agree_between_kpis_tables_and_panels(report: Path, report_run_dir: Path) -> None:
    run = load_run(report_run_dir)
    text, page = parse(report)
    _header, *rows = page.tables[0]
    kpis = re.findall(r'kpi-value">([^<]+)</div><div class="kpi-label">([^<]+)<', text)
    by_label = {label: value for value, label in kpis}
    assert int(by_label["candidates"]) == sum(int(r[1]) for r in rows)
    assert int(by_label["accepted"]) == sum(int(r[2]) for r in rows)
    assert int(by_label["trained on"]) == sum(int(r[4]) for r in rows)
    histograms = figures(text, "histogram-multiple")
    assert len(histograms) == len(run.iterations)
    for panel, it in zip(histograms, run.iterations, strict=True):
        assert f"confidence of {sum(it.band_totals().values())} samples" in panel
    calibration = re.search(r'id="calibration">(.*?)</figure>', text, re.S)
    assert calibration is not None
    shown = sum(int(n) for n in re.findall(r"n=(\d+)</text>", calibration.group(1)))
    multiple_choice = sum(
        1 for it in run.iterations for s in it.samples
        if s.confidence is not None and s.letter_probs
    )  # fmt: skip
    assert shown == multiple_choice > 0
    assert f"{multiple_choice} multiple-choice samples" in calibration.group(1)


def test_quota_panels_show_requested_against_made(report: Path, report_run_dir: Path) -> None:
    store = RunStore(report_run_dir)
    text, _ = parse(report)
    panels = figures(text, "quota-multiple")
    assert panels
    for iteration in (0, 1):
        plan = json.loads((store.iteration_dir(iteration) / "plan.json").read_text())
        requested: dict[str, int] = {}
        for task, _level, n in plan["quotas"]:
            requested[task] = requested.get(task, 0) + n
        made: dict[str, int] = {}
        for sample in store.read_samples(store.samples_path(iteration)):
            made[sample.proposal.question_type] = made.get(sample.proposal.question_type, 0) + 1
        for task in set(requested) | set(made):
            panel = next(p for p in panels if f'<figcaption title="{task}">' in p)
            assert f"it {iteration}: requested {requested.get(task, 0)}<" in panel
            assert f"it {iteration}: made {made.get(task, 0)}<" in panel


def test_quota_panel_tolerates_other_plan_shapes(report_run_dir: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(report_run_dir, run_dir)
    store = RunStore(run_dir)
    (store.iteration_dir(0) / "plan.json").write_text(json.dumps({
        "quotas": [["object_counting", 1, 3, {"signal": 0.2}],
                   {"question_type": "room_size_estimation", "level": 2, "count": 4, "p": 0.1},
                   "not a row"],
        "made": {"object_counting": 2}, "bandit": [1, 2, 3],
    }))  # fmt: skip
    (store.iteration_dir(1) / "plan.json").write_text("[1, 2]")
    run = load_run(run_dir)
    assert run.iterations[0].quotas == {"object_counting": 3, "room_size_estimation": 4}
    assert run.iterations[1].quotas == {}
    assert "quota-multiple" in build_report(run_dir).read_text(encoding="utf-8")


def test_cards_explain_confidence_against_the_option_bars(report: Path) -> None:
    text, _ = parse(report)
    lines = re.findall(r'<p class="conf-explain">(.*?)</p>', text, re.S)
    assert lines
    assert all("option letters only" in line and "whole answer" in line for line in lines)
