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
    "parameter_schema",
    "photometry",
    "stats",
    "engines",
    "synthetic",
    "scan",
    "allocator",
    "sort_dispatch",
    "reference",
    "reporting",
    "notebook",
    "warning_filters",
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


@pytest.mark.slow
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
    kedro_modules = {
        "settings",
        "pipeline_registry",
        "__main__",
        "config_loader",
        "preflight",
        "run_lock",
        "output_sets",
        "parameter_check",
    }
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


def test_no_module_level_optional_imports() -> None:
    """No module guards an import with a module-level ``try/except ImportError``: on a
    Spark driver the fallback value (``None``) would be shipped to every executor."""
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if not isinstance(node, ast.Try):
                continue
            for handler in node.handlers:
                names = ast.unparse(handler.type) if handler.type else ""
                assert "ImportError" not in names, f"{path}:{node.lineno}"


def test_node_names_follow_their_functions() -> None:
    """Every node is called ``<function>_node``."""
    from kedro.framework.project import configure_project

    from stronglens_calibration.pipeline_registry import register_pipelines

    configure_project("stronglens_calibration")
    for name, pipeline in register_pipelines().items():
        for node in pipeline.nodes:
            assert node.name == f"{node.func.__name__}_node", (name, node.name)


def test_architecture_doc_lists_every_column() -> None:
    """docs/architecture.md documents every column of the schema with its dtype."""
    from stronglens_calibration import schema

    doc = (PACKAGE.parents[1] / "docs" / "architecture.md").read_text()
    for columns in (schema.OBJECT_COLUMNS, schema.QUARANTINE_COLUMNS, schema.CUTOUT_LOG_COLUMNS):
        for col in columns:
            assert f"| `{col.name}` | {col.dtype} |" in doc, col.name


def test_the_docs_name_tests_that_exist():
    """Every test that docs/reliability.md and docs/lessons.md name as the check of a
    promise exists (``path::name``, or ``::name`` for another test of the last path)."""
    import re

    root = PACKAGE.parents[1]
    for doc in ("reliability.md", "lessons.md"):
        text = (root / "docs" / doc).read_text()
        last = None
        found = 0
        for given, name in re.findall(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", text):
            if not given and not name:
                continue
            path = given or last
            assert path is not None, f"{doc}: ::{name} without a test file before it"
            source = (root / path).read_text()
            if name:
                assert f"def {name}(" in source, f"{doc}: {path}::{name} does not exist"
                found += 1
            last = path
        assert found >= 5, doc
