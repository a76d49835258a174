"""The blind check: paraphrases from the task templates, batching, the tiny solver."""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import Any

from agents.records import Sample
from agents.solver.items import SolverItem
from agents.tasks import TASKS
from agents.tasks.demo_scene import demo_scene
from agents.tasks.paraphrase import field_names, paraphrases, template_fields
from agents.verifier.blind import blind_variants
from tests.agents.verifier_helpers import ScriptedSolver, outcomes, run, sample

CHOICE = {
    "question": "If I am standing by the bed and facing the tv, is the lamp to the left or the right of the tv?",
    "question_type": "object_rel_direction_easy",
    "template_id": "object_rel_direction_easy/0",
    "options": ["A. left", "B. right"],
}


def test_every_template_of_every_task_gives_the_others_back() -> None:
    for task in TASKS.values():
        for index, template in enumerate(task.templates):
            names = {n for _, n, _, _ in string.Formatter().parse(template) if n}
            fields = {name: f"v_{name}_x" for name in names}
            question = template.format(**fields)
            assert template_fields(template, question) == fields
            expected = [
                t.format(**fields)
                for i, t in enumerate(task.templates)
                if i != index and field_names(t) <= names
            ]
            got = paraphrases(task, question, f"{task.name}/{index}")
            assert got == [t for t in expected if t != question], (task.name, index)


def test_questions_that_fit_no_template_have_no_paraphrase() -> None:
    assert paraphrases(TASKS["object_counting"], "Something else entirely?") == []
    assert template_fields("the {a} and the {a}", "the bed and the tv") is None


def test_variants_rephrase_and_reverse_the_options() -> None:
    variants = blind_variants(sample("A", **CHOICE), 3)
    assert [v.question for v in variants[1:]] == paraphrases(
        TASKS["object_rel_direction_easy"], CHOICE["question"], CHOICE["template_id"]
    )
    assert variants[0].options == ["A. left", "B. right"] and variants[0].ground_truth == "A"
    assert variants[1].options == ["A. right", "B. left"] and variants[1].ground_truth == "B"
    assert variants[2].options == variants[0].options and variants[1].reversed
    unknown = blind_variants(sample("3", question="How many cups?", question_type="cups"), 3)
    assert [v.question for v in unknown] == [
        "How many cups?",
        "Question: How many cups?",
        "Please answer the following question. How many cups?",
    ]


def test_blind_questions_go_to_the_solver_in_one_batch_per_kind() -> None:
    solver = ScriptedSolver(right=False)
    candidates = [
        sample("A", **CHOICE),
        sample("3"),
        sample("B", **CHOICE | {"question": "Is the tv left?"}),
    ]
    report = run(["blind"], candidates, demo_scene(), solver=solver)
    assert outcomes(report) == ["accepted"] * 3
    assert sorted(solver.calls) == [("answer", 3, True), ("confidence", 6, True)]


def test_a_letter_bias_is_not_knowledge() -> None:
    """Always answering 'A' is right in 2 of 3 paraphrases when the answer is A, but never
    in the reversed order, so the question stays."""
    solver = ScriptedSolver(False, always_a=True)
    candidates = [sample("A", **CHOICE), sample("B", **CHOICE)]
    assert outcomes(run(["blind"], candidates, demo_scene(), solver=solver)) == ["accepted"] * 2


def test_a_lean_counts_only_well_above_chance() -> None:
    two = sample("A", **CHOICE)
    four = sample("A", **CHOICE | {"options": ["A. left", "B. right", "C. up", "D. down"]})
    report = run(["blind"], [two, four], demo_scene(), solver=ScriptedSolver(True, strength=0.7))
    assert outcomes(report) == ["accepted", "answerable_blind"]  # 0.7 vs chance 0.5 / 0.25


def test_numbers_within_ten_percent_count_as_right() -> None:
    report = run(["blind"], [sample("40")], demo_scene(), solver=ScriptedSolver(right=True))
    assert outcomes(report) == ["answerable_blind"]


def test_the_tiny_solver_runs_the_blind_check(make_solver: Callable[..., Any]) -> None:
    solver = make_solver()
    seen: list[tuple[int, bool]] = []

    class Spy:
        def confidence(self, items: Sequence[SolverItem], blind: bool = False) -> Any:
            seen.append((len(items), blind))
            return solver.confidence(items, blind=blind)

        def answer(self, items: Sequence[SolverItem], blind: bool = False) -> Any:
            seen.append((len(items), blind))
            return solver.answer(items, blind=blind)

    candidates: list[Sample] = [sample("A", **CHOICE), sample("B", **CHOICE), sample("3")]
    report = run(["blind"], candidates, demo_scene(), solver=Spy())
    assert set(outcomes(report)) <= {"accepted", "answerable_blind"}
    assert sorted(seen) == [(3, True), (6, True)]
