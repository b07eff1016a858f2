"""Third-party warnings that every ``kedro`` command would print and no user can act on,
silenced before Kedro loads its plugins (a ``kedro.init`` entry point in
``pyproject.toml``) and again at the project's entry point (``settings.py``, for sessions
started from Python). Warnings raised by the project's own code are never filtered here;
the test suite turns every other warning into an error (``pyproject.toml``)."""

from __future__ import annotations

import logging
import re
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


class _KnownWarningRecords(logging.Filter):
    """Drops the ``py.warnings`` log records of :data:`KNOWN` warnings. mlflow raises one
    of them inside its own ``catch_warnings`` block with ``simplefilter("once")``, which
    overrides any warnings filter; Kedro routes warnings to logging, where this catches
    it."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not any(re.search(message, text) for message, _ in KNOWN)


def quiet_third_party_warnings() -> None:
    """Install the filters of :data:`KNOWN`, as warnings filters and on the
    ``py.warnings`` logger (idempotent)."""
    for message, category in KNOWN:
        warnings.filterwarnings("ignore", message=message, category=category)
    captured = logging.getLogger("py.warnings")
    if not any(isinstance(f, _KnownWarningRecords) for f in captured.filters):
        captured.addFilter(_KnownWarningRecords())
