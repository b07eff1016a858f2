"""The mock survey against real DR10: its lenses and non-lenses measured with the
reference definitions, beside the real figures the project ships.

Run: ``.venv/bin/python benchmarks/mock_realism.py [n_per_class] [source_model]``
(defaults 200 and the configured ``lensed_source.model``). Draws a fresh population from
``conf/base``, renders it and prints the mock's 5 / 50 / 95 percentiles next to the real
range and median, with whether the mock's median lies inside; asserts nothing. The same
table is written by the ``mock_survey`` pipeline (``data/08_reporting/mock_realism.csv``,
read back from the written files).
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from kedro.config import OmegaConfigLoader

from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.population import draw_population
from stronglens_calibration.mock.realism_report import realism_sample
from stronglens_calibration.mock.render import render_object
from stronglens_calibration.pipelines.mock_survey.nodes import read_lenscat_package_catalogue
from stronglens_calibration.reference import lens_candidate_reference
from stronglens_calibration.stamps.reference_measures import compare_with_reference, measure_stamps

ROOT = Path(__file__).resolve().parents[1]


def main(n_per_class: int = 200, source_model: str | None = None) -> None:
    params = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="base")[
        "parameters"
    ]["mock_survey"]
    p = copy.deepcopy(params)
    p.update(n_positives=max(int(n_per_class * 1.2), 10), negatives_per_positive=1.2)
    if source_model:
        p["lensed_source"]["model"] = source_model
    cfg = MockSurveyConfig.from_params(p)
    truth = draw_population(read_lenscat_package_catalogue(), cfg)
    sample = realism_sample(truth, n_per_class, cfg.seed)
    reference = lens_candidate_reference()
    pd.set_option("display.width", 200)
    for kind, label in (("lens", "lenses"), ("galaxy", "non-lenses")):
        rows = sample[sample["kind"] == kind]
        start = time.perf_counter()
        stamps = np.stack([render_object(r, cfg) for r in rows.to_dict("records")])
        per_stamp = (time.perf_counter() - start) / len(rows)
        table = compare_with_reference(measure_stamps(stamps), reference)
        print(f"\nmock {label}: {len(rows)} stamps, rendered at {per_stamp * 1e3:.0f} ms/stamp")
        cols = ["quantity", "band", "real_low", "real_median", "real_high"]
        cols += ["mock_p5", "mock_p50", "mock_p95", "median_inside"]
        print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(
            f"medians inside the real ranges: {int(table['median_inside'].sum())} of {len(table)}"
        )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 200,
        sys.argv[2] if len(sys.argv) > 2 else None,
    )
