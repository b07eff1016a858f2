"""The Spark engine (`--env spark`, local[2]) gives the pandas engine's tables: the same
selection from the sweeps, the same stamp bytes, the same stamp statistics, quality
flags, HEALPix pixels, splits and weights."""

from __future__ import annotations

import copy
import json
import shutil

import pandas as pd
import pytest

from tests.conftest import copy_project, kedro_cli, run_pipelines, store_shards
from tests.pipelines.ingest.test_bricks_ingest import check_bricks_against_files


def _sorted(path) -> pd.DataFrame:
    """A table in object order, without the id of the stamp-store generation (each ingest
    names a new one)."""
    table = pd.read_parquet(path).drop(columns="stamp_store", errors="ignore")
    return table.sort_values("object_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, project_parameters):
    root = tmp_path_factory.mktemp("spark") / "pandas"
    params = copy.deepcopy(project_parameters)
    params["mock_survey"].update(n_positives=40, n_workers=1, chunk_size=16)
    params["ingest"]["sampling"]["max_negative_shortfall"] = 1.0  # 40 lenses, many strata
    params["ingest"]["cutouts"].update(n_workers=1, shard_size=32)  # several shards
    params["quality"]["n_workers"] = 1
    params["split"]["tolerance"] = 0.5  # a small survey: the fractions are not the point here
    run_pipelines(["mock_survey", "ingest"], root, params)
    return root, params


@pytest.mark.slow
def test_ingest_on_spark_equals_the_pandas_engine(ingested, spark, tmp_path):
    root, params = ingested
    spark_root = tmp_path / "spark"
    shutil.copytree(root / "01_raw", spark_root / "01_raw")
    spark_params = copy.deepcopy(params)
    spark_params["ingest"]["engine"] = "spark"
    run_pipelines(["ingest"], spark_root, spark_params)
    for table in (
        "03_primary/objects_ingested.parquet",
        "02_intermediate/ingest_quarantine.parquet",
    ):
        pd.testing.assert_frame_equal(_sorted(spark_root / table), _sorted(root / table))
    # the reports agree but for the fingerprint of the table each describes (every ingest
    # names its own stamp-store generation, so the tables differ in that column)
    report = json.loads((root / "08_reporting/ingest_report.json").read_text())
    spark_report = json.loads((spark_root / "08_reporting/ingest_report.json").read_text())
    assert set(report.pop("describes")) == set(spark_report.pop("describes"))
    assert spark_report == report
    shards, spark_shards = store_shards(root), store_shards(spark_root)
    assert len(shards) >= 2 and list(spark_shards) == list(shards)
    for name, path in shards.items():
        assert spark_shards[name].read_bytes() == path.read_bytes()
    assert not (spark_root / "02_intermediate/stamps_staging").exists()  # moved, not copied


@pytest.mark.slow
def test_a_limited_selection_on_spark_equals_the_pandas_engine_and_stops_early(
    ingested, spark, caplog
):
    from stronglens_calibration.catalogues.selection import select_objects
    from stronglens_calibration.datasets import FITSTableDataset
    from stronglens_calibration.pipelines.ingest.config import IngestConfig
    from stronglens_calibration.pipelines.ingest.nodes import select_positives
    from stronglens_calibration.spark.selection import select_objects_spark

    root, params = ingested
    # two positives: with DR10's four galaxy TYPEs the (nobs_z, TYPE) strata of this small
    # survey are sparse, and five positives' negatives need 81 of its 86 sweep files
    ingest = copy.deepcopy(params["ingest"]) | {"limit": 2}
    sweeps = {
        p.stem: FITSTableDataset(str(p)).load
        for p in sorted((root / "01_raw/sweeps").glob("*.fits"))
    }
    lenscat = pd.read_csv(root / "01_raw/lenscat/lenscat_catalogue.csv", dtype={"zlens": str})
    positives = select_positives(lenscat, ingest)[0]
    cfg = IngestConfig.from_params(ingest).selection
    by_pandas = select_objects(positives, sweeps, lenscat, cfg)
    with caplog.at_level("INFO", logger="stronglens_calibration.spark.selection"):
        by_spark = select_objects_spark(positives, sweeps, lenscat, cfg, spark)
    assert by_spark.report == by_pandas.report
    pd.testing.assert_frame_equal(
        by_spark.objects.sort_values("object_id").reset_index(drop=True),
        by_pandas.objects.sort_values("object_id").reset_index(drop=True),
    )
    negatives = by_pandas.report["negatives"]
    assert negatives["sweep_files_read"] < negatives["sweep_files_total"]
    # Spark stops early too: at most about twice the files the single pass read
    scanned = int(caplog.text.split("Spark scanned ")[1].split(" of ")[0])
    assert negatives["sweep_files_read"] <= scanned <= 2 * negatives["sweep_files_read"] + 4
    assert scanned < negatives["sweep_files_total"]


@pytest.mark.slow
def test_the_parquet_sweep_table_gives_the_pandas_engines_selection(ingested, spark, tmp_path):
    from kedro_datasets.spark import SparkDataset

    from stronglens_calibration.datasets import FITSTableDataset
    from stronglens_calibration.pipelines.ingest.nodes import (
        check_sweep_files,
        select_positives,
        select_sample,
    )
    from stronglens_calibration.pipelines.sweeps_to_parquet.nodes import convert_sweeps

    root, params = ingested
    ingest = copy.deepcopy(params["ingest"]) | {"sweep_chunk_rows": 7}  # several chunks
    sweeps = {
        p.stem: FITSTableDataset(str(p)).load
        for p in sorted((root / "01_raw/sweeps").glob("*.fits"))
    }
    dataset = SparkDataset(
        filepath=str(tmp_path / "sweeps_parquet"),
        file_format="parquet",
        save_args={"mode": "overwrite"},
    )
    dataset.save(convert_sweeps(sweeps, {"ingest": ingest}["ingest"]))
    table = dataset.load()
    assert table.count() == sum(load().n_rows for load in sweeps.values())
    lenscat = pd.read_csv(root / "01_raw/lenscat/lenscat_catalogue.csv", dtype={"zlens": str})
    positives = select_positives(lenscat, ingest)[0]
    files = check_sweep_files(sweeps, ingest)
    objects, quarantine, report = select_sample(positives, sweeps, files, lenscat, ingest)
    table_files = check_sweep_files(table, ingest)
    objects2, quarantine2, report2 = select_sample(positives, table, table_files, lenscat, ingest)
    # the FITS folder also lists the files it read; the selection itself is the same
    assert {k: v for k, v in report2.items() if k != "sweep_files"} == {
        k: v for k, v in report.items() if k != "sweep_files"
    }
    pd.testing.assert_frame_equal(
        objects2.sort_values("object_id").reset_index(drop=True),
        objects.sort_values("object_id").reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(quarantine2, quarantine)


@pytest.mark.slow
def test_stamps_cut_from_bricks_on_spark_equal_the_cutout_files(spark, tmp_path, small_parameters):
    params = copy.deepcopy(small_parameters)
    params["ingest"]["engine"] = "spark"
    check_bricks_against_files(tmp_path, params)


@pytest.mark.slow
def test_quality_and_split_on_spark_equal_the_pandas_engine(ingested, spark, tmp_path):
    root, params = ingested
    spark_root = tmp_path / "spark"
    shutil.copytree(root, spark_root)
    run_pipelines(["quality", "split"], root, params)
    spark_params = copy.deepcopy(params)
    spark_params["quality"]["engine"] = "spark"
    spark_params["split"]["engine"] = "spark"
    run_pipelines(["quality", "split"], spark_root, spark_params)
    for table in (
        "03_primary/stamp_statistics.parquet",
        "03_primary/objects_qc.parquet",
        "03_primary/quarantine.parquet",
        "05_model_input/objects_split.parquet",
    ):
        pd.testing.assert_frame_equal(_sorted(spark_root / table), _sorted(root / table))
    # row order too, not only content
    pd.testing.assert_frame_equal(
        pd.read_parquet(spark_root / "03_primary/stamp_statistics.parquet"),
        pd.read_parquet(root / "03_primary/stamp_statistics.parquet"),
    )


@pytest.mark.slow
def test_env_spark_starts_a_session_and_runs_quality_and_split(ingested, tmp_path):
    root, params = ingested
    project = copy_project(tmp_path / "project")
    shutil.copytree(root, project / "data")
    result = kedro_cli(
        project,
        "run",
        "--env",
        "spark",
        "--pipelines",
        "quality,split",
        "--params",
        "quality.n_workers=1,split.tolerance=0.5",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "quality (spark engine)" in output
    assert "Spark" in output and "local[2]" in output
    reference = tmp_path / "reference"
    shutil.copytree(root, reference)
    run_pipelines(["quality", "split"], reference, params)
    pd.testing.assert_frame_equal(
        _sorted(project / "data/05_model_input/objects_split.parquet"),
        _sorted(reference / "05_model_input/objects_split.parquet"),
    )
