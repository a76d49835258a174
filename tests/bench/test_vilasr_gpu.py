"""The ViLaSR GPU timing script's CPU path: a timed drawing-solver turn and two tool-GRPO steps."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "vilasr_gpu.py"


def test_tiny_cpu_run_times_a_turn_and_two_grpo_steps(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("vilasr_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "result.json"
    result = module.main(
        [
            "--tiny",
            "--device=cpu",
            "--frames=2",
            "--frame-size=64",
            "--new-tokens=8",
            "--generations=2",
            "--turns=2",
            "--completion-tokens=16",
            f"--json={out}",
        ]
    )
    assert result["new_tokens"] == 8 and result["turn_s"] > 0
    assert result["prompt_tokens"] > 2 * 16  # two frames and one drawn image, 16 tokens each
    assert result["grpo_steps"] == 2 and result["grpo_s_per_step"] > 0
    assert json.loads(out.read_text()) == result
