"""Keeping freed blocks for reuse: the setting, its validation, and its effect on page
faults (counted, not timed), each in a fresh interpreter so this one stays as it is."""

import json
import subprocess
import sys

import pytest

from stronglens_calibration.allocator import retain_freed_memory

_FAULTS = """
import json, resource, sys
import numpy as np
from stronglens_calibration.allocator import retain_freed_memory
retained = retain_freed_memory(int(sys.argv[1]))
def cycle():
    a = np.empty(48 * 1024 * 1024 // 4, dtype=np.float32)  # above glibc's mmap ceiling
    a[:] = 1.0  # touch every page
    del a
cycle()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    cycle()
after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(json.dumps({"retained": retained, "faults": after - before}))
"""


def _faults(threshold_mib: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _FAULTS, str(threshold_mib)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_retained_blocks_are_reused_without_new_page_faults():
    default = _faults(0)
    kept = _faults(256)
    assert not default["retained"] and kept["retained"]
    # glibc's default maps fresh pages every cycle (fewer faults where the kernel uses
    # transparent huge pages, but some in each cycle); a kept block is handed out again
    assert default["faults"] >= 5 * 10
    assert kept["faults"] * 10 < default["faults"]


@pytest.mark.parametrize("bad", [-1, 1025, 1.5, "64", True])
def test_threshold_must_be_an_integer_within_what_mallopt_holds(bad):
    with pytest.raises((TypeError, ValueError), match="'threshold_mib'"):
        retain_freed_memory(bad)


def test_zero_leaves_the_allocator_alone():
    assert retain_freed_memory(0) is False
