"""Parity with the official VSI-Bench scoring (vendored in official_vsibench.py): every
synthetic reply, in every format a model produces, scores exactly as the official code
scores it after the harness's strip, and full and partial runs aggregate to the same bits."""

from __future__ import annotations

import random
from typing import Any

import pytest

from evaluation.metrics import (
    aggregate,
    extract_number,
    parse_reply,
    score_row,
)
from evaluation.records import EvalRow
from tests.evaluation import official_vsibench as official

CHOICE_TYPES = official.MCA_QUESTION_TYPES
NUMERIC_TYPES = official.NA_QUESTION_TYPES
DIRECTION = CHOICE_TYPES[:3]
NUMERIC_TRUTHS = ["3", "1.7", "85", "21.4", "0.5", "12.2", "18", "15", "4", "250"]

#: Reply bodies for a multiple-choice truth `{t}` (another letter: `{o}`).
CHOICE_BODIES = [
    "{t}", "{t}.", "{t}. table", "{t}) chair", "({t})", "**{t}**", "{t},", "{o}", "{o}.",
    "The answer is {t}", "Answer: {t}", "{t}\nbecause it is closer", "{t}.\n", "{t}:",
    "{lower}", "{lower}.", "Option {t}", "{t} ", "{t} {o}", "{t}\t", "", ".", "{t}..",
]  # fmt: skip
#: Reply bodies for a numeric truth `{n}` (close: `{c}`, as a word when small: `{w}`).
NUMERIC_BODIES = [
    "{n}", "{n}.", "{c}", "{c} meters", "{c}m", "{c}cm", "about {c}", "**{c}**", "~{c}",
    "{c}.\n", "{w}", "{w} chairs", "The answer is {c}.", "approximately {c} m", "-{c}",
    "{c},000", "1e{digit}", "nan", "inf", "{c} or {n}", "twenty-one", "three hundred and "
    "twenty-one", "one apple, room 2", "{c}\n{n}", "{c}²", "", "none", "{c}..", "0",
]  # fmt: skip
PADDING = ["", " ", "  ", "\n", "\t", " \n", "\n\n"]
WORDS = ["zero", "one", "two", "three", "four", "five", "twelve", "eighteen", "twenty"]


def _close(truth: str, rng: random.Random) -> str:
    value = float(truth) * rng.choice([0.5, 0.8, 0.9, 0.95, 1.0, 1.05, 1.2, 1.3, 1.6, 2.0, 3.0])
    return rng.choice([f"{value:g}", f"{value:.2f}", str(round(value)), f"{value:.1f}"])


def synthetic_rows(count: int, seed: int) -> list[dict[str, Any]]:
    """Rows with replies built from a body, padding before and after, and a truth."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        question_type = rng.choice(CHOICE_TYPES + NUMERIC_TYPES)
        if question_type in CHOICE_TYPES:
            truth = rng.choice("ABCD")
            other = rng.choice([letter for letter in "ABCD" if letter != truth])
            body = rng.choice(CHOICE_BODIES).format(t=truth, o=other, lower=truth.lower())
        else:
            truth = rng.choice(NUMERIC_TRUTHS)
            body = rng.choice(NUMERIC_BODIES).format(
                n=truth, c=_close(truth, rng), w=rng.choice(WORDS), digit=rng.randint(0, 3)
            )
        reply = rng.choice(PADDING) + body + rng.choice(PADDING)
        rows.append(
            {"id": index, "question_type": question_type, "ground_truth": truth, "reply": reply}
        )
    return rows


def paper_score(row: dict[str, Any]) -> float:
    """The paper's harness: strip, then thinking-in-space's vsibench_process_results."""
    doc = {"question_type": row["question_type"], "ground_truth": row["ground_truth"]}
    result = official.tis_process_results(doc, official.harness_strip([row["reply"]]))
    metric = "accuracy" if row["question_type"] in CHOICE_TYPES else "MRA:.5:.95:.05"
    return float(result["vsibench_score"][metric])


def lmms_score(row: dict[str, Any]) -> float:
    doc = {"question_type": row["question_type"], "ground_truth": row["ground_truth"]}
    result = official.lmms_process_results(doc, official.harness_strip([row["reply"]]))
    metric = "accuracy" if row["question_type"] in CHOICE_TYPES else "MRA:.5:.95:.05"
    return float(result["vsibench_overall"][metric])


def ours(row: dict[str, Any]) -> EvalRow:
    return EvalRow(
        question_type=row["question_type"],
        ground_truth=row["ground_truth"],
        prediction=row["reply"],
    )


ROWS = synthetic_rows(4000, seed=16)


def test_the_synthetic_replies_cover_every_format() -> None:
    replies = [row["reply"] for row in ROWS]
    assert sum(reply != reply.strip() for reply in replies) > 1000, "padded replies"
    assert {" A", "A.\n", " 4"} <= {row["reply"] for row in synthetic_explicit()}
    for needle in ("about ", "cm", "**", "twenty-one", "\n", "\t", "nan"):
        assert any(needle in reply for reply in replies), needle


def synthetic_explicit() -> list[dict[str, Any]]:
    """The issue's examples: each scores 1 in the harness (and must here)."""
    return [
        {"question_type": "route_planning", "ground_truth": "A", "reply": " A"},
        {"question_type": "object_rel_distance", "ground_truth": "A", "reply": "A.\n"},
        {"question_type": "object_counting", "ground_truth": "4", "reply": " 4"},
    ]


@pytest.mark.parametrize("row", synthetic_explicit(), ids=lambda row: repr(row["reply"]))
def test_padded_replies_score_as_in_the_harness(row: dict[str, Any]) -> None:
    assert paper_score(row) == 1.0
    assert score_row(ours(row)) == 1.0


def test_zero_disagreements_with_the_paper_harness() -> None:
    disagreements = [
        (row["reply"], row["ground_truth"], paper_score(row), score_row(ours(row)))
        for row in ROWS
        if paper_score(row) != score_row(ours(row))
    ]
    assert disagreements == []


def test_zero_disagreements_with_current_lmms_eval_numbers() -> None:
    disagreements = [
        (row["reply"], row["ground_truth"], lmms_score(row), score_row(ours(row), "first_number"))
        for row in ROWS
        if lmms_score(row) != score_row(ours(row), "first_number")
    ]
    assert disagreements == []
    # and the two parsers really do differ on these replies
    differ = sum(paper_score(row) != lmms_score(row) for row in ROWS)
    assert differ > 100


@pytest.mark.parametrize(
    ("reply", "number"),
    [
        ("about 18", 18.0),
        ("15cm", 15.0),
        ("**12.20**", 12.2),
        ("twenty-one", 21.0),
        ("three hundred and twenty-one", 321.0),
        ("one apple, room 2", 1.0),
        ("-3 m", -3.0),
        ("1,200", 1.0),
        ("no idea", None),
        ("", None),
        (None, None),
    ],
)
def test_extract_number_matches_lmms_eval(reply: str | None, number: float | None) -> None:
    assert extract_number(reply) == official.extract_number(reply) == number


def test_parse_reply_is_strip_then_fuzzy_matching() -> None:
    for row in ROWS:
        assert parse_reply(row["reply"]) == official.fuzzy_matching(row["reply"].strip())


def _official_rows(rows: list[dict[str, Any]], scorer: Any) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        doc = {"question_type": row["question_type"], "ground_truth": row["ground_truth"]}
        key = "vsibench_score" if scorer is official.tis_process_results else "vsibench_overall"
        out.append(scorer(doc, official.harness_strip([row["reply"]]))[key])
    return out


def _task_of(key: str) -> str:
    return key.removesuffix("_accuracy").removesuffix("_MRA:.5:.95:.05")


def _assert_same(ours_result: Any, output: dict[str, Any]) -> None:
    scores = {_task_of(key): value for key, value in output.items() if key != "overall"}
    assert {task: s.score for task, s in ours_result.tasks.items()} == scores
    assert ours_result.overall == output["overall"]


def test_full_runs_aggregate_to_the_same_bits() -> None:
    for seed in range(5):
        rows = synthetic_rows(600, seed=100 + seed)
        assert {row["question_type"] for row in rows} == set(CHOICE_TYPES + NUMERIC_TYPES)
        paper = official.tis_aggregate_output(_official_rows(rows, official.tis_process_results))
        result = aggregate([ours(row) for row in rows])
        assert result.overall_complete
        _assert_same(result, paper)
        lmms = official.lmms_compute_all_subscores(
            _official_rows(rows, official.lmms_process_results)
        )
        _assert_same(aggregate([ours(row) for row in rows], "first_number"), lmms)


def test_partial_runs_aggregate_as_the_paper_code_does() -> None:
    """Runs lacking some tasks: the paper's code averages the present ones, as we do, when
    relative direction has all three levels or none (other cases: next test)."""
    rng = random.Random(7)
    others = [t for t in CHOICE_TYPES + NUMERIC_TYPES if t not in DIRECTION]
    for trial in range(40):
        kept = rng.sample(others, rng.randint(1, len(others) - 1))
        if trial % 2:
            kept += DIRECTION
        rows = [row for row in synthetic_rows(500, seed=trial) if row["question_type"] in kept]
        paper = official.tis_aggregate_output(_official_rows(rows, official.tis_process_results))
        result = aggregate([ours(row) for row in rows])
        assert not result.overall_complete
        _assert_same(result, paper)
        if trial % 2:  # current lmms-eval needs every direction level
            lmms = official.lmms_compute_all_subscores(
                _official_rows(rows, official.lmms_process_results)
            )
            _assert_same(aggregate([ours(row) for row in rows], "first_number"), lmms)


def test_where_the_official_code_raises_we_score_and_flag() -> None:
    """A run with some direction levels: the official aggregations raise KeyError (or, in
    the paper's code when 'easy' is absent, count the other levels as tasks of their own);
    we average the present levels and list the missing ones."""
    rows = [
        row
        for row in synthetic_rows(400, seed=3)
        if row["question_type"] in ("object_rel_direction_easy", "object_counting")
    ]
    with pytest.raises(KeyError):
        official.tis_aggregate_output(_official_rows(rows, official.tis_process_results))
    with pytest.raises(KeyError):
        official.lmms_compute_all_subscores(_official_rows(rows, official.lmms_process_results))
    result = aggregate([ours(row) for row in rows])
    direction = result.tasks["object_rel_direction"]
    assert direction.missing_parts == ["object_rel_direction_medium", "object_rel_direction_hard"]
    assert not result.overall_complete
