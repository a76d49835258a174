"""`ouroboros report`: the page's numbers match the run directory, it is self-contained,
the gallery is capped fairly and shows the solver's frames; bad input gets a clear error."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from agents.records import Sample
from agents.solver.frames import choose_frames
from common.errors import UserError
from graphs.cli import main
from graphs.report import REPORT_FILE, build_report
from graphs.report.data import load_run
from graphs.report.gallery import select_samples
from graphs.store import RunStore
from scenes.schema import Scene


class PageParser(HTMLParser):
    """Tables (as rows of cell texts), cards (their data-* and frame labels), resource URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cards: list[dict[str, str]] = []
        self.card_frames: list[list[str]] = []
        self.urls: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.urls += [a[k] for k in ("src", "href") if k in a]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "article" and "sample-card" in a.get("class", ""):
            self.cards.append(a)
            self.card_frames.append([])
        elif "thumb" in a.get("class", "").split() and self.card_frames:
            self.card_frames[-1].append(a["aria-label"])

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None


def parse(path: Path) -> tuple[str, PageParser]:
    text = path.read_text(encoding="utf-8")
    parser = PageParser()
    parser.feed(text)
    return text, parser


@pytest.fixture(scope="module")
def report(report_run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_report(report_run_dir, tmp_path_factory.mktemp("report") / "page.html")


def test_iteration_table_matches_the_run_store_and_metrics(
    report: Path, report_run_dir: Path
) -> None:
    store = RunStore(report_run_dir)
    metrics = {entry["iteration"]: entry for entry in store.read_metrics()}
    _, page = parse(report)
    header, *rows = page.tables[0]
    assert header[:5] == ["iteration", "candidates", "accepted", "acceptance", "trained on"]
    assert [row[0] for row in rows] == ["0", "1"]  # iteration 2 has no samples yet
    for row in rows:
        iteration = int(row[0])
        samples = store.read_samples(store.samples_path(iteration))
        accepted = sum(s.verdict == "accepted" for s in samples)
        assert (int(row[1]), int(row[2])) == (len(samples), accepted)
        assert (metrics[iteration]["proposed"], metrics[iteration]["accepted"]) == (
            len(samples),
            accepted,
        )
        assert row[3] == f"{100 * accepted / len(samples):.1f}%"
        assert int(row[4]) == metrics[iteration]["trained_on"]
        assert row[header.index("final loss")] == f"{metrics[iteration]['train_loss'][-1]:.4f}"
        assert row[header.index("held-out (95% interval)")].startswith(
            f"{100 * metrics[iteration]['heldout']['overall']:.1f}% ("
        )


def test_confidence_bands_follow_the_configured_thresholds(report_run_dir: Path) -> None:
    run = load_run(report_run_dir)
    loop = RunStore(report_run_dir).read_config()["loop"]
    metrics = {e["iteration"]: e for e in RunStore(report_run_dir).read_metrics()}
    assert (run.thresholds.easy, run.thresholds.hard) == (loop["easy"], loop["hard"])
    for it in run.iterations:
        for task, stats in it.tasks.items():
            expected = metrics[it.iteration]["tasks"][task]
            assert {b: stats.bands[b] for b in stats.bands} == {
                b: expected.get(b, 0) for b in stats.bands
            }
    totals = Counter()
    for it in run.iterations:
        totals.update(it.band_totals())
    assert all(totals[band] > 0 for band in ("easy", "frontier", "hard"))


def test_page_is_self_contained(report: Path) -> None:
    text, page = parse(report)
    assert all(url.startswith(("#", "data:")) for url in page.urls), page.urls
    assert "@import" not in text and "<link" not in text
    css_urls = re.findall(r"url\(([^)]*)\)", text)
    assert css_urls and all(u.strip("\"'").startswith("data:image/") for u in css_urls)
    assert "<script src" not in text


def test_status_charts_and_heldout_are_shown(report: Path, report_run_dir: Path) -> None:
    text, page = parse(report)
    assert "2 of 3 iterations finished; iteration 2 in progress" in text
    for title in ("Held-out score", "Candidates and acceptance", "Training loss"):
        assert f"<figcaption>{title}</figcaption>" in text
    heldout = next(t for t in page.tables if t[0][0] == "task")
    assert heldout[0] == ["task", "n", "chance", *(f"{c} (95% interval)" for c in
                                                   ("start", "it 0", "it 1"))]  # fmt: skip
    start = RunStore(report_run_dir).read_metrics()[0]["heldout"]
    assert heldout[-1][3].startswith(f"{100 * start['overall']:.1f}% (")


def test_gallery_shows_every_candidate_with_the_solvers_frames(
    report: Path, report_run_dir: Path
) -> None:
    store = RunStore(report_run_dir)
    samples = {s.sample_id: s for it in (0, 1) for s in store.read_samples(store.samples_path(it))}
    _, page = parse(report)
    assert len(page.cards) == len(samples)
    scenes: dict[str, Scene] = {}
    for card, frames in zip(page.cards, page.card_frames, strict=True):
        sample = samples[card["id"].removeprefix("sample-")]
        assert (card["data-verdict"], card["data-task"]) == (
            sample.verdict,
            sample.proposal.question_type,
        )
        scene_id = sample.proposal.scene_id
        scene = scenes.setdefault(scene_id, Scene.load(store.scenes_dir / scene_id))
        expected = choose_frames(scene, sample.proposal.frame_indices, 4)  # config: num_frames 4
        assert frames == [f"frame {i}" for i in expected]


def test_gallery_cap_spreads_over_iterations_tasks_and_verdicts(
    report_run_dir: Path, tmp_path: Path
) -> None:
    path = build_report(report_run_dir, tmp_path / "capped.html", max_samples=12)
    text, page = parse(path)
    assert len(page.cards) == 12
    assert "Showing 12 of 36 candidates" in text
    assert {c["data-iteration"] for c in page.cards} == {"0", "1"}
    assert {c["data-verdict"] for c in page.cards} == {"accepted", "rejected"}
    thumbnails = len(re.findall(r"\.fr\d+\{background-image", text))
    shown = {
        (c["data-scene"], f)
        for c, frames in zip(page.cards, page.card_frames, strict=True)
        for f in frames
    }
    assert thumbnails == len(shown)  # each frame encoded once, shared by the cards showing it


def test_select_samples_spreads_before_it_repeats(report_run_dir: Path) -> None:
    run = load_run(report_run_dir)

    def outcome(s: Sample) -> str:
        return s.verdict if s.verdict == "accepted" else f"rejected:{s.reason}"

    outcomes = {(it.iteration, outcome(s)) for it in run.iterations for s in it.samples}
    chosen = select_samples(run.iterations, len(outcomes))
    assert {(s.iteration, outcome(s)) for s in chosen} == outcomes  # one of each, rare ones too
    tasks = {(it.iteration, s.proposal.question_type) for it in run.iterations for s in it.samples}
    everything = select_samples(run.iterations, 10_000)
    assert len(everything) == sum(it.proposed for it in run.iterations)
    assert {(s.iteration, s.proposal.question_type) for s in everything} == tasks
    assert select_samples(run.iterations, 5) == select_samples(run.iterations, 5)


def test_default_output_is_inside_the_run_directory(report_run_dir: Path, tmp_path: Path) -> None:
    run_copy = shutil.copytree(report_run_dir, tmp_path / "run")
    assert main(["report", str(run_copy)]) == 0
    assert (run_copy / REPORT_FILE).stat().st_size > 10_000
    assert not list(run_copy.glob(f".{REPORT_FILE}.*"))  # no temporary file left behind


def test_an_iteration_missing_from_metrics_is_in_progress_but_charted(
    report_run_dir: Path, tmp_path: Path
) -> None:
    store = RunStore(shutil.copytree(report_run_dir, tmp_path / "run"))
    store.write_metrics(store.read_metrics()[:-1])  # as if killed before iteration 1's feedback
    text, page = parse(build_report(store.root))
    assert "1 of 3 iterations finished; iteration 1, 2 in progress" in text
    assert [row[0] for row in page.tables[0][1:]] == ["0", "1"]


def test_a_run_without_iterations_still_gets_a_page(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "fresh")
    store.write_config({"preset": "cpu-tiny", "loop": {"iterations": 3}})
    text = build_report(store.root).read_text(encoding="utf-8")
    assert "0 of 3 iterations finished" in text
    assert "nothing to chart" in text


def test_bad_run_directories_get_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(
        UserError, match="does not exist; pass the folder given to 'ouroboros run --out'"
    ):
        build_report(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    with pytest.raises(UserError, match="is not a run directory"):
        build_report(tmp_path / "other")
    assert main(["report", str(tmp_path / "other")]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_out_must_be_a_file(report_run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is a folder"):
        build_report(report_run_dir, tmp_path)
