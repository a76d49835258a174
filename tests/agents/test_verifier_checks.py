"""One sample that must pass and one that must fail, for every verifier check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agents.proposers import ProgrammaticConfig, ProgrammaticProposer
from agents.tasks import AmbiguityConfig
from agents.tasks.demo_scene import demo_scene
from agents.verifier.determinism import perturbed_program
from scenes.schema import Scene
from tests.agents.verifier_helpers import ScriptedSolver, outcomes, proposal, run, sample
from tools.sandbox import make_sandbox


@pytest.fixture(scope="module")
def scene() -> Scene:
    return demo_scene()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    # one worker: both runs fork from the same warm process, the hardest case for catching
    # programs that read an unseeded RNG
    with make_sandbox("local", workers=1) as runner:
        yield runner


# -- 1. execution -------------------------------------------------------------------------
NONDETERMINISTIC = {
    "random": "import random\ndef solve(scene):\n    return round(random.uniform(2, 9), 3)\n",
    "numpy_random": "import numpy as np\ndef solve(scene):\n    return float(np.random.rand()) + 2\n",
    # minute of the day: the second run's clock shift (3 d 1 h 1 min 1 s) always changes it
    "time": "import time\ndef solve(scene):\n    return int(time.time()) % 86400 // 60 + 2\n",
    "random_at_import": "import random\nN = random.randint(2, 10**9)\ndef solve(scene):\n    return N\n",
}


def test_execution_passes_a_deterministic_program_and_rejects_random_and_time(
    scene: Scene, sandbox: Any
) -> None:
    candidates = [proposal()] + [
        proposal(f"How many {name} things?", program=program)
        for name, program in NONDETERMINISTIC.items()
    ]
    report = run(["execution"], candidates, scene, sandbox)
    assert outcomes(report) == ["accepted"] + ["nondeterministic"] * len(NONDETERMINISTIC)
    assert report.samples[0].ground_truth == "3"
    assert "second run returned" in report.audits[1].detail


def test_execution_rejects_failing_programs_with_their_reason(scene: Scene, sandbox: Any) -> None:
    broken = proposal("How many broken?", program="def solve(scene):\n    return 1 / 0\n")
    elsewhere = proposal(scene_id="no-such-room")
    report = run(["execution"], [broken, elsewhere], scene, sandbox)
    assert outcomes(report) == ["program_error", "unknown_scene"]
    assert [a.check for a in report.audits] == ["execution", "execution"]
    assert "ZeroDivisionError" in report.audits[0].detail


def test_the_second_run_keeps_future_imports_first(scene: Scene, sandbox: Any) -> None:
    typed = "def solve(scene) -> int:\n    return scene.count('chair')\n"
    program = '"""Doc."""\nfrom __future__ import annotations\n' + typed
    compile(perturbed_program(program, 7, 1.5), "p", "exec")
    report = run(["execution"], [proposal(program=program)], scene, sandbox)
    assert outcomes(report) == ["accepted"]


# -- 2. typed answer ----------------------------------------------------------------------
SIZE_Q = {
    "question": "How long is the bed, in centimeters?",
    "question_type": "object_size_estimation",
}
DIST_Q = {"question": "How far is the bed from the tv?", "question_type": "object_abs_distance"}
ORDER = ["A. bed, tv, sofa", "B. tv, bed, sofa", "C. sofa, tv, bed"]
ORDER_Q = {
    "question": "In which order do these first appear: sofa, bed, tv?",
    "question_type": "obj_appearance_order",
}


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        (sample("3"), "accepted"),
        (sample("900", **SIZE_Q), "accepted"),  # 900 cm = 9 m: a size in bounds
        (sample("1500", **SIZE_Q), "out_of_bounds"),  # 15 m
        (sample("0.5", **SIZE_Q), "out_of_bounds"),  # 5 mm
        (sample("29.5", **DIST_Q), "accepted"),
        (sample("35.0", **DIST_Q), "out_of_bounds"),
        (sample("51"), "out_of_bounds"),
        (sample("2.5"), "out_of_bounds"),  # not a whole count
        (sample("nan"), "non_finite"),
        (sample("B", options=["A. bed", "B. tv"], question_type="x"), "accepted"),
        (sample("B", options=["A. bed", "B. Bed "], question_type="x"), "invalid_options"),
        (sample("A", options=["A. bed"], question_type="x"), "invalid_options"),
        (sample("E", options=["A. bed", "B. tv"], question_type="x"), "not_an_option"),
        (sample("A", options=["A. 120", "B. 160"], **SIZE_Q), "accepted"),
        (sample("A", options=["A. 120", "B. big"], **SIZE_Q), "invalid_options"),
        (sample("B", options=["A. 0.1", "B. 45.0"], **DIST_Q), "out_of_bounds"),
        (sample("B", options=ORDER, **ORDER_Q), "accepted"),
        (sample("B", options=[*ORDER[:2], "C. tv, tv, bed"], **ORDER_Q), "not_a_permutation"),
        (
            sample("A", options=["A. bed, tv, lamp", "B. tv, bed, lamp"], **ORDER_Q),
            "not_a_permutation",
        ),
    ],
)
def test_typed_answer(scene: Scene, candidate: Any, expected: str) -> None:
    assert outcomes(run(["typed_answer"], [candidate], scene)) == [expected]


# -- 3. agreement -------------------------------------------------------------------------
CHOICE = {"options": ["A. bed", "B. tv", "C. sofa"], "question_type": "x"}


@pytest.mark.parametrize(
    ("stated", "truth", "fields", "expected"),
    [
        (None, "B", CHOICE, "accepted"),
        ("B", "B", CHOICE, "accepted"),
        ("(B)", "B", CHOICE, "accepted"),
        ("B. tv", "B", CHOICE, "accepted"),
        (" TV", "B", CHOICE, "accepted"),
        ("C", "B", CHOICE, "inconsistent"),
        ("B. bed", "B", CHOICE, "inconsistent"),  # letter and text disagree
        ("lamp", "B", CHOICE, "inconsistent"),
        ("2.05", "2.0", {"question_type": "object_abs_distance"}, "accepted"),
        ("2.0 m", "2.0", {"question_type": "object_abs_distance"}, "accepted"),
        ("2.5", "2.0", {"question_type": "object_abs_distance"}, "inconsistent"),
        ("about two", "2.0", {"question_type": "object_abs_distance"}, "inconsistent"),
    ],
)
def test_agreement(
    scene: Scene, stated: str | None, truth: str, fields: dict[str, Any], expected: str
) -> None:
    candidate = sample(truth, stated_answer=stated, **fields)
    report = run(["agreement"], [candidate], scene)
    assert outcomes(report) == [expected]
    if expected != "accepted":
        assert "program" in report.audits[0].detail


# -- 4. ambiguity -------------------------------------------------------------------------
def test_ambiguity_rejects_the_chair_when_there_are_three(scene: Scene) -> None:
    unique = sample("2.0", question="How far is the bed from the tv?")
    plural = sample("3", question="How many chair(s) are there? Count the chairs.")
    shared = sample("2.0", question="How far is the chair from the bed?")
    report = run(["ambiguity"], [unique, plural, shared], scene)
    assert outcomes(report) == ["accepted", "accepted", "ambiguous_referent"]
    assert "chair x3" in report.audits[2].detail


def test_programs_raising_ambiguous_count_under_ambiguity(scene: Scene, sandbox: Any) -> None:
    program = "import geometry as g\ndef solve(scene):\n    raise g.Ambiguous('too close')\n"
    report = run(["execution", "ambiguity"], [proposal(program=program)], scene, sandbox)
    assert outcomes(report) == ["ambiguous"]
    assert report.audits[0].check == "ambiguity"
    assert report.removed_by_check()["ambiguity"] == 1


@pytest.mark.parametrize(
    ("task", "strict"),
    [
        (
            "object_rel_distance",
            {"rel_distance_margin_m": 5.0, "rel_distance_margin_large_room_m": 5.0},
        ),
        ("object_rel_direction_hard", {"direction_margin_deg": 44.0}),
        ("obj_appearance_order", {"appearance_min_gap_s": 60.0}),
    ],
)
def test_host_rechecks_margins_with_the_verifiers_config(
    scene: Scene, sandbox: Any, task: str, strict: dict[str, float]
) -> None:
    proposer = ProgrammaticProposer(ProgrammaticConfig(seed=3, tasks=[task]))
    made = proposer.propose([scene], {(task, 1): 1, (task, 2): 1}).proposals
    assert made
    relaxed = run(["execution", "ambiguity"], made, scene, sandbox)
    assert outcomes(relaxed) == ["accepted"] * len(made)
    margins = AmbiguityConfig(**strict)
    stricter = run(["execution", "ambiguity"], made, scene, sandbox, ambiguity={"margins": margins})
    assert outcomes(stricter) == ["ambiguous"] * len(made)


# -- 5. grounding -------------------------------------------------------------------------
def test_grounding(scene: Scene) -> None:
    seen = sample(
        "1", question="How big is the plant?", referenced_instances=[6], frame_indices=[0]
    )
    unseen = sample("1", question="How big is the tv?", referenced_instances=[3], frame_indices=[0])
    uniform = sample("1", question="How big is the tv?", referenced_instances=[3])  # 16 frames
    unknown = sample("1", question="How big is it?", referenced_instances=[999])
    by_name = sample("1", question="Is the sofa big?", frame_indices=[0, 3])  # no referenced
    report = run(["grounding"], [seen, unseen, uniform, unknown, by_name], scene)
    assert outcomes(report) == [
        "accepted",
        "not_grounded",
        "accepted",
        "not_grounded",
        "not_grounded",
    ]
    assert "tv #3" in report.audits[1].detail
    assert "'sofa'" in report.audits[4].detail


def test_grounding_of_category_questions_needs_one_instance_per_category(scene: Scene) -> None:
    # frame 3 shows the bed and chair #8 only; chairs #7 and #9 stay unseen
    ask = {"question": "Which appears first: bed or chair?", "frame_indices": [3]}
    order = sample(
        "1", question_type="obj_appearance_order", referenced_instances=[1, 7, 8, 9], **ask
    )
    count = sample("3", question_type="object_counting", referenced_instances=[1, 7, 8, 9], **ask)
    assert outcomes(run(["grounding"], [order, count], scene)) == ["accepted", "not_grounded"]


def test_grounding_notes_metadata_only_scenes(scene: Scene) -> None:
    bare = scene.model_copy(update={"frames": ()})
    candidate = sample("1", question="How big is the tv?", referenced_instances=[3])
    report = run(["grounding"], [candidate], bare)
    assert outcomes(report) == ["accepted"]
    assert "no frames" in report.audits[0].notes[0]
    assert "no frames" in (report.samples[0].reason or "")


# -- 6. de-duplication --------------------------------------------------------------------
def test_dedup(scene: Scene) -> None:
    first = sample("3", question="How many chair(s) are in this room?")
    exact = sample("3", question="  how many CHAIR(S) are in this room ")
    near = sample("3", question="How many chair(s) are there in this room?")
    other_answer = sample("2", question="How many chair(s) are there in this room?")
    other_object = sample("3", question="How many bed(s) are in this room?")
    report = run(["dedup"], [first, exact, near, other_answer, other_object], scene)
    assert outcomes(report) == [
        "accepted",
        "duplicate",
        "near_duplicate",
        "accepted",
        "accepted",
    ]
    assert report.samples[0].sample_id in report.audits[1].detail


def test_dedup_keeps_questions_that_swap_their_objects(scene: Scene) -> None:
    ask = "If I am standing by the {} and facing the {}, is the lamp to the left or the right?"
    options = ["A. left", "B. right"]
    one = sample("A", question=ask.format("bed", "tv"), options=options)
    two = sample("A", question=ask.format("tv", "bed"), options=options)
    assert outcomes(run(["dedup"], [one, two], scene)) == ["accepted", "accepted"]


def test_dedup_keeps_the_same_words_about_other_frames(scene: Scene) -> None:
    question = "Between the first and the second image, which way did the camera rotate?"
    options = ["A. left", "B. right"]
    one = sample("A", question=question, options=options, frame_indices=[0, 3])
    two = sample("A", question=question, options=options, frame_indices=[3, 6])
    assert outcomes(run(["dedup"], [one, two], scene)) == ["accepted", "accepted"]


# -- 7. blind check (a scripted solver here; the tiny model in test_verifier_blind.py) -----
def test_blind_rejects_what_a_blind_solver_gets_right(scene: Scene) -> None:
    choice = sample(
        "B",
        question="Which is nearest to the bed?",
        options=["A. tv", "B. lamp"],
        question_type="x",
    )
    number = sample("3")
    knows = run(["blind"], [choice, number], scene, solver=ScriptedSolver(right=True))
    guesses = run(["blind"], [choice, number], scene, solver=ScriptedSolver(right=False))
    assert outcomes(knows) == ["answerable_blind", "answerable_blind"]
    assert outcomes(guesses) == ["accepted", "accepted"]
    assert "3 of 3 paraphrases" in knows.audits[0].detail


def test_a_question_the_blind_check_cannot_ask_is_kept_as_a_check_error(scene: Scene) -> None:
    no_options = sample("A", question="Which?").model_copy(deep=True)
    no_options.proposal.answer_kind = "multiple_choice"  # typed_answer would reject it first
    report = run(["blind"], [no_options, sample("3")], scene, solver=ScriptedSolver(right=True))
    assert outcomes(report) == ["check_error", "answerable_blind"]
    assert "needs its options" in report.audits[0].detail


def test_blind_is_skipped_with_a_note_without_a_solver(scene: Scene) -> None:
    report = run(["blind"], [sample("3")], scene)
    assert outcomes(report) == ["accepted"]
    assert report.notes == ["blind: no solver given: blind check skipped"]
