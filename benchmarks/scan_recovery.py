"""The demo scan against the mock's truth: where the hidden lenses ended up.

Run after ``make demo``: ``.venv/bin/python benchmarks/scan_recovery.py [data root]``.
Reads ``01_raw/mock_truth.parquet`` (the hidden lenses of the scan region, which no
pipeline reads), the scan's scores and report; prints each hidden lens's rank and
calibrated probabilities, how many are among the candidates, and the recall in the top
1 % against the base rate. Asserts nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from stronglens_calibration.sky.matching import nearest_neighbour


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "data")
    truth = pd.read_parquet(root / "01_raw/mock_truth.parquet")
    lenses = truth[(truth["region"] == "scan") & (truth["kind"] == "lens")]
    report = json.loads((root / "08_reporting/scan_report.json").read_text())
    folder = root / "07_model_output/scan_scores" / report["model_fingerprint"]
    scores = pd.concat([pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))])
    scored = scores[scores["scored"]].sort_values("logit", ascending=False).reset_index(drop=True)
    idx, sep = nearest_neighbour(
        lenses["ra"].to_numpy(),
        lenses["dec"].to_numpy(),
        scored["ra"].to_numpy(),
        scored["dec"].to_numpy(),
    )
    found = sep < 0.5
    n = report["n_candidates"]
    top1 = int(np.ceil(0.01 * len(scored)))
    print(f"objects scanned {report['objects']}, scored {report['scored']}")
    print(f"not scored, per reason: {report['not_scored']}")
    print(f"hidden lenses: {len(lenses)}; in the parent sample and scored: {int(found.sum())}")
    for i in sorted(int(i) for i in idx[found]):
        row, rank = scored.iloc[i], i + 1
        print(
            f"  rank {rank:>5}  p_calibrated {row['p_calibrated']:.3f}  "
            f"p_survey {row['p_survey']:.4f}"
        )
    in_top = int((idx[found] < n).sum())
    e = report["expected_lenses_among_candidates"]
    print(
        f"among the top {n} candidates: {in_top} hidden lenses; the candidates' p_survey add up "
        f"to {e['expected']:.1f} [{e['ci_low']:.1f}, {e['ci_high']:.1f}] "
        f"(survey prevalence {report['survey_prevalence']:g}; the region's is "
        f"{len(lenses) / (truth['region'] == 'scan').sum():.2g})"
    )
    recall = float((idx[found] < top1).sum() / max(found.sum(), 1))
    lift = recall / (top1 / len(scored))
    print(f"recall in the top 1 % ({top1} objects): {recall:.2f}, {lift:.0f}x the base rate")


if __name__ == "__main__":
    main()
