"""The LLM proposer against a real HTTP server on 127.0.0.1 speaking OpenAI chat completions.

The server (http.server in a thread) answers from a script: tool calls, a 500, a reply too
slow for the client's timeout. The proposer reaches it through the same `vllm:MODEL@URL`
spec users pass, so ChatOpenAI's serialization of tools, tool results and images, and the
agent's retries, run for real. The server refuses requests beyond its budget and shuts
itself down after a few seconds, whatever the test does.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agents.proposers import LLMProposer, LLMProposerConfig
from agents.proposers.llm_agent import AgentLimits
from agents.proposers.llm_trajectory import read_trajectories
from agents.proposers.models import ModelSettings, make_chat_model, parse_vllm_spec
from agents.sample_io import read_samples
from agents.tasks import TASKS, TaskContext
from agents.tasks.demo_scene import demo_scene
from common.errors import UserError
from graphs.cli import main
from scenes.noise import save_with_noise_frames
from scenes.schema import Scene
from tools.sandbox import make_sandbox

MODEL = "Qwen/Qwen3-VL-8B-Instruct"
Reply = Callable[[dict[str, Any]], dict[str, Any]]
Step = Reply | int | tuple[float, Reply]  # a reply, an HTTP error status, or (delay s, reply)


class FakeOpenAIServer:
    """POST /v1/chat/completions answered from a script; stops itself after `lifetime_s`."""

    def __init__(
        self, script: list[Step] | Reply, max_requests: int = 40, lifetime_s: float = 30
    ) -> None:
        self.script = script
        self.max_requests = max_requests
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._deadline = threading.Timer(lifetime_s, self.stop)
        self._deadline.daemon = True

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        self._deadline.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._deadline.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()

    def next_step(self, body: dict[str, Any], headers: dict[str, str]) -> Step | None:
        with self._lock:
            index = len(self.requests)
            if index >= self.max_requests:
                return None
            self.requests.append(body)
            self.headers.append(headers)
        if callable(self.script):
            return self.script
        return self.script[index] if index < len(self.script) else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                step = server.next_step(body, {k.lower(): v for k, v in self.headers.items()})
                if step is None:
                    return self._send(429, {"error": {"message": "script exhausted"}})
                if isinstance(step, int):
                    return self._send(step, {"error": {"message": f"scripted {step}"}})
                if isinstance(step, tuple):
                    time.sleep(step[0])
                    step = step[1]
                return self._send(200, completion(step(body)))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout); nothing to answer

        return Handler


def completion(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{random.randrange(10**9)}",
        "object": "chat.completion",
        "created": 0,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None} | message,
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
            }
        ],
        "usage": {"prompt_tokens": 900, "completion_tokens": 40, "total_tokens": 940},
    }


def calls(*items: tuple[str, dict[str, Any]]) -> Reply:
    def reply(_body: dict[str, Any]) -> dict[str, Any]:
        return {
            "tool_calls": [
                {
                    "id": f"call_{random.randrange(10**9)}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for name, args in items
            ]
        }

    return reply


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenes") / "demo-room"
    save_with_noise_frames(demo_scene(), folder, width=64, height=48, seed=2)
    return folder


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with make_sandbox("local", workers=1) as runner:
        yield runner


BED_SIZE = "import geometry as g\n\ndef solve(scene):\n    return round(g.object_size(scene.unique('bed')) * 100)\n"
SUBMIT = {
    "question_type": "object_size_estimation",
    "question": "What is the length of the longest side of the bed, in centimetres?",
    "answer_kind": "numeric",
    "program": BED_SIZE,
    "stated_answer": "200",
    "referenced_instances": [1],
}


def test_vllm_spec_talks_to_a_real_server_with_retries(
    scene_dir: Path, sandbox: Any, tmp_path: Path
) -> None:
    script: list[Step] = [
        500,
        calls(("list_categories", {}), ("view_frames", {"frame_indices": [0, 1]})),
        (1.0, calls(("room_info", {}))),  # slower than the client's 0.3 s timeout
        calls(("run_program", {"program": BED_SIZE.replace("object_size", "object_sise")})),
        calls(("submit_proposal", SUBMIT)),
    ]
    with FakeOpenAIServer(script) as server:
        config = LLMProposerConfig(
            model=f"vllm:{MODEL}@{server.url}",
            model_settings=ModelSettings(request_timeout_s=0.3),
            limits=AgentLimits(retry_backoff_s=0.01, retry_backoff_max_s=0.02),
            trajectory_path=str(tmp_path / "audit.jsonl"),
        )
        scene = Scene.load(scene_dir)
        llm = LLMProposer(config, sandbox=sandbox, scene_dirs={scene.id: scene_dir})
        batch = llm.propose([scene], {("object_size_estimation", 4): 1})

    assert len(batch.proposals) == 1 and batch.proposer_id == f"llm:{MODEL}"
    assert len(server.requests) == 5  # 500, ok, timed out, ok, ok
    first = server.requests[0]
    assert first["model"] == MODEL and server.headers[0]["authorization"] == "Bearer EMPTY"
    offered = {tool["function"]["name"] for tool in first["tools"]}
    assert {"view_frames", "run_program", "submit_proposal", "measure_between"} <= offered
    submit_schema = next(t for t in first["tools"] if t["function"]["name"] == "submit_proposal")
    assert "stated_answer" in submit_schema["function"]["parameters"]["required"]
    assert [m["role"] for m in first["messages"]] == ["system", "user"]

    after_tools = server.requests[2]["messages"]
    roles = [m["role"] for m in after_tools]
    assert roles[-4:] == ["assistant", "tool", "tool", "user"]
    assistant = after_tools[-4]
    assert [c["id"] for c in assistant["tool_calls"]] == [
        m["tool_call_id"] for m in after_tools[-3:-1]
    ]
    assert all(isinstance(m["content"], str) for m in after_tools if m["role"] == "tool")
    images = [p for p in after_tools[-1]["content"] if p["type"] == "image_url"]
    assert len(images) == 2 and images[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert server.requests[3] == server.requests[2]  # the timed-out request was sent again

    [trajectory] = read_trajectories(tmp_path / "audit.jsonl")
    retried = [c for c in trajectory.model_calls if c.retries]
    assert "(HTTP 500)" in retried[0].errors[0] and "Timeout" in retried[1].errors[0]
    assert len(trajectory.model_calls) == 3 and trajectory.input_tokens == 900 * 3
    assert trajectory.outcome == "submitted"
    assert "AttributeError" in json.dumps(trajectory.messages)


def test_a_server_that_keeps_failing_gives_up_with_a_clear_error(
    scene_dir: Path, sandbox: Any
) -> None:
    with FakeOpenAIServer([503] * 6) as server:
        config = LLMProposerConfig(
            model=f"vllm:{MODEL}@{server.url}",
            limits=AgentLimits(model_retries=1, retry_backoff_s=0.01),
            attempts_per_proposal=1,
            max_consecutive_model_failures=2,
        )
        llm = LLMProposer(config, sandbox=sandbox)
        with pytest.raises(UserError, match=r"failed 2 attempts in a row \(model_unavailable"):
            llm.propose([Scene.load(scene_dir)], {("object_size_estimation", 4): 3})
    assert len(server.requests) == 4


def arm_responder() -> Reply:
    """A model that runs the task library's program for the requested arm, then submits it
    with the value run_program reported as its stated answer."""
    scene = demo_scene()
    made: dict[tuple[str, int], Any] = {}

    def reply(body: dict[str, Any]) -> dict[str, Any]:
        request = next(m["content"] for m in body["messages"] if m["role"] == "user")
        task, level = re.search(r"Task: (\S+), level (\d)", request).groups()  # type: ignore[union-attr]
        arm = (task, int(level))
        if arm not in made:
            made[arm] = TASKS[task].propose(TaskContext.build(scene, rng=random.Random(0)), arm[1])
        proposal = made[arm]
        last = body["messages"][-1]
        result = re.match(r"ok: solve\(scene\) returned '?([^'\s]+)'?", last.get("content") or "")
        if last["role"] != "tool" or result is None:
            return calls(("run_program", {"program": proposal.program}))(body)
        return calls(
            (
                "submit_proposal",
                {
                    "question_type": task,
                    "question": proposal.question,
                    "options": proposal.options,
                    "answer_kind": proposal.answer_kind,
                    "program": proposal.program,
                    "stated_answer": result.group(1),
                    "referenced_instances": proposal.referenced_instances,
                },
            )
        )(body)

    return reply


def test_cli_propose_with_the_llm_proposer(
    scene_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "samples.parquet"
    with FakeOpenAIServer(arm_responder()) as server:
        code = main(
            [
                "propose",
                "--proposer",
                "llm",
                "--model",
                f"vllm:{MODEL}@{server.url}",
                "--scenes",
                str(scene_dir.parent),
                "--num",
                "3",
                "--out",
                str(out),
                "--tasks",
                "object_rel_distance",
                "--policy",
                "uniform",
                "--workers",
                "1",
            ]
        )
    printed = capsys.readouterr().out
    assert code == 0, printed
    samples = read_samples(out)
    assert len(samples) == 3 and len(server.requests) == 6
    assert [s.verdict for s in samples] == ["accepted"] * 3, [s.reason for s in samples]
    assert all(s.ground_truth for s in samples)
    assert {s.proposal.proposer_id for s in samples} == {f"llm:{MODEL}"}
    assert all(s.proposal.stated_answer == s.ground_truth for s in samples)
    assert "proposals per task" in printed and "object_rel_distance" in printed
    assert "wrote 3 samples (3 accepted, 0 rejected" in printed
    log = out.with_suffix(".trajectories.jsonl")
    assert f"trajectoriesappendedto{log}" in "".join(printed.split())
    assert len(read_trajectories(log)) == 3


def test_model_specs_choose_the_client() -> None:
    assert parse_vllm_spec(f"vllm:{MODEL}@http://gpu-box:8000/v1/") == (
        MODEL,
        "http://gpu-box:8000/v1",
    )
    model = make_chat_model(f"vllm:{MODEL}@http://127.0.0.1:9/v1")
    assert (model.model_name, model.openai_api_base, model.max_retries) == (
        MODEL,
        "http://127.0.0.1:9/v1",
        0,
    )
    assert model.openai_api_key.get_secret_value() == "EMPTY"
    for spec, says in [
        ("vllm:@http://x:1/v1", "must look like vllm:MODEL@"),
        ("nosuchprovider:model", "not a model spec LangChain knows"),
        ("", "no proposer model given"),
    ]:
        with pytest.raises(UserError, match=says):
            make_chat_model(spec)


def test_vllm_key_and_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_API_KEY", "secret-token")
    monkeypatch.setenv("VLLM_BASE_URL", "http://10.0.0.2:8001/v1")
    model = make_chat_model(f"vllm:{MODEL}")
    assert model.openai_api_base == "http://10.0.0.2:8001/v1"
    assert model.openai_api_key.get_secret_value() == "secret-token"


def test_anthropic_without_its_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "langchain_anthropic" else real(name, *a),
    )
    with pytest.raises(UserError, match=r"pip install 'ouroboros-spatial\[anthropic\]'"):
        make_chat_model("anthropic:claude-sonnet-4-5")


def test_any_chat_model_instance_can_be_passed(scene_dir: Path, sandbox: Any) -> None:
    from langchain_openai import ChatOpenAI

    with FakeOpenAIServer(arm_responder()) as server:
        model = ChatOpenAI(
            model="my-served-model", base_url=server.url, api_key="EMPTY", timeout=5, max_retries=0
        )
        llm = LLMProposer(LLMProposerConfig(tasks=["route_planning"]), model=model, sandbox=sandbox)
        batch = llm.propose([Scene.load(scene_dir)], {("route_planning", 2): 1})
    assert batch.proposer_id == "llm:my-served-model" and len(batch.proposals) == 1
    assert [r["model"] for r in server.requests] == ["my-served-model"] * 2
    assert llm.multimodal is False  # the name says nothing about images: text descriptions
