"""Where numpy's AVX-512 sorts are slow: the processor is read from /proc/cpuinfo, the
targets from numpy, and the advised setting turns them off without changing a result."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stronglens_calibration.sort_dispatch import (
    avx512_targets_in_use,
    is_zen4,
    numpy_dispatch_targets,
    slow_sort_targets,
    slow_sort_targets_here,
    sort_dispatch_advice,
)


def _cpuinfo(vendor: str, family: int, model: int, flags: str, processors: int = 2) -> str:
    """/proc/cpuinfo as Linux writes it: one block per logical processor."""
    block = (
        "processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\n"
        "model name\t: test processor\nflags\t\t: fpu sse sse2 avx avx2 {flags}\n\n"
    )
    return "".join(
        block.format(i=i, vendor=vendor, family=family, model=model, flags=flags)
        for i in range(processors)
    )


ZEN4 = _cpuinfo("AuthenticAMD", 25, 17, "avx512f avx512dq avx512bw avx512vl")
ZEN3 = _cpuinfo("AuthenticAMD", 25, 1, "vaes vpclmulqdq")
ZEN5 = _cpuinfo("AuthenticAMD", 26, 2, "avx512f avx512dq avx512bw avx512vl")
SAPPHIRE_RAPIDS = _cpuinfo("GenuineIntel", 6, 143, "avx512f avx512dq avx512bw avx512vl")
#: numpy 2.4's targets on a Zen 4 core, as it reports them
NUMPY_ON_ZEN4 = {"X86_V3": True, "X86_V4": True, "AVX512_ICL": True, "AVX512_SPR": False}


@pytest.mark.parametrize(
    ("text", "expected"),
    [(ZEN4, True), (ZEN3, False), (ZEN5, False), (SAPPHIRE_RAPIDS, False), ("", False)],
    ids=["zen4", "zen3-no-avx512", "zen5", "intel", "empty"],
)
def test_zen4_is_told_from_the_processor_description(text: str, expected: bool) -> None:
    assert is_zen4(text) is expected


def test_a_malformed_family_is_not_zen4() -> None:
    assert not is_zen4(ZEN4.replace("cpu family\t: 25", "cpu family\t: unknown"))


def test_the_avx512_targets_in_use_are_the_ones_to_turn_off() -> None:
    assert slow_sort_targets(ZEN4, NUMPY_ON_ZEN4) == ("X86_V4", "AVX512_ICL")
    # numpy before 2.4 names the Skylake-X set AVX512_SKX
    older = {"AVX2": True, "AVX512F": True, "AVX512_SKX": True, "AVX512_ICL": False}
    assert slow_sort_targets(ZEN4, older) == ("AVX512F", "AVX512_SKX")
    # already turned off, or another processor: nothing to say
    assert slow_sort_targets(ZEN4, dict.fromkeys(NUMPY_ON_ZEN4, False) | {"X86_V3": True}) == ()
    assert slow_sort_targets(SAPPHIRE_RAPIDS, NUMPY_ON_ZEN4) == ()
    assert slow_sort_targets(ZEN5, NUMPY_ON_ZEN4) == ()


def test_the_advice_names_the_setting_only_where_it_helps(tmp_path) -> None:
    zen4 = tmp_path / "zen4"
    zen4.write_text(ZEN4)
    intel = tmp_path / "intel"
    intel.write_text(SAPPHIRE_RAPIDS)
    advice = sort_dispatch_advice(zen4, NUMPY_ON_ZEN4)
    assert advice is not None
    assert 'NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL"' in advice
    assert "Zen 4" in advice
    assert sort_dispatch_advice(intel, NUMPY_ON_ZEN4) is None
    assert sort_dispatch_advice(tmp_path / "absent", NUMPY_ON_ZEN4) is None
    assert slow_sort_targets_here(zen4, NUMPY_ON_ZEN4) == ("X86_V4", "AVX512_ICL")
    assert slow_sort_targets_here(tmp_path / "absent", NUMPY_ON_ZEN4) == ()


def test_this_numpy_reports_its_dispatch_targets() -> None:
    """Read from numpy's own table: every name a string, at least one target built in
    (an x86 or ARM wheel dispatches to several), and what is in use a subset of it."""
    targets = numpy_dispatch_targets()
    assert targets
    assert all(isinstance(k, str) and isinstance(v, bool) for k, v in targets.items())
    assert set(avx512_targets_in_use(targets)) <= {k for k, v in targets.items() if v}


_DIGEST = """
import hashlib, json, sys
import numpy as np
from stronglens_calibration.sort_dispatch import numpy_dispatch_targets
from stronglens_calibration.stamps.statistics import stamp_statistics
rng = np.random.default_rng(7)
stamps = rng.normal(0.0, 0.003, (64, 3, 101, 101)).astype(np.float32)
stamps[3, 1, :, :20] = 0.0
stamps[5, 2, 40:44, 40:44] = np.nan
stats = stamp_statistics(stamps, 1.5, (32.0, 45.0), 5.0, 3)
digest = hashlib.sha256()
for name in sorted(stats):
    digest.update(name.encode() + np.ascontiguousarray(stats[name]).tobytes())
digest.update(np.median(stamps.reshape(64, -1), axis=1).tobytes())
# the scan's whole path on these stamps: quality rules, preprocessing, network, calibration
import pandas as pd
import torch
from stronglens_calibration.models.networks import build_model
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.scan import scoring
torch.manual_seed(0)
model = build_model("compact_resnet").eval()
settings = scoring.ScoringSettings(101, 1.5, (32.0, 45.0), 5.0, 3, 0.25, 32, 1e-3, threads=2)
logits, flags = scoring.logits_of_stamps(
    stamps, np.full(64, "", dtype=object), model, Preprocessing(clip=20.0, crop=48), settings,
    torch.device("cpu"),
)
scored = scoring.with_probabilities(
    pd.DataFrame({"object_id": np.arange(64)}), logits, flags,
    {"temperature": 1.3, "sample_prior": 0.25}, 1e-3,
)
digest.update("|".join(scored["scan_flags"]).encode())
digest.update(scored[["logit", "p_calibrated", "p_survey"]].to_numpy().tobytes())
print(json.dumps({"digest": digest.hexdigest(), "targets": numpy_dispatch_targets()}))
"""


def _digest(env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _DIGEST],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"} | env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_turning_the_avx512_sorts_off_changes_no_statistic() -> None:
    """The advised setting, applied to the AVX-512 targets this numpy uses on this
    machine (whatever its processor), turns them off and leaves every quality statistic,
    median, logit, flag and probability of the scan's path bit-identical."""
    used = avx512_targets_in_use(numpy_dispatch_targets())
    if not used:
        pytest.skip("this numpy uses no AVX-512 target here: there is nothing to turn off")
    default = _digest({})
    off = _digest({"NPY_DISABLE_CPU_FEATURES": " ".join(used)})
    assert all(default["targets"][name] for name in used)
    assert not any(off["targets"][name] for name in used)
    assert off["digest"] == default["digest"]
