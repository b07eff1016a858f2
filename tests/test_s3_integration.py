"""`--env s3` against a real S3 server on 127.0.0.1 (moto's server mode, with IAM
authentication switched on): ingest, quality and split read and write the bucket, their
outputs equal a local run's, and a wrong secret key is refused in seconds with a message
that names the dataset."""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import copy_project, kedro_cli, run_pipelines, store_shards

BUCKET = "stronglens-test"
SMALL = (
    "ingest.cutouts.n_workers=1,ingest.cutouts.shard_size=16,quality.n_workers=1,"
    "ingest.sampling.max_negative_shortfall=1.0"  # the test survey cannot fill every stratum
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """A moto S3 server that authenticates every request after the first three (which
    create an IAM user with an access key)."""
    import boto3

    server = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which(
        "moto_server"
    )
    if server is None:
        pytest.fail("moto_server is missing: install the dev extras (`pip install -e .[dev]`)")
    port = _free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    proc = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the moto S3 server did not start")
            time.sleep(0.2)
    admin = {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"}
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **admin)
    iam.create_user(UserName="stronglens")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="stronglens", PolicyName="s3", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="stronglens")["AccessKey"]
    try:
        yield endpoint, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _env(endpoint: str, key: str, secret: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def _run_on_s3(project: Path, pipelines: str, data_root: str):
    return kedro_cli(
        project,
        "run",
        "--env",
        "s3",
        "--pipelines",
        pipelines,
        "--params",
        f"data_root={data_root},{SMALL}",
    )


@pytest.mark.slow
def test_ingest_quality_split_on_s3(tmp_path, s3_server, small_parameters, monkeypatch):
    import s3fs

    endpoint, key, secret = s3_server
    fs = s3fs.S3FileSystem(key=key, secret=secret, client_kwargs={"endpoint_url": endpoint})
    fs.mkdir(BUCKET)

    # the raw demo inputs, rendered locally and uploaded
    local = tmp_path / "local"
    params = copy.deepcopy(small_parameters)
    run_pipelines(["mock_survey"], local, params)
    fs.put(str(local / "01_raw"), f"{BUCKET}/data/01_raw", recursive=True)

    project = copy_project(tmp_path / "project")
    for name, value in _env(endpoint, key, secret).items():
        monkeypatch.setenv(name, value)
    start = time.monotonic()
    # Hadoop's s3a:// scheme is accepted as well as s3://
    result = _run_on_s3(project, "ingest,quality,split", f"s3a://{BUCKET}/data")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "pre-flight" in result.stdout + result.stderr
    print(f"ingest + quality + split on S3: {time.monotonic() - start:.1f} s")

    written = set(fs.find(f"{BUCKET}/data"))
    for path in (
        "03_primary/objects_ingested.parquet",
        "03_primary/quarantine.parquet",
        "03_primary/stamps/CURRENT",
        "05_model_input/objects_split.parquet",
        "08_reporting/split_report.json",
        "08_reporting/split_sky_map.png",
    ):
        assert f"{BUCKET}/data/{path}" in written, path
    assert not any(".preflight-" in p for p in written)  # the probe cleans up

    # the same run on local disk gives the same table and the same stamp bytes
    run_pipelines(["ingest", "quality", "split"], local, params)
    with fs.open(f"{BUCKET}/data/05_model_input/objects_split.parquet") as f:
        remote = pd.read_parquet(f)
    local_table = pd.read_parquet(local / "05_model_input/objects_split.parquet")
    # each ingest names its own stamp-store generation; everything else is the same
    remote_generation = fs.cat(f"{BUCKET}/data/03_primary/stamps/CURRENT").decode().strip()
    assert set(remote["stamp_store"]) == {remote_generation}
    pd.testing.assert_frame_equal(
        remote.drop(columns="stamp_store").sort_values("object_id").reset_index(drop=True),
        local_table.drop(columns="stamp_store").sort_values("object_id").reset_index(drop=True),
    )
    assert (
        fs.cat(f"{BUCKET}/data/03_primary/stamps/{remote_generation}/part-00000.npy")
        == store_shards(local)["part-00000"].read_bytes()
    )

    # figures and reports read back from S3 into MLflow
    import mlflow

    client = mlflow.tracking.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("stronglens_calibration")
    run = client.search_runs([experiment.experiment_id])[0]
    figures = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "figures")}
    assert "split_sky_map.png" in figures

    # a wrong secret key: refused in seconds, naming the dataset and the fix
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    start = time.monotonic()
    result = _run_on_s3(project, "ingest", f"s3://{BUCKET}/data")
    elapsed = time.monotonic() - start
    output = result.stdout + result.stderr
    print(f"wrong secret refused after {elapsed:.1f} s")
    assert result.returncode != 0
    assert "pre-flight: cannot read input dataset" in output
    assert "'lens_candidates'" in output or "'negative_pool'" in output
    assert "AWS_SECRET_ACCESS_KEY" in output
    assert elapsed < 60, f"a refused key took {elapsed:.0f} s (retries?)"
