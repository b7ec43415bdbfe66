"""The public API is guarded both ways: what is exported exists and is documented, and every
public class or function a module defines is exported (nothing public by accident)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from types import ModuleType

import pytest

import metrics_toolkit as mt

#: Modules whose names start with ``_`` are the implementation; every other one is public.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(mt.__path__, prefix="metrics_toolkit.")
    if not any(part.startswith("_") for part in info.name.split("."))
)


def defined_here(module: ModuleType) -> dict[str, object]:
    """The public classes and functions defined in ``module`` itself (not imported into it)."""
    return {
        name: value
        for name, value in vars(module).items()
        if name.isidentifier()
        and not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", None) == module.__name__
    }


def test_the_top_level_exports_exactly_its_public_names() -> None:
    for name in mt.__all__:
        getattr(mt, name)  # the lazy ones are loaded
    public = sorted(
        name
        for name in dir(mt)
        if not name.startswith("_") and not inspect.ismodule(getattr(mt, name))
    )
    assert sorted(set(mt.__all__) - {"__version__"}) == public
    for name, module in mt._LAZY_NAMES.items():  # each lazy name is where the table says
        assert getattr(mt, name) is getattr(
            importlib.import_module(f"metrics_toolkit.{module}"), name
        )
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        mt.nothing_here  # noqa: B018


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    heavy = ("pydantic", "urllib3", "requests", "matplotlib", "ipywidgets", "tqdm", "sqlite3")
    code = f"import sys, metrics_toolkit; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", MODULES)
def test_every_module_says_what_it_exports(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no docstring"
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    missing = sorted(set(defined_here(module)) - set(exported))
    assert not missing, f"{name} defines public names it does not export: {missing}"


@pytest.mark.parametrize("name", ["metrics_toolkit", *MODULES])
def test_every_exported_name_exists_and_is_documented(name: str) -> None:
    module = importlib.import_module(name)
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.{exported} does not exist"
        value = getattr(module, exported)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name}.{exported} has no docstring"


def test_every_error_the_package_raises_is_in_the_tree() -> None:
    # the demo is an independent oracle (it imports nothing of ours): its errors are its own
    for name in (module for module in MODULES if not module.startswith("metrics_toolkit.demo")):
        for value in defined_here(importlib.import_module(name)).values():
            if inspect.isclass(value) and issubclass(value, Warning):
                assert issubclass(value, mt.MetricsWarning), value
            elif inspect.isclass(value) and issubclass(value, Exception):
                assert issubclass(value, mt.MetricsError), value


def test_the_signatures_people_tab_complete_are_explicit() -> None:
    for function in (mt.MetricsClient.session_metrics_frame, mt.fetch_series):
        kinds = {p.kind for p in inspect.signature(function).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, function
    frame = inspect.signature(mt.MetricsClient.session_metrics_frame).parameters
    series = inspect.signature(mt.fetch_series).parameters
    assert set(series) - {"client", "endpoint", "metric"} == set(frame) - {"self"}


def test_the_family_is_reachable_from_the_top_level() -> None:
    from metrics_toolkit import errors, models

    assert mt.ScopeError is errors.ScopeError
    for name in ("PrMetrics", "UsageMetrics", "ActiveUserMetrics", "SessionsByCategory"):
        assert getattr(mt, name) is getattr(models, name)
    client = mt.MetricsClient.demo(now="2026-11-30")
    frame = mt.fetch_series(client, "2026-11-02", "2026-11-16", "week", endpoint=mt.PR_METRICS)
    assert "prs_merged_count" in frame.columns
