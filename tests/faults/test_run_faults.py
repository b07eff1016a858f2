"""Fault injection on whole runs: a second run on a busy data root, a dead tracking
server, runs killed by SIGKILL and SIGTERM, shared memory left by a dead decoder, a
checkpoint of another network."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stronglens_calibration.storage.data_root_lock import (
    LOCK_NAME,
    DataRootLock,
    DataRootLocked,
    LockHolder,
)
from tests.conftest import copy_project, kedro_cli

pytestmark = pytest.mark.faults

MOCK = "mock_survey.n_positives=60,mock_survey.n_workers=1,mock_survey.scan_region.n_galaxies=40"


def _dead_pid() -> int:
    """The id of a process that has ended."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def _local_fs():
    import fsspec

    return fsspec.filesystem("file")


def test_a_second_holder_is_refused_and_a_dead_ones_lock_is_taken_over(tmp_path):
    """Promise: one run per data root; the refusal names the holder; a lock left by a
    process that no longer exists on this machine is taken over."""
    first = DataRootLock(_local_fs(), str(tmp_path))
    first.acquire("kedro run --pipelines train")
    second = DataRootLock(_local_fs(), str(tmp_path))
    with pytest.raises(DataRootLocked, match=r"'kedro run --pipelines train' by .* \(pid \d+\)"):
        second.acquire("kedro run --pipelines evaluate")
    second.release()  # not its lock: nothing happens
    assert (tmp_path / LOCK_NAME).exists()
    first.release()
    assert not (tmp_path / LOCK_NAME).exists()

    dead_pid = _dead_pid()
    holder = LockHolder.here("kedro run")
    holder.pid, holder.mlflow_run_id = dead_pid, "abc123"
    (tmp_path / LOCK_NAME).write_text(json.dumps(holder.__dict__))
    taker = DataRootLock(_local_fs(), str(tmp_path))
    taker.acquire("kedro run --pipelines split")
    assert taker.taken_over is not None and taker.taken_over.mlflow_run_id == "abc123"
    taker.release()


@pytest.mark.slow
def test_kedro_run_on_a_busy_data_root_is_refused_naming_the_holder(tmp_path):
    """Promise: a second `kedro run` on a data root in use stops before any node, with
    the holder's command, user, machine and process in one message."""
    project = copy_project(tmp_path / "project")
    lock = DataRootLock(_local_fs(), str(project / "data"))
    lock.acquire("kedro run --pipelines ingest")
    start = time.monotonic()
    try:
        result = kedro_cli(project, "run", "--pipelines", "mock_survey", "--params", MOCK)
    finally:
        lock.release()
    print(f"second run refused after {time.monotonic() - start:.1f} s (CLI start-up included)")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "another run holds the data root: 'kedro run --pipelines ingest'" in output
    assert f"(pid {os.getpid()})" in output
    assert "Running node" not in output
    assert "Traceback" not in output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_dead_tracking_server_is_refused_within_the_timeout(tmp_path):
    """Promise: an MLflow server that does not answer stops the run in seconds (the
    probe's timeout), before kedro-mlflow retries it for minutes."""
    project = copy_project(tmp_path / "project")
    (project / "conf/local").mkdir(parents=True, exist_ok=True)
    uri = f"http://127.0.0.1:{_free_port()}"
    (project / "conf/local/mlflow.yml").write_text(f"server:\n  mlflow_tracking_uri: {uri}\n")
    start = time.monotonic()
    result = kedro_cli(
        project, "run", "--pipelines", "mock_survey", "--params", "preflight.timeout_seconds=2"
    )
    elapsed = time.monotonic() - start
    print(f"dead tracking server refused after {elapsed:.1f} s (CLI start-up included)")
    output = " ".join((result.stdout + result.stderr).split())  # the log wraps long lines
    assert result.returncode != 0
    assert f"the MLflow tracking server {uri} does not answer" in output
    assert "Running node" not in output
    assert "Traceback" not in output
    assert elapsed < 90, elapsed  # CLI start-up included; the retries took 250 s


def _start(project: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, KEDRO_DISABLE_TELEMETRY="true", MPLBACKEND="Agg")
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("kedro")), *args],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_for_run_id(lock_file: Path, proc: subprocess.Popen, timeout_s: float = 240) -> str:
    """The MLflow run id that ``proc`` records in the lock once its first node runs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (rc {proc.returncode}) before it was killed")
        try:
            record = json.loads(lock_file.read_text())
        except (FileNotFoundError, ValueError):
            record = {}
        if record.get("pid") == proc.pid and record.get("mlflow_run_id"):
            return record["mlflow_run_id"]
        time.sleep(0.2)
    raise AssertionError("no run recorded in the lock")


@pytest.mark.slow
def test_killed_runs_end_failed_or_killed_in_mlflow_and_free_the_data_root(tmp_path):
    """Promise: a run killed outright (SIGKILL) leaves its lock, which the next run takes
    over, marking the killed MLflow run FAILED; a terminated run (SIGTERM) ends KILLED
    and releases the lock itself. No run stays RUNNING."""
    import mlflow

    project = copy_project(tmp_path / "project")
    lock_file = project / "data" / LOCK_NAME
    args = ("run", "--pipelines", "mock_survey", "--params", MOCK)

    first = _start(project, *args)
    first_run = _wait_for_run_id(lock_file, first)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(30)
    assert lock_file.exists()  # nothing ran on the way out

    second = _start(project, *args)
    second_run = _wait_for_run_id(lock_file, second)
    assert second_run != first_run
    os.killpg(second.pid, signal.SIGTERM)
    second.wait(60)
    assert not lock_file.exists()

    client = mlflow.tracking.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    assert client.get_run(first_run).info.status == "FAILED"
    assert client.get_run(second_run).info.status == "KILLED"


def test_shared_memory_of_a_dead_decoder_is_removed(tmp_path):
    """Promise: decoding blocks are released when decoding stops on an error, and a block
    left by a killed process is removed by the next decoder."""
    from stronglens_calibration.stamps.shared_blocks import PREFIX, remove_stale_blocks
    from stronglens_calibration.stamps.store import CutoutDecoder

    dead_pid = _dead_pid()
    leftover = tmp_path / f"{PREFIX}-{dead_pid}-0-abcdef"
    leftover.write_bytes(b"\0" * 64)
    live = tmp_path / f"{PREFIX}-{os.getpid()}-0-abcdef"
    live.write_bytes(b"\0" * 64)
    assert remove_stale_blocks(tmp_path) == [leftover.name]
    assert live.exists() and not leftover.exists()

    decoder = CutoutDecoder(2, 5)
    opened: list[str] = []

    def decode_then_fail() -> None:
        with decoder:
            decoder.submit([("bytes", b"")] * 8, ["x.fits"] * 8)
            opened.extend(decoder.open_blocks)
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        decode_then_fail()
    assert len(opened) == 1 and decoder.open_blocks == []
    if Path("/dev/shm").is_dir():
        assert not list(Path("/dev/shm").glob(f"{PREFIX}-{os.getpid()}-*"))


def test_weights_of_another_network_are_named_not_listed():
    """Promise: a lens_finder whose weights belong to another architecture or input size
    is refused with what differs, not torch's list of keys."""
    from stronglens_calibration.models.artifact import from_artifact, to_artifact
    from stronglens_calibration.models.networks import build_model
    from stronglens_calibration.models.preprocessing import Preprocessing

    small = build_model("compact_resnet")
    wide = build_model("wide_resnet")
    artifact = to_artifact(wide, {"architecture": "wide_resnet"}, Preprocessing(20.0, 64))
    artifact["state_dict"] = {k: v for k, v in small.state_dict().items()}
    with pytest.raises(ValueError, match="do not fit the 'wide_resnet' network") as info:
        from_artifact(artifact)
    assert "Missing key(s)" not in str(info.value)
    assert "of another shape (e.g." in str(info.value)


def test_a_black_holed_storage_endpoint_is_refused_within_the_timeout():
    """Promise: an S3 endpoint that accepts connections and never answers (a firewall
    that drops replies, a hung proxy) stops the pre-flight at its timeout, not after the
    client's minutes of retries."""
    from kedro.io import DataCatalog
    from kedro_datasets.pandas import CSVDataset

    from stronglens_calibration.preflight import PreflightError, check_inputs

    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)  # connections complete in the backlog; nothing ever reads them
    endpoint = f"http://127.0.0.1:{hole.getsockname()[1]}"
    catalog = DataCatalog()
    catalog["sweeps"] = CSVDataset(
        filepath="s3://survey/sweeps.csv",
        credentials={"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": endpoint}},
    )
    start = time.monotonic()
    try:
        with pytest.raises(PreflightError, match="did not answer within 2 s"):
            check_inputs(["sweeps"], catalog, timeout_s=2.0)
    finally:
        hole.close()
    assert time.monotonic() - start < 10
