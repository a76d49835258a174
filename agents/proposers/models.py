"""Chat models for the LLM proposer from one config string, and how to tell a transient error.

Accepted specs:
- `vllm:MODEL@http://host:port/v1`: a vLLM OpenAI-compatible server (ChatOpenAI with
  `base_url`); the key is `$VLLM_API_KEY`, else "EMPTY". Without `@URL`, `$VLLM_BASE_URL`
  or http://localhost:8000/v1.
- `openai:MODEL`, `anthropic:MODEL` and every other `provider:MODEL` that LangChain's
  `init_chat_model` knows (its provider package must be installed).
- any `BaseChatModel` instance (Python only).

Retries are not left to the client (`max_retries=0` where we build it): the agent retries
transient failures itself, with backoff, and records each one in the attempt's trajectory.
"""

from __future__ import annotations

import importlib.util
import os
import random
import re
import time
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable

from agents.proposers.llm_trajectory import ModelCall
from common.errors import UserError

DEFAULT_VLLM_URL = "http://localhost:8000/v1"

#: provider -> (python module, pip requirement) for the providers we name in errors.
PROVIDER_PACKAGES: dict[str, tuple[str, str]] = {
    "anthropic": ("langchain_anthropic", "'ouroboros-spatial[anthropic]' (langchain-anthropic)"),
    "openai": ("langchain_openai", "langchain-openai"),
    "google_genai": ("langchain_google_genai", "langchain-google-genai"),
    "ollama": ("langchain_ollama", "langchain-ollama"),
}

#: Exception class names (anywhere in the MRO) that mean "try again later".
TRANSIENT_ERROR_NAMES = frozenset(
    {
        "APITimeoutError",
        "APIConnectionError",
        "RateLimitError",
        "InternalServerError",
        "ServiceUnavailableError",
        "OverloadedError",
        "TimeoutException",
        "TransportError",
        "ReadTimeout",
        "ConnectTimeout",
        "RemoteProtocolError",
        "ModelRateLimitError",
        "ModelTimeoutError",
        "ModelConnectionError",
    }
)

#: Model names that take images, for multimodal="auto" when the model has no profile.
_VISION_NAME = re.compile(
    r"(vl\b|-vl|vl-|vision|llava|pixtral|gpt-4o|gpt-4\.1|gpt-5|claude|gemini)"
)


@dataclass
class ModelSettings:
    """How to build the chat model from a spec string."""

    temperature: float = field(default=0.7, metadata={"help": "Sampling temperature."})
    max_response_tokens: int = field(
        default=4096, metadata={"help": "Longest reply the model may write per call (tokens)."}
    )
    request_timeout_s: float = field(
        default=120.0, metadata={"help": "Time limit of one model request (s)."}
    )


def make_chat_model(
    spec: str | BaseChatModel, settings: ModelSettings | None = None
) -> BaseChatModel:
    """The chat model a spec names (see the module docstring); instances pass through."""
    if isinstance(spec, BaseChatModel):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise UserError(
            "no proposer model given; pass --model, e.g. "
            "vllm:Qwen/Qwen3-VL-8B-Instruct@http://localhost:8000/v1 or openai:gpt-4o"
        )
    settings = settings or ModelSettings()
    spec = spec.strip()
    if spec.startswith("vllm:"):
        return _vllm_model(spec, settings)
    provider = spec.split(":", 1)[0] if ":" in spec else None
    if provider in PROVIDER_PACKAGES:
        module, requirement = PROVIDER_PACKAGES[provider]
        if importlib.util.find_spec(module) is None:
            raise UserError(
                f"model {spec!r} needs the {module} package, which is not installed; "
                f"install it with: pip install {requirement}"
            )
    from langchain.chat_models import init_chat_model

    kwargs = {"temperature": settings.temperature, "max_tokens": settings.max_response_tokens}
    kwargs.update(_timeout_kwargs(provider, settings))
    try:
        return init_chat_model(spec, **kwargs)
    except ImportError as error:
        raise UserError(f"model {spec!r}: {error}") from error
    except ValueError as error:
        raise UserError(
            f"model {spec!r} is not a model spec LangChain knows ({str(error).splitlines()[0]}); "
            "write provider:MODEL (openai:, anthropic:, google_genai:, ollama:, ...) or "
            "vllm:MODEL@http://host:port/v1"
        ) from error
    except Exception as error:  # missing API keys and the like, raised by the client
        raise UserError(f"model {spec!r} could not be set up: {error}") from error


def _timeout_kwargs(provider: str | None, settings: ModelSettings) -> dict[str, object]:
    if provider in {"openai", "anthropic", None}:
        return {"timeout": settings.request_timeout_s, "max_retries": 0}
    return {}


def parse_vllm_spec(spec: str) -> tuple[str, str]:
    """'vllm:MODEL@URL' -> (MODEL, URL); the URL defaults to $VLLM_BASE_URL or localhost:8000."""
    body = spec[len("vllm:") :]
    match = re.search(r"@(https?://\S+)$", body)
    if match:
        model, url = body[: match.start()], match.group(1)
    else:
        model, url = body, os.environ.get("VLLM_BASE_URL", DEFAULT_VLLM_URL)
    if not model or "@" in model:
        raise UserError(
            f"model spec {spec!r} must look like vllm:MODEL@http://host:port/v1, e.g. "
            "vllm:Qwen/Qwen3-VL-8B-Instruct@http://localhost:8000/v1"
        )
    return model, url.rstrip("/")


def _vllm_model(spec: str, settings: ModelSettings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    model, url = parse_vllm_spec(spec)
    return ChatOpenAI(
        model=model,
        base_url=url,
        api_key=os.environ.get("VLLM_API_KEY", "EMPTY"),
        temperature=settings.temperature,
        max_completion_tokens=settings.max_response_tokens,
        timeout=settings.request_timeout_s,
        max_retries=0,
    )


def model_name(model: BaseChatModel) -> str:
    """A readable id of the model (for proposer ids and trajectories)."""
    for attribute in ("model_name", "model", "model_id"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def accepts_images(model: BaseChatModel) -> bool:
    """Whether the model takes images: its LangChain profile if it has one, else its name."""
    profile = getattr(model, "profile", None)
    if isinstance(profile, dict) and "image_inputs" in profile:
        return bool(profile["image_inputs"])
    return bool(_VISION_NAME.search(model_name(model).lower()))


def status_code(error: BaseException) -> int | None:
    """The HTTP status behind a client error, when there is one."""
    status = getattr(error, "status_code", None)
    if status is None:
        status = getattr(getattr(error, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def is_transient(error: BaseException) -> bool:
    """Timeouts, connection failures, rate limits and 5xx answers: worth retrying."""
    if isinstance(error, TimeoutError | ConnectionError):
        return True
    status = status_code(error)
    if status is not None:
        return status in (408, 409, 429) or status >= 500
    return any(cls.__name__ in TRANSIENT_ERROR_NAMES for cls in type(error).__mro__)


def invoke_with_retries(
    model: Runnable,
    messages: list[BaseMessage],
    *,
    retries: int,
    backoff_s: float,
    backoff_max_s: float,
    node: str,
) -> tuple[AIMessage | None, ModelCall, tuple[str, str]]:
    """One model call; transient errors are retried with exponential backoff and jitter.

    Returns (reply or None, the call's record, (reason code, detail) when it failed).
    """
    started = time.monotonic()
    errors: list[str] = []
    failure = ("", "")
    response: AIMessage | None = None
    for attempt in range(retries + 1):
        try:
            reply = model.invoke(messages)
        except Exception as error:
            status = status_code(error)
            http = f" (HTTP {status})" if status is not None else ""
            detail = f"{type(error).__name__}{http}: {str(error)[:300]}"
            if not is_transient(error):
                failure = ("model_error", detail)
                break
            errors.append(detail)
            if attempt == retries:
                failure = ("model_unavailable", f"{len(errors)} tries failed; last: {detail}")
                break
            backoff = min(backoff_max_s, backoff_s * 2**attempt)
            time.sleep(backoff * (0.5 + random.random() / 2))
            continue
        response = reply if isinstance(reply, AIMessage) else AIMessage(content=str(reply))
        break
    usage = (response.usage_metadata or {}) if response is not None else {}
    input_tokens = usage.get("input_tokens") or (
        estimate_tokens(messages) if response is not None else 0
    )
    output_tokens = usage.get("output_tokens") or (
        estimate_tokens([response]) if response is not None else 0
    )
    record = ModelCall(
        node=node,
        latency_s=time.monotonic() - started,
        input_tokens=int(input_tokens),
        output_tokens=int(output_tokens),
        retries=len(errors) - (1 if failure[0] == "model_unavailable" else 0),
        errors=errors,
        tool_calls=[call["name"] for call in response.tool_calls] if response is not None else [],
    )
    return response, record, failure


IMAGE_TOKEN_ESTIMATE = 1000


def estimate_tokens(messages: list[BaseMessage]) -> int:
    """About four characters a token, a fixed cost per image: for models that report no usage."""
    characters = images = 0
    for message in messages:
        blocks = message.content if isinstance(message.content, list) else [message.content]
        for block in blocks:
            if isinstance(block, dict) and block.get("type") in {"image", "image_url"}:
                images += 1
            else:
                characters += len(block if isinstance(block, str) else str(block.get("text", "")))
        characters += sum(len(str(call["args"])) for call in getattr(message, "tool_calls", []))
    return characters // 4 + IMAGE_TOKEN_ESTIMATE * images
