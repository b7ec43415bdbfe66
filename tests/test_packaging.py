"""The project's promises about itself: dependencies agree, the public API is explicit, docs run."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

import metrics_toolkit as mt
from metrics_toolkit import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def bounds(spec: str) -> tuple[str, str]:
    requirement = Requirement(spec)
    return requirement.name.lower().replace("_", "-"), str(requirement.specifier)


def test_environment_yml_lists_the_same_packages_and_bounds_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["channels"] == ["conda-forge"]
    conda = [d for d in environment["dependencies"] if isinstance(d, str) and d != "pip"]
    conda_bounds = dict(bounds(spec) for spec in conda)
    python = conda_bounds.pop("python")
    assert python == project["requires-python"]
    assert conda_bounds == dict(bounds(spec) for spec in project["dependencies"])


def test_public_api_is_explicit_sorted_and_importable() -> None:
    assert len(set(mt.__all__)) == len(mt.__all__)  # order is checked by ruff (RUF022)
    for name in mt.__all__:
        assert hasattr(mt, name), name
    modules = [
        "buckets",
        "cache",
        "client",
        "directory",
        "errors",
        "fetch",
        "frames",
        "models",
        "params",
        "demo",
    ]
    for module_name in modules:
        module = importlib.import_module(f"metrics_toolkit.{module_name}")
        assert module.__doc__, module_name
        for name in getattr(module, "__all__", []):
            assert hasattr(module, name), f"{module_name}.{name}"


def test_every_public_callable_has_a_docstring() -> None:
    for name in mt.__all__:
        thing: Any = getattr(mt, name)
        if callable(thing):
            assert thing.__doc__, name


def test_readme_gives_the_two_commands_on_its_first_screen() -> None:
    first_screen = "\n".join(README.splitlines()[:40])
    assert "make demo" in first_screen and "make test" in first_screen


def test_readme_documents_every_cli_command() -> None:
    parser = cli._parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for command in commands:
        assert f"metrics-toolkit {command}" in README, command


def readme_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    return [block for block in blocks if "DEVIN_API_KEY" not in block.split("\n", 1)[0]]


def test_readme_python_examples_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every ``python`` block runs in order in one namespace (blocks that need a real key are
    marked by a first line mentioning DEVIN_API_KEY and skipped)."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    blocks = readme_blocks()
    assert len(blocks) >= 3
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # the docs are code
