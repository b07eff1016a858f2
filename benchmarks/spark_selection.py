"""The sweep scan on Spark ``local[2]`` against the pandas engine, on the same sweep
sample (default 100,000 rows in DR10-style sweep files around 200 lens candidates).

Run: ``.venv/bin/python benchmarks/spark_selection.py [rows]``. Prints wall times, their
ratio, whether the selections are equal, and the peak resident memory of the Spark
Python workers (each runs several tasks, so this bounds the peak of one task); asserts
nothing. The session start (JVM) is timed apart: on a cluster it is paid once per job.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import yaml
from kedro.config import OmegaConfigLoader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ingest_limit import BENCH, make_world  # noqa: E402
from stronglens_calibration.catalogues.selection import select_objects  # noqa: E402
from stronglens_calibration.datasets import FITSTableDataset  # noqa: E402
from stronglens_calibration.pipelines.ingest.config import IngestConfig  # noqa: E402
from stronglens_calibration.pipelines.ingest.nodes import select_positives  # noqa: E402
from stronglens_calibration.spark.selection import select_objects_spark  # noqa: E402
from stronglens_calibration.spark.session import start_session  # noqa: E402


def worker_peak_rss_mib() -> list[float]:
    """VmHWM of the running Spark Python worker processes, MiB."""
    peaks = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "pyspark" not in cmd or ("daemon" not in cmd and "worker" not in cmd):
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peaks


def main(n_rows: int = 100_000) -> None:
    loader = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="base")
    params = dict(loader["parameters"])
    root = BENCH / f"spark-selection-{n_rows}"
    make_world(root, n_rows, params)
    sweeps = {
        p.stem: FITSTableDataset(str(p)).load
        for p in sorted((root / "01_raw/sweeps").glob("*.fits"))
    }
    lenscat = pd.read_csv(root / "01_raw/lenscat/lenscat_catalogue.csv", dtype={"zlens": str})
    positives = select_positives(lenscat, params["ingest"])[0]
    cfg = IngestConfig.from_params(params["ingest"]).selection

    start = time.perf_counter()
    by_pandas = select_objects(positives, sweeps, lenscat, cfg)
    t_pandas = time.perf_counter() - start

    start = time.perf_counter()
    # the session `kedro run --env spark` starts (local[2])
    spark = start_session(yaml.safe_load((ROOT / "conf/spark/spark.yml").read_text()))
    spark.sparkContext.setLogLevel("ERROR")
    t_session = time.perf_counter() - start
    times = []
    for _ in range(2):  # the first run also starts the Python workers
        start = time.perf_counter()
        by_spark = select_objects_spark(positives, sweeps, lenscat, cfg, spark)
        times.append(time.perf_counter() - start)
    peaks = worker_peak_rss_mib()
    spark.stop()

    def table(result):
        return result.objects.sort_values("object_id").reset_index(drop=True)

    equal = table(by_pandas).equals(table(by_spark)) and by_pandas.report == by_spark.report
    print(
        f"{n_rows:,} sweep rows in {len(sweeps)} files; {len(by_pandas.objects)} objects selected"
    )
    print(f"pandas engine (1 process):      {t_pandas:6.1f} s")
    print(f"Spark session start (JVM):      {t_session:6.1f} s")
    print(f"Spark local[2], first run:      {times[0]:6.1f} s")
    print(
        f"Spark local[2], second run:     {times[1]:6.1f} s = "
        f"{times[1] / t_pandas:.2f}x the pandas engine's time"
    )
    print(f"selections equal: {equal}")
    if peaks:
        print(
            f"peak RSS of the {len(peaks)} Spark Python worker(s): max {max(peaks):.0f} MiB "
            "(bounds one task)"
        )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
