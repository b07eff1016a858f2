"""Run a notebook of the project headless: ``python -m stronglens_calibration.notebook
notebooks/walkthrough.ipynb [--output executed.ipynb] [--timeout 600]``.

The notebook runs in the root of the Kedro project that holds it (as ``kedro run`` does,
so relative paths such as the MLflow store resolve the same), on the kernel of this
Python; a failing cell stops it with that cell's error.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def execute_notebook(path: Path, output: Path | None = None, timeout_s: int = 600) -> Path:
    """Execute every cell of ``path`` and write the executed notebook.

    Parameters
    ----------
    path : pathlib.Path
        The ``.ipynb`` file.
    output : pathlib.Path, optional
        Where the executed notebook goes (default: beside it, ``<name>.executed.ipynb``).
    timeout_s : int
        Seconds a cell may take.

    Returns
    -------
    pathlib.Path
        The executed notebook.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    if timeout_s < 1:
        raise ValueError(f"'timeout_s' must be >= 1, got {timeout_s}")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout_s,
        kernel_name="python3",
        resources={"metadata": {"path": str(project_root(path))}},
    )
    client.execute()
    target = output or path.with_name(f"{path.stem}.executed.ipynb")
    nbformat.write(notebook, target)
    return target


def project_root(path: Path) -> Path:
    """The nearest folder at or above ``path`` whose ``pyproject.toml`` declares a Kedro
    project (``[tool.kedro]``); the notebook's own folder when there is none."""
    start = Path(path).resolve().parent
    for folder in (start, *start.parents):
        config = folder / "pyproject.toml"
        if config.is_file() and "[tool.kedro]" in config.read_text(errors="replace"):
            return folder
    return start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    print(execute_notebook(args.notebook, args.output, args.timeout))


if __name__ == "__main__":
    main()
