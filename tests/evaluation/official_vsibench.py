# Vendored from the official VSI-Bench evaluation code, for parity tests only.
#
# 1. vision-x-nyu/thinking-in-space, commit 51e089c3ae69b9435e9489058610f5b3964c56a8:
#    lmms_eval/tasks/vsibench/utils.py (the paper's scoring) and the reply strip in
#    lmms_eval/api/task.py (`ConfigurableTask.process_results`).
#    Copyright (c) the thinking-in-space authors. Licensed under the Apache License 2.0.
# 2. EvolvingLMMs-Lab/lmms-eval, commit 75571cfe0fa36ca5ec2e6aa2bb268f9d38295af3:
#    lmms_eval/tasks/vsibench/utils.py (`extract_number`, `vsibench_process_results`,
#    `_compute_all_subscores`). Copyright (c) 2025 LMMs-Lab. Licensed under the Apache
#    License 2.0 (lmms-eval's LICENSE applies Apache 2.0 to its tasks folder).
#
# You may obtain a copy of the License at http://www.apache.org/licenses/LICENSE-2.0.
# Unless required by applicable law or agreed to in writing, software distributed under
# the License is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY
# KIND, either express or implied.
#
# Changes from the originals (the only ones): dataset loading, prompts, logging and the
# percent formatting are left out; each project's functions are prefixed (`tis_` for
# thinking-in-space, `lmms_` for lmms-eval) so both fit in one module; the paper's
# aggregation returns its unscaled `output` dict (the scores before `* 100.`) so values can
# be compared bit for bit; `eval(value)` on the metric table is spelled out as the call it
# makes. Everything else is the original code. Not shipped: tests import it.
# ruff: noqa
import re
from functools import partial

import numpy as np
import pandas as pd

MCA_QUESTION_TYPES = [
    "object_rel_direction_easy",
    "object_rel_direction_medium",
    "object_rel_direction_hard",
    "object_rel_distance",
    "route_planning",
    "obj_appearance_order",
]
NA_QUESTION_TYPES = [
    "object_abs_distance",
    "object_counting",
    "object_size_estimation",
    "room_size_estimation",
]

METRICS_FOR_MCA = {
    "accuracy": "exact_match",
}

METRICS_FOR_NA = {
    "MRA:.5:.95:.05": "partial(mean_relative_accuracy, start=.5, end=.95, interval=.05)",
}

WORST_CASE_FOR_METRICS = {
    "accuracy": 0.0,
    "MRA:.5:.95:.05": 0.0,
}


# -- the harness (thinking-in-space lmms_eval/api/task.py, process_results) ----------------
def harness_strip(results):
    results[0] = results[0].strip()
    return results


# -- thinking-in-space lmms_eval/tasks/vsibench/utils.py ------------------------------------
def fuzzy_matching(pred):
    return pred.split(" ")[0].rstrip(".").strip()


def exact_match(pred, target):
    return 1.0 if pred.lower() == target.lower() else 0.0


def abs_dist_norm(pred, target):
    return abs(pred - target) / target


def mean_relative_accuracy(pred, target, start, end, interval):
    num_pts = (end - start) / interval + 2
    conf_intervs = np.linspace(start, end, int(num_pts))
    accuracy = abs_dist_norm(pred, target) <= 1 - conf_intervs
    return accuracy.mean()


def to_float(pred):
    try:
        pred = float(pred)
    except BaseException as e:
        pred = None
    return pred


_MRA = partial(mean_relative_accuracy, start=0.5, end=0.95, interval=0.05)


def tis_process_results(doc, results):
    doc["prediction"] = results[0]
    if doc["question_type"] in MCA_QUESTION_TYPES:
        for key, value in METRICS_FOR_MCA.items():
            doc[key] = exact_match(fuzzy_matching(doc["prediction"]), doc["ground_truth"])
    elif doc["question_type"] in NA_QUESTION_TYPES:
        for key, value in METRICS_FOR_NA.items():
            try:
                doc[key] = _MRA(
                    to_float(fuzzy_matching(doc["prediction"])), to_float(doc["ground_truth"])
                )
            except TypeError:
                doc[key] = WORST_CASE_FOR_METRICS[key]
    else:
        raise ValueError(f"Unknown question type: {doc['question_type']}")

    return {"vsibench_score": doc}


def tis_aggregate_output(results):
    results = pd.DataFrame(results)

    output = {}

    for question_type, question_type_indexes in results.groupby("question_type").groups.items():
        per_question_type = results.iloc[question_type_indexes]

        if question_type in MCA_QUESTION_TYPES:
            for metric in METRICS_FOR_MCA.keys():
                output[f"{question_type}_{metric}"] = per_question_type[metric].mean()
        elif question_type in NA_QUESTION_TYPES:
            for metric in METRICS_FOR_NA.keys():
                if metric == "success_rate":
                    output[f"{question_type}_{metric}"] = per_question_type[metric].mean()
                else:
                    output[f"{question_type}_{metric}"] = per_question_type[metric].mean()

        else:
            raise ValueError(f"Unknown question type: {question_type}")

    if "object_rel_direction_easy_accuracy" in output:
        output["object_rel_direction_accuracy"] = (
            sum(
                [
                    output.pop("object_rel_direction_easy_accuracy"),
                    output.pop("object_rel_direction_medium_accuracy"),
                    output.pop("object_rel_direction_hard_accuracy"),
                ]
            )
            / 3.0
        )

    output["overall"] = sum([_ for _ in output.values()]) / len(output)
    return output


# -- lmms-eval lmms_eval/tasks/vsibench/utils.py (current) ----------------------------------
_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
}
_NUM_RE = re.compile(r"-?\d+(?:\.\d+)?")


def extract_number(text):
    if text is None:
        return None
    s = str(text).strip().lower()
    if not s:
        return None

    digit_match = _NUM_RE.search(s)
    word_run_start = None
    word_run_tokens = []
    for m in re.finditer(r"[a-z]+", s):
        tok = m.group(0)
        if word_run_start is None:
            if tok in _NUMBER_WORDS:
                word_run_start = m.start()
                word_run_tokens.append(tok)
        else:
            if tok == "and":
                continue
            if tok in _NUMBER_WORDS:
                word_run_tokens.append(tok)
            else:
                break

    digit_first = digit_match is not None and (
        word_run_start is None or digit_match.start() < word_run_start
    )
    if digit_first:
        try:
            return float(digit_match.group(0))
        except ValueError:
            pass

    if word_run_start is None:
        return None

    total, current = 0, 0
    for tok in word_run_tokens:
        val = _NUMBER_WORDS[tok]
        if val == 100:
            current = max(current, 1) * 100
        elif val == 1000:
            total += max(current, 1) * 1000
            current = 0
        else:
            current += val
    return float(total + current)


def lmms_process_results(doc, results):
    doc["prediction"] = results[0]
    if doc["question_type"] in MCA_QUESTION_TYPES:
        for key, value in METRICS_FOR_MCA.items():
            doc[key] = exact_match(fuzzy_matching(doc["prediction"]), doc["ground_truth"])
    elif doc["question_type"] in NA_QUESTION_TYPES:
        for key, value in METRICS_FOR_NA.items():
            try:
                doc[key] = _MRA(extract_number(doc["prediction"]), to_float(doc["ground_truth"]))
            except TypeError:
                doc[key] = WORST_CASE_FOR_METRICS[key]
    else:
        raise ValueError(f"Unknown question type: {doc['question_type']}")
    return {"vsibench_overall": doc}


def lmms_compute_all_subscores(results) -> dict:
    df = pd.DataFrame(results)
    output = {}

    for question_type, question_type_indexes in df.groupby("question_type").groups.items():
        per_question_type = df.iloc[question_type_indexes]

        if question_type in MCA_QUESTION_TYPES:
            for metric in METRICS_FOR_MCA.keys():
                output[f"{question_type}_{metric}"] = per_question_type[metric].mean()
        elif question_type in NA_QUESTION_TYPES:
            for metric in METRICS_FOR_NA.keys():
                output[f"{question_type}_{metric}"] = per_question_type[metric].mean()
        else:
            raise ValueError(f"Unknown question type: {question_type}")

    output["object_rel_direction_accuracy"] = (
        sum(
            [
                output.pop("object_rel_direction_easy_accuracy"),
                output.pop("object_rel_direction_medium_accuracy"),
                output.pop("object_rel_direction_hard_accuracy"),
            ]
        )
        / 3.0
    )

    output["overall"] = sum([_ for _ in output.values()]) / len(output)
    return output
