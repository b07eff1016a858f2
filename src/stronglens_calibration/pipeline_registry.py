"""Project pipelines."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

#: Pipelines that write raw inputs (the demo survey; the sweeps' parquet copy); never part
#: of ``__default__``, so that a plain ``kedro run`` on real data cannot rewrite
#: ``data/01_raw``.
DATA_GENERATORS: frozenset[str] = frozenset({"mock_survey", "sweeps_to_parquet"})
#: Pipelines run on their own (``kedro run --pipelines scan``): a scan needs a region's
#: data and a trained model, which a training run on real data need not have.
SEPARATE: frozenset[str] = frozenset({"scan"})


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns
    -------
    dict
        Pipeline name to ``Pipeline``; ``__default__`` is the analysis flow
        (every pipeline except the data generators and the scan).
    """
    pipelines = find_pipelines(raise_errors=True)
    analysis = [p for name, p in pipelines.items() if name not in DATA_GENERATORS | SEPARATE]
    pipelines["__default__"] = sum(analysis, start=Pipeline([]))
    return pipelines
