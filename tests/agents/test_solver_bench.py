"""The GPU benchmark's CPU path runs end to end on the tiny model, and its 4B config is right."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch

from agents.solver.tiny import build_tokenizer

BENCH = Path(__file__).resolve().parents[2] / "bench" / "solver_gpu.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("solver_gpu_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cpu_path_reports_every_row_and_stays_exact(
    bench: ModuleType, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = bench.main(
        [
            "--tiny",
            "--device",
            "cpu",
            "--scenes",
            "2",
            "--questions",
            "3",
            "--frames",
            "2",
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    printed = capsys.readouterr().out
    names = [row["row"] for row in report["rows"]]
    assert names[0].startswith("naive") and names[2].startswith("prefix-shared")
    assert len(names) == 5 and all(name in printed for name in names)
    assert report["max_shared_vs_naive_log_prob_diff"] < 1e-5
    assert 0 < report["flops_per_sample_shared"] < report["flops_per_sample_full"]
    header = len(build_tokenizer()("<|im_start|>user\n", add_special_tokens=False)["input_ids"])
    assert report["prefix_tokens"] == header + 2 * (1 + 16 + 1)  # 2 x (start, 16 image, end)
    assert all(row["samples_per_s"] > 0 for row in report["rows"])
    assert (tmp_path / "r.json").exists()


def test_4b_config_has_the_published_size(bench: ModuleType) -> None:
    config = bench.qwen3_vl_4b_config(build_tokenizer())
    with torch.device("meta"):
        model = bench.Qwen3VLForConditionalGeneration._from_config(config)
    parameters = sum(p.numel() for p in model.parameters())
    assert 4.3e9 < parameters < 4.6e9  # Qwen3-VL-4B-Instruct: about 4.44 B with tied embeddings
