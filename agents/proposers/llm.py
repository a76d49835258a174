"""The LLM proposer: a tool-using LangGraph agent, any chat model, one attempt per quota slot.

For each arm (task type, level) it fills its quota slot by slot: an attempt gives the agent
one scene and the arm, the agent explores with the scene tools, tests a program and submits
(see llm_agent.py); a failed attempt (limits, errors, withdrawn by the re-check) is retried
on the next scene, up to `attempts_per_proposal` times, and its reason counted. Every
attempt's trajectory goes to a JSONL audit log. Models are swapped with one string
(`vllm:MODEL@URL`, `openai:MODEL`, `anthropic:MODEL`, ...) or any BaseChatModel.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.tools import BaseTool
from langgraph.errors import GraphRecursionError

from agents.curriculum import Arm, DifficultyFeedback
from agents.proposers.base import (
    ArmOutcome,
    ProposalBatch,
    ProposerCommon,
    ProposerResources,
    check_request,
    select_tasks,
    task_arms,
)
from agents.proposers.llm_agent import AgentLimits, build_agent_graph, recursion_limit
from agents.proposers.llm_prompts import ProposerFeedback, request_prompt, system_prompt
from agents.proposers.llm_tools import (
    QuestionRegistry,
    TaskRequest,
    ToolContext,
    ToolSettings,
    build_tools,
)
from agents.proposers.llm_trajectory import Trajectory, TrajectoryLog, audit_messages
from agents.proposers.models import ModelSettings, accepts_images, make_chat_model, model_name
from agents.records import Proposal, Sample
from agents.tasks import TASKS
from common.errors import UserError
from common.settings import build_dataclass, reject_reserved
from scenes.schema import Scene
from tools.sandbox.base import Sandbox

DEFAULT_MODEL = "vllm:Qwen/Qwen3-VL-8B-Instruct@http://localhost:8000/v1"
MODEL_FAILURES = ("model_error", "model_unavailable")


@dataclass
class LLMProposerConfig:
    """Settings of the LLM proposer."""

    model: str = field(
        default=DEFAULT_MODEL,
        metadata={
            "help": "vllm:MODEL@http://host:port/v1, openai:MODEL, anthropic:MODEL, or any "
            "provider:MODEL LangChain's init_chat_model knows."
        },
    )
    seed: int = field(default=0, metadata={"help": "Seed for the scene order of each arm."})
    tasks: list[str] | None = field(
        default=None, metadata={"help": "Task types to propose (default: every registered one)."}
    )
    attempts_per_proposal: int = field(
        default=2, metadata={"help": "Attempts (each on another scene) per quota slot."}
    )
    concurrency: int = field(
        default=1, metadata={"help": "Attempts run at once (a vLLM server batches them)."}
    )
    recheck: bool = field(
        default=False,
        metadata={"help": "Let the model review each submitted question and withdraw it."},
    )
    recheck_frames: int = field(default=8, metadata={"help": "Frames shown in the re-check."})
    multimodal: Literal["auto", "yes", "no"] = field(
        default="auto",
        metadata={"help": "Send frame images (yes), text descriptions (no), or guess (auto)."},
    )
    trajectory_path: str | None = field(
        default=None, metadata={"help": "JSONL file the attempts' trajectories are appended to."}
    )
    max_consecutive_model_failures: int = field(
        default=3,
        metadata={"help": "Stop the round when this many attempts in a row fail in the model."},
    )
    limits: AgentLimits = field(
        default_factory=AgentLimits, metadata={"help": "Bounds on one attempt."}
    )
    model_settings: ModelSettings = field(
        default_factory=ModelSettings, metadata={"help": "Temperature, reply length, timeout."}
    )
    tool_settings: ToolSettings = field(
        default_factory=ToolSettings, metadata={"help": "Frames, program limits of the tools."}
    )


class LLMProposer:
    """Proposals from a tool-using chat model; implements the `Proposer` protocol."""

    def __init__(
        self,
        config: LLMProposerConfig | None = None,
        *,
        model: BaseChatModel | None = None,
        tools: Sequence[Callable[..., Any] | BaseTool] | None = None,
        sandbox: Sandbox | None = None,
        scene_dirs: Mapping[str, str | Path] | None = None,
        feedback: ProposerFeedback | None = None,
    ) -> None:
        self.config = config or LLMProposerConfig()
        self.tasks = select_tasks(self.config.tasks, TASKS)
        self.model = make_chat_model(
            model if model is not None else self.config.model, self.config.model_settings
        )
        self.proposer_id = f"llm:{model_name(self.model)}"
        self.multimodal = {"yes": True, "no": False}.get(
            self.config.multimodal, accepts_images(self.model)
        )
        self.tools = build_tools(tools)
        self.graph = build_agent_graph(
            self.model,
            self.tools,
            self.config.limits,
            recheck=self.config.recheck,
            recheck_frames=self.config.recheck_frames,
        )
        self.scene_dirs = {key: Path(value) for key, value in (scene_dirs or {}).items()}
        self.feedback = feedback
        self.log = (
            TrajectoryLog(self.config.trajectory_path) if self.config.trajectory_path else None
        )
        self.trajectories: list[Trajectory] = []
        self._sandbox = sandbox
        self._owned_sandbox: Any = None
        self._failures = _FailureStreak(self.config.max_consecutive_model_failures)

    config_class = LLMProposerConfig
    #: LLMProposerConfig fields the run's other settings decide (name -> that setting).
    reserved: ClassVar[dict[str, str]] = {
        "seed": "seed",
        "tasks": "proposer.tasks",
        "model": "proposer.model",
        "trajectory_path": "the run directory (iterations/NNN/trajectories.jsonl)",
    }
    #: ToolSettings fields the run's other settings decide.
    reserved_tools: ClassVar[dict[str, str]] = {
        "num_solver_frames": "solver.settings.num_frames",
        "program_timeout_s": "sandbox.timeout_s",
        "program_memory_mb": "sandbox.memory_mb",
    }

    @classmethod
    def make_config(
        cls, common: ProposerCommon, settings: Mapping[str, Any], where: str = "proposer.settings"
    ) -> LLMProposerConfig:
        """The config from the run's shared values plus `proposer.settings` (concurrency,
        recheck, limits, model_settings, tool_settings, ...)."""
        reject_reserved(settings, cls.reserved, where)
        tools = settings.get("tool_settings") or {}
        if isinstance(tools, Mapping):
            reject_reserved(tools, cls.reserved_tools, f"{where}.tool_settings")
        config = build_dataclass(LLMProposerConfig, settings, where, hidden=cls.reserved)
        config.seed, config.tasks = common.seed, common.tasks
        if common.model:
            config.model = common.model
        config.tool_settings = dataclasses.replace(
            config.tool_settings,
            num_solver_frames=common.num_solver_frames,
            program_timeout_s=common.program_timeout_s,
            program_memory_mb=common.program_memory_mb,
        )
        return config

    @classmethod
    def arms_for(cls, config: LLMProposerConfig) -> list[Arm]:
        """The arms a proposer with `config` offers, without a chat model, graph or sandbox."""
        return task_arms(select_tasks(config.tasks, TASKS))

    @classmethod
    def from_config(
        cls, config: LLMProposerConfig, resources: ProposerResources | None = None
    ) -> LLMProposer:
        """The registry's constructor: the run's sandbox, scene folders, trajectory log and
        last round's feedback come in `resources`."""
        resources = resources or ProposerResources()
        if resources.trajectories is not None:
            config = dataclasses.replace(config, trajectory_path=str(resources.trajectories))
        proposer = cls(
            config,
            model=resources.chat_model,
            sandbox=resources.sandbox,
            scene_dirs=resources.scene_dirs,
        )
        proposer.set_feedback(resources.feedback, resources.samples)
        return proposer

    # -- Proposer protocol ----------------------------------------------------------------
    def arms(self) -> list[Arm]:
        return task_arms(self.tasks)

    def set_feedback(
        self, feedback: DifficultyFeedback | ProposerFeedback | None, samples: Iterable[Sample] = ()
    ) -> None:
        """Last round's bands (and scored samples, for too-easy / too-hard examples)."""
        if feedback is None or isinstance(feedback, ProposerFeedback):
            self.feedback = feedback
        else:
            self.feedback = ProposerFeedback.from_samples(samples, bands=feedback)

    def propose(
        self,
        scenes: Sequence[Scene],
        quotas: Mapping[Arm, int],
        on_progress: Callable[[int], None] | None = None,
    ) -> ProposalBatch:
        check_request(self.tasks, scenes, quotas)
        ordered = sorted(scenes, key=lambda s: s.id)
        round_ = _Round(
            system=system_prompt(self.tasks, self.feedback, self.tools),
            questions=QuestionRegistry(),
        )
        slots = [(arm, k) for arm in sorted(quotas) for k in range(quotas[arm])]
        outcomes = {
            arm: ArmOutcome(question_type=arm[0], level=arm[1], requested=quotas[arm], proposed=0)
            for arm in sorted(quotas)
        }
        self.trajectories = []
        results: list[tuple[Proposal | None, list[str]]] = []
        workers = max(1, self.config.concurrency)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="proposer") as pool:
            futures = [pool.submit(self._slot, ordered, arm, k, round_) for arm, k in slots]
            try:
                for future in futures:
                    results.append(future.result())
                    if on_progress is not None:
                        on_progress(1)
            except BaseException:
                round_.abort.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        batch = ProposalBatch(proposer_id=self.proposer_id)
        for (arm, _), (proposal, reasons) in zip(slots, results, strict=True):
            outcome = outcomes[arm]
            if proposal is not None:
                batch.proposals.append(proposal)
                outcome.proposed += 1
            for reason in reasons:
                outcome.skipped[reason] = outcome.skipped.get(reason, 0) + 1
        for outcome in outcomes.values():
            outcome.skipped = dict(sorted(outcome.skipped.items()))
        batch.arms = list(outcomes.values())
        return batch

    # -- one slot, one attempt ------------------------------------------------------------
    def _slot(
        self, scenes: list[Scene], arm: Arm, k: int, round_: _Round
    ) -> tuple[Proposal | None, list[str]]:
        """Up to `attempts_per_proposal` attempts, each on the next scene; the reasons they failed."""
        name, level = arm
        candidates = [s for s in scenes if not self.tasks[name].needs_frames or s.frames]
        if not candidates:
            return None, ["needs_frames"] * self.config.attempts_per_proposal
        offset = random.Random(f"{self.config.seed}:{name}:{level}").randrange(len(candidates))
        reasons: list[str] = []
        for attempt in range(self.config.attempts_per_proposal):
            if round_.abort.is_set():
                return None, [*reasons, "aborted"]
            scene = candidates[(offset + k + attempt) % len(candidates)]
            trajectory = self.attempt(scene, TaskRequest(name, level), round_)
            self._failures.record(trajectory, round_, model_name(self.model))
            if trajectory.outcome == "submitted" and trajectory.proposal is not None:
                return trajectory.proposal, reasons
            reasons.append(trajectory.reason or "no_submission")
        return None, reasons

    def attempt(
        self, scene: Scene, request: TaskRequest, round_: _Round | None = None
    ) -> Trajectory:
        """One run of the agent graph on one scene; returns (and logs) its trajectory."""
        round_ = round_ or _Round(
            system=system_prompt(self.tasks, self.feedback, self.tools),
            questions=QuestionRegistry(),
        )
        context = ToolContext(
            scene=scene,
            sandbox=self._ensure_sandbox(),
            scene_dir=self.scene_dirs.get(scene.id),
            request=request,
            settings=dataclasses.replace(self.config.tool_settings, multimodal=self.multimodal),
            proposer_id=self.proposer_id,
            questions=round_.questions,
        )
        messages = [
            SystemMessage(round_.system),
            HumanMessage(
                request_prompt(
                    scene,
                    request.question_type,
                    request.level,
                    self.feedback,
                    self.config.tool_settings.num_solver_frames,
                )
            ),
        ]
        started = time.time()
        state: dict[str, Any] = {"messages": messages, "started_at": started}
        failure: tuple[str, str] | None = None
        try:
            for values in self.graph.stream(
                dict(state),
                context=context,
                config={"recursion_limit": recursion_limit(self.config.limits)},
                stream_mode="values",
            ):
                state = values
        except GraphRecursionError:
            failure = ("step_limit", "the attempt took more graph steps than its limits allow")
        except Exception as error:  # a bug or an unforeseen reply: keep the round going, audit it
            failure = ("agent_error", "".join(traceback.format_exception(error))[-4000:])
        trajectory = self._trajectory(scene, request, state, started, failure)
        with round_.lock:
            self.trajectories.append(trajectory)
        if self.log is not None:
            self.log.append(trajectory)
        return trajectory

    def _trajectory(
        self,
        scene: Scene,
        request: TaskRequest,
        state: dict[str, Any],
        started: float,
        failure: tuple[str, str] | None,
    ) -> Trajectory:
        submission = state.get("submission")
        recheck = state.get("recheck")
        if failure is None and submission is not None:
            kept = recheck is None or recheck.keep
            outcome, reason = ("submitted", None) if kept else ("withdrawn", "withdrawn")
            detail = recheck.reason if recheck is not None else ""
        else:
            outcome = "failed"
            reason, detail = failure or (
                state.get("stop_reason") or "no_submission",
                state.get("stop_detail", ""),
            )
        return Trajectory(
            attempt_id=uuid.uuid4().hex[:12],
            proposer_id=self.proposer_id,
            model=model_name(self.model),
            scene_id=scene.id,
            question_type=request.question_type,
            level=request.level,
            started_at=started,
            duration_s=time.time() - started,
            outcome=outcome,
            reason=reason,
            detail=detail,
            proposal=submission.proposal if submission is not None else None,
            executed_value=submission.executed_value if submission is not None else None,
            ground_truth=submission.ground_truth if submission is not None else None,
            recheck=recheck,
            tool_calls=state.get("tool_calls", 0),
            errors=state.get("errors", 0),
            input_tokens=state.get("input_tokens", 0),
            output_tokens=state.get("output_tokens", 0),
            model_calls=state.get("model_calls", []),
            messages=audit_messages(state.get("messages", [])),
        )

    # -- resources ------------------------------------------------------------------------
    def _ensure_sandbox(self) -> Sandbox:
        if self._sandbox is None:
            from tools.sandbox import make_sandbox

            self._owned_sandbox = make_sandbox(
                "local", workers=min(4, max(1, self.config.concurrency))
            )
            self._sandbox = self._owned_sandbox
        return self._sandbox

    def close(self) -> None:
        """Stop the sandbox this proposer started (one passed in is left to its owner)."""
        if self._owned_sandbox is not None:
            self._owned_sandbox.close()
            self._owned_sandbox = None
            self._sandbox = None

    def __enter__(self) -> LLMProposer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback_: TracebackType | None,
    ) -> None:
        self.close()


@dataclass
class _Round:
    """What the attempts of one round share: the system prompt, the questions asked, a stop flag."""

    system: str
    questions: QuestionRegistry
    abort: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _FailureStreak:
    """Ends the round with a clear error when the model fails attempt after attempt."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.count = 0
        self._lock = threading.Lock()

    def record(self, trajectory: Trajectory, round_: _Round, model: str) -> None:
        with self._lock:
            self.count = self.count + 1 if trajectory.reason in MODEL_FAILURES else 0
            if self.count < self.limit:
                return
        round_.abort.set()
        raise UserError(
            f"the proposer model failed {self.count} attempts in a row "
            f"({trajectory.reason}: {trajectory.detail[:300]}). Check that the model {model!r} "
            "is reachable and named correctly (--model); for vLLM, start the server with tool "
            "calling enabled (see docs/llm_proposer.md)"
        )
