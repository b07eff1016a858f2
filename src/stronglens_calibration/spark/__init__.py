"""The Spark engine (``kedro run --env spark``): the same Kedro-free per-batch functions
as the pandas engine, distributed with ``mapInPandas`` / ``applyInPandas``. pyspark is
imported inside functions only, so executors and pandas-only installs never need it at
import time."""
