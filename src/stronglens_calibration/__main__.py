"""Run the project as ``python -m stronglens_calibration``."""

from pathlib import Path

from kedro.framework.cli.utils import find_run_command
from kedro.framework.project import configure_project


def main(*args: str, **kwargs: object) -> object:
    """Entry point that behaves like ``kedro run``."""
    package_name = Path(__file__).parent.name
    configure_project(package_name)
    run = find_run_command(package_name)
    return run(*args, **kwargs)


if __name__ == "__main__":
    main()
