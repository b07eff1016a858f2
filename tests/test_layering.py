"""The libraries know nothing of Kedro: each one, with every module in it, imports in a
fresh interpreter without loading kedro (so it runs unchanged in a notebook or a Spark
executor), and the pipelines folder holds wiring and nodes only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "stronglens_calibration"

#: Kedro-free libraries (modules or packages of ``stronglens_calibration``).
LIBRARIES = (
    "stamps",
    "catalogues",
    "sky",
    "lensing",
    "mock",
    "models",
    "evaluation",
    "gates",
    "storage",
    "schema",
    "checks",
    "photometry",
    "stats",
    "engines",
)

_PROBE = """
import importlib, pkgutil, sys
name = sys.argv[1]
module = importlib.import_module(name)
for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
    importlib.import_module(info.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("kedro", "kedro_datasets"))
print(",".join(loaded))
"""


@pytest.mark.parametrize("library", LIBRARIES)
def test_library_imports_without_kedro(library: str) -> None:
    """Importing every module of the library loads neither kedro nor kedro-datasets."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, f"stronglens_calibration.{library}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{library} loads {result.stdout.strip()}"


def test_every_library_is_listed() -> None:
    """A new top-level package is either a library (listed above) or one of the known
    Kedro-facing folders, so the layering test cannot silently miss it."""
    kedro_facing = {"pipelines", "datasets", "spark", "tracking", "hooks"}
    kedro_modules = {"settings", "pipeline_registry", "__main__", "config_loader", "preflight"}
    found = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    found -= {"__init__"}
    unlisted = found - set(LIBRARIES) - kedro_facing - kedro_modules
    assert not unlisted, f"classify these as library or Kedro-facing: {sorted(unlisted)}"


def test_pipeline_files_hold_wiring_only() -> None:
    """``pipeline.py`` files define ``create_pipeline`` and nothing else."""
    for path in (PACKAGE / "pipelines").glob("*/pipeline.py"):
        tree = ast.parse(path.read_text())
        defs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert defs == ["create_pipeline"], f"{path}: {defs}"
