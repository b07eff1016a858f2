"""Third-party warnings that every ``kedro`` command would print and no user can act on,
silenced once at the project's entry point (``settings.py``). Warnings raised by the
project's own code are never filtered here; the test suite turns every other warning
into an error (``pyproject.toml``)."""

from __future__ import annotations

import warnings

#: ``(message regex, category)`` of each silenced warning, with whose it is.
KNOWN: tuple[tuple[str, type[Warning]], ...] = (
    # omegaconf's deprecation, raised while Kedro and kedro-mlflow register resolvers
    (r"register_new_resolver\(\) is deprecated", UserWarning),
    # mlflow, about kedro-mlflow's own pyfunc model class (defined at import)
    (r".*Add type hints to the `predict` method", UserWarning),
    # mlflow's own response types, inspected when mlflow.pyfunc is imported
    (r".*Any type hint is inferred as AnyType", UserWarning),
)


def quiet_third_party_warnings() -> None:
    """Install the filters of :data:`KNOWN` (idempotent)."""
    for message, category in KNOWN:
        warnings.filterwarnings("ignore", message=message, category=category)
