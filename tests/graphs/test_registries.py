"""Every pluggable part is chosen through its registry, with one constructor shape.

Proposers, policies, signals, sandboxes and recipes each have a registry whose entries all
offer a `from_config` classmethod, and the loop (graphs/, the CLI under graphs/commands) and
the benchmarks build them only through the registry functions, never by calling a class.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from agents.curriculum import POLICIES, make_policy
from agents.proposers import PROPOSERS
from agents.signals import SIGNALS, make_signal
from common.errors import UserError
from tools.sandbox import SANDBOXES, LocalSandbox, LocalSandboxConfig, make_sandbox
from training.recipes import RECIPES

ROOT = Path(__file__).resolve().parents[2]
REGISTRIES: dict[str, dict[str, type]] = {
    "PROPOSERS": PROPOSERS,
    "POLICIES": POLICIES,
    "SIGNALS": SIGNALS,
    "SANDBOXES": SANDBOXES,
    "RECIPES": RECIPES,
}


@pytest.mark.parametrize("registry", sorted(REGISTRIES))
def test_every_registry_entry_has_a_from_config_classmethod(registry: str) -> None:
    for name, cls in REGISTRIES[registry].items():
        method = inspect.getattr_static(cls, "from_config", None)
        assert isinstance(method, classmethod), f"{registry}[{name!r}] has no from_config"


def construction_sites(path: Path) -> list[str]:
    """Calls in `path` that build a registered class directly: `Cls(...)` or `REG[x](...)`."""
    classes = {cls.__name__ for registry in REGISTRIES.values() for cls in registry.values()}
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in classes:
            found.append(f"{where}:{node.lineno} calls {name}(...)")
        registry = func.value if isinstance(func, ast.Subscript) else None
        if isinstance(registry, ast.Name) and registry.id in REGISTRIES:
            found.append(f"{where}:{node.lineno} calls {registry.id}[...]")
    return found


def test_the_loop_cli_and_benchmarks_build_parts_only_through_registries() -> None:
    files = [*(ROOT / "graphs").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
    assert len(files) > 20, "the static check found too few files to mean anything"
    sites = [site for path in files for site in construction_sites(path)]
    assert not sites, "build these through the registry functions instead:\n" + "\n".join(sites)


def test_the_static_check_sees_a_direct_construction(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text("p = UniformPolicy(seed=1)\ns = SANDBOXES['local'](None)\nmake_policy('x')\n")
    assert [site.split(" ", 1)[1] for site in construction_sites(sample)] == [
        "calls UniformPolicy(...)",
        "calls SANDBOXES[...]",
    ]


def test_policies_are_built_by_from_config_with_their_own_settings() -> None:
    policy = make_policy("yield_bandit", seed=3, settings={"min_share": 0.5})
    assert (policy.seed, policy.min_share) == (3, 0.5)
    with pytest.raises(UserError, match=r"unknown setting.*temperatur.*known:.*temperature"):
        make_policy("bandit", settings={"temperatur": 1.0})


def test_signals_are_built_by_from_config_and_name_a_wrong_setting() -> None:
    assert make_signal("expected_score", {"grid_size": 5}).grid_size == 5
    with pytest.raises(UserError, match=r"grid_size.*token_confidence does not take"):
        make_signal("token_confidence", {"grid_size": 5})


def test_sandboxes_are_built_by_from_config_from_a_config_or_settings() -> None:
    with make_sandbox("local", LocalSandboxConfig(workers=1)) as sandbox:
        assert isinstance(sandbox, LocalSandbox) and sandbox.config.workers == 1
    with pytest.raises(UserError, match=r"unknown sandbox 'nowhere'"):
        make_sandbox("nowhere", LocalSandboxConfig())
