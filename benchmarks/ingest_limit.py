"""ingest smoke runs: cost of ``limit=50`` on a 1,000,000-row sweep catalogue against the
same run on a 10,000-row catalogue.

Run: ``.venv/bin/python benchmarks/ingest_limit.py [small_rows] [large_rows]``. Prints
the measured ratio; asserts nothing. Target: at most 1.5x.

Both catalogues hold the same 200 lens candidates' rows and are split into DR10-style
sweep files (10 x 5 deg boxes); the large one has 100x the rows per file. The timed
run is the whole ``ingest`` pipeline through Kedro's runner and the project's catalog;
cutout files exist for every object that run selects (written by an untimed dry run).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from kedro.config import OmegaConfigLoader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import run_pipelines  # noqa: E402

from stronglens_calibration.catalogues.lenscat import select_candidates  # noqa: E402
from stronglens_calibration.datasets import FITSTableDataset  # noqa: E402
from stronglens_calibration.mock.files import _sweep_name  # noqa: E402
from stronglens_calibration.pipelines.ingest.nodes import select_positives, select_sample  # noqa: E402
from stronglens_calibration.pipelines.mock_survey.nodes import (  # noqa: E402
    read_lenscat_package_catalogue,
)
from stronglens_calibration.stamps.formats import encode_fits  # noqa: E402
from stronglens_calibration.stamps.naming import cutout_stem  # noqa: E402

BENCH = Path(os.environ.get("BENCH_DIR", "/tmp/stronglens-bench"))


def make_world(root: Path, n_rows: int, params: dict) -> None:
    """lenscat CSV (200 DESI candidates + the rest) and sweep files with ``n_rows`` rows."""
    if (root / "01_raw/sweeps").exists():
        return
    rng = np.random.default_rng(3)
    lenscat = read_lenscat_package_catalogue()
    p = params["ingest"]["positives"]
    cands = select_candidates(lenscat, p["ref_patterns"], p["name_patterns"])
    cands = cands.drop_duplicates("name")
    chosen = cands.iloc[rng.choice(len(cands), 200, replace=False)]
    keep = ~lenscat.index.isin(cands.index) | lenscat.index.isin(chosen.index)
    (root / "01_raw/lenscat").mkdir(parents=True, exist_ok=True)
    lenscat[keep].to_csv(root / "01_raw/lenscat/lenscat_catalogue.csv", index=False)
    pos_ra, pos_dec = chosen["RA [deg]"].to_numpy(), chosen["DEC [deg]"].to_numpy()
    boxes = np.unique(_sweep_name(pos_ra, pos_dec))
    n_other = n_rows - len(chosen)
    # rows spread over the positives' boxes, each a 10 x 5 deg box
    box = rng.integers(0, len(boxes), n_other)
    ra0 = np.array([int(b[6:9]) for b in boxes])[box]
    dec0 = np.array([(-1 if b[9] == "m" else 1) * int(b[10:13]) for b in boxes])[box]
    ra = np.concatenate([pos_ra, ra0 + rng.uniform(0, 10, n_other)])
    dec = np.concatenate([pos_dec, dec0 + rng.uniform(0, 5, n_other)])
    n = len(ra)
    table = pd.DataFrame(
        {
            "RELEASE": np.full(n, 10000, np.int16),
            "BRICKID": rng.integers(0, 600000, n).astype(np.int32),
            "BRICKNAME": np.full(n, "0000p000"),
            "OBJID": np.arange(n, dtype=np.int32),
            "TYPE": rng.choice(["DEV", "SER", "EXP", "PSF"], n),
            "RA": ra,
            "DEC": dec,
            **{f"FLUX_{b}": rng.uniform(3, 60, n).astype(np.float32) for b in "GRZ"},
            **{f"NOBS_{b}": rng.integers(1, 8, n).astype(np.int16) for b in "GRZ"},
            "MASKBITS": np.zeros(n, np.int32),
            "SHAPE_R": rng.uniform(0.3, 3, n).astype(np.float32),
            "SHAPE_E1": rng.normal(0, 0.2, n).astype(np.float32),
            "SHAPE_E2": rng.normal(0, 0.2, n).astype(np.float32),
            "SERSIC": rng.uniform(0.5, 6, n).astype(np.float32),
            "PSFSIZE_R": rng.uniform(1, 1.6, n).astype(np.float32),
            "PSFDEPTH_R": rng.uniform(500, 3000, n).astype(np.float32),
        }
    )
    for name, part in table.groupby(_sweep_name(ra, dec)):
        FITSTableDataset(str(root / "01_raw/sweeps" / f"{name}.fits")).save(part)
    (root / "01_raw/cutouts").mkdir(parents=True, exist_ok=True)


def write_cutouts(root: Path, params: dict) -> None:
    """Untimed dry run of the selection; a cutout file for every object it selects."""
    lenscat = pd.read_csv(root / "01_raw/lenscat/lenscat_catalogue.csv", dtype={"zlens": str})
    sweeps = {
        p.stem: FITSTableDataset(str(p)).load for p in (root / "01_raw/sweeps").glob("*.fits")
    }
    positives, _, _ = select_positives(lenscat, params["ingest"])
    selection, _, _ = select_sample(positives, sweeps, lenscat, params["ingest"])
    noise = np.random.default_rng(0).normal(0, 0.003, (3, 101, 101)).astype(np.float32)
    for ra, dec in zip(selection["ra"], selection["dec"], strict=True):
        path = root / "01_raw/cutouts" / f"{cutout_stem(ra, dec)}.fits"
        if not path.exists():
            path.write_bytes(encode_fits(noise, "grz", ra, dec, 0.262))


def timed_run(n_rows: int, params: dict) -> float:
    root = BENCH / f"limit-world-{n_rows}"
    make_world(root, n_rows, params)
    write_cutouts(root, params)
    start = time.perf_counter()
    run_pipelines(["ingest"], root, params)
    return time.perf_counter() - start


def main(small: int = 10_000, large: int = 1_000_000) -> None:
    loader = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="base")
    params = dict(loader["parameters"])
    params["ingest"]["limit"] = 50
    params["ingest"]["cutouts"]["n_workers"] = 1
    t_small = timed_run(small, params)
    t_large = timed_run(large, params)
    print(f"ingest limit=50, {small:,}-row sweeps: {t_small:.2f} s")
    print(f"ingest limit=50, {large:,}-row sweeps: {t_large:.2f} s")
    print(f"ratio: {t_large / t_small:.2f}x (target <= 1.5)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
