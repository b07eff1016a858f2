"""Whether numpy's sorts run on its AVX-512 kernels on a processor where those are slow.

numpy hands ``np.sort``, ``np.partition`` and everything built on them (``np.median``,
the exact annulus medians and MADs of the stamp statistics) to the AVX-512 kernels of
x86-simd-sort on every processor that reports AVX-512. Those kernels store each vector
with the memory-destination form of the COMPRESS instruction, which AMD's Zen 4 cores
(family 19h, the first AMD cores with AVX-512) run in microcode: AMD's Software
Optimization Guide for the Zen 4 microarchitecture (publication 57647, section 2.11.2)
says to avoid that form, and the slow sorts are reported in the x86-simd-sort and numpy
issue trackers.

Measured on a 2-core AMD EPYC virtual machine (family 25, model 17; numpy 2.4.6): the
median partition of 1,536 rows of 3,144 float32 pixels (a 512-stamp shard's annulus)
took 34 ms with numpy's default dispatch and 9.2 ms with its AVX-512 targets turned off,
and the quality statistics of a 512-stamp shard 84 ms and 33 ms on one thread; the
statistics and the network's scores were bit-identical either way.

numpy chooses its kernels when it is imported, so the setting has to be in the
environment before Python starts (``NPY_DISABLE_CPU_FEATURES``): this module only says
whether it would help here and what to write, and the pipelines that compute stamp
statistics (quality, scan) log it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

#: ``cpu family`` of AMD's Zen 3 and Zen 4 cores (19h); only Zen 4 has AVX-512.
ZEN4_FAMILY = 25


def numpy_dispatch_targets() -> dict[str, bool]:
    """The optimisation targets this numpy was built to dispatch to, each with whether
    it is in use here (``{}`` when this numpy does not say).

    A target the processor lacks, or that ``NPY_DISABLE_CPU_FEATURES`` turned off,
    reads False.
    """
    # numpy 2 moved its core to numpy._core (numpy.core then only warns and forwards)
    package = "numpy._core" if int(np.__version__.split(".")[0]) >= 2 else "numpy.core"
    module = importlib.import_module(f"{package}._multiarray_umath")
    found = getattr(module, "__cpu_features__", {})
    return {str(t): bool(found.get(t)) for t in getattr(module, "__cpu_dispatch__", [])}


def avx512_targets_in_use(targets: Mapping[str, bool]) -> tuple[str, ...]:
    """The AVX-512 targets among numpy's dispatch targets that are in use.

    Parameters
    ----------
    targets : mapping
        Target name to whether it is in use (:func:`numpy_dispatch_targets`).

    Returns
    -------
    tuple of str
        In numpy's names and order: ``X86_V4`` is the Skylake-X set in numpy 2.4,
        ``AVX512_SKX`` and its relatives (``AVX512F``, ``AVX512_ICL``, ...) before and
        besides it.
    """
    return tuple(
        name
        for name, used in targets.items()
        if used and (name.startswith("AVX512") or name == "X86_V4")
    )


def is_zen4(cpuinfo: str) -> bool:
    """Whether ``/proc/cpuinfo`` text describes an AMD Zen 4 processor.

    Parameters
    ----------
    cpuinfo : str
        The text of ``/proc/cpuinfo`` (its first processor is read).

    Returns
    -------
    bool
        True for an AuthenticAMD processor of family 25 with ``avx512f`` among its flags
        (Zen 3 shares the family but has no AVX-512).
    """
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    try:
        family = int(fields.get("cpu family", ""))
    except ValueError:
        return False
    flags = fields.get("flags", "").split()
    amd = fields.get("vendor_id") == "AuthenticAMD"
    return amd and family == ZEN4_FAMILY and "avx512f" in flags


def slow_sort_targets(cpuinfo: str, targets: Mapping[str, bool]) -> tuple[str, ...]:
    """The AVX-512 targets to turn off for fast sorts, or ``()`` when numpy's choice is
    already right.

    Parameters
    ----------
    cpuinfo : str
        The text of ``/proc/cpuinfo``.
    targets : mapping
        numpy's dispatch targets and whether each is in use
        (:func:`numpy_dispatch_targets`).

    Returns
    -------
    tuple of str
        :func:`avx512_targets_in_use` on a Zen 4 processor; empty elsewhere, or when
        they are off already.
    """
    return avx512_targets_in_use(targets) if is_zen4(cpuinfo) else ()


def slow_sort_targets_here(
    cpuinfo_path: str | Path = "/proc/cpuinfo", targets: Mapping[str, bool] | None = None
) -> tuple[str, ...]:
    """:func:`slow_sort_targets` of this machine.

    Parameters
    ----------
    cpuinfo_path : str or Path
        Where the processor is described (absent off Linux: nothing to turn off).
    targets : mapping, optional
        numpy's dispatch targets (:func:`numpy_dispatch_targets`); read from this numpy
        when not given.
    """
    path = Path(cpuinfo_path)
    if not path.is_file():
        return ()
    found = numpy_dispatch_targets() if targets is None else targets
    return slow_sort_targets(path.read_text(errors="replace"), found)


def sort_dispatch_advice(
    cpuinfo_path: str | Path = "/proc/cpuinfo", targets: Mapping[str, bool] | None = None
) -> str | None:
    """A sentence saying how to start Python for fast sorts here, or None.

    Parameters are those of :func:`slow_sort_targets_here`.

    Returns
    -------
    str or None
        The environment setting and why, when numpy sorts with AVX-512 on Zen 4.
    """
    slow = slow_sort_targets_here(cpuinfo_path, targets)
    if not slow:
        return None
    setting = f'NPY_DISABLE_CPU_FEATURES="{" ".join(slow)}"'
    return (
        "numpy sorts with its AVX-512 kernels on this AMD Zen 4 processor, where they are "
        "3 to 4 times slower than its AVX2 ones (the exact medians of the stamp "
        f"statistics); start Python with {setting} in the environment for the same "
        "results, faster (docs/scan.md)"
    )


def warn_if_sorts_are_slow(log: logging.Logger, stage: str) -> None:
    """Log :func:`sort_dispatch_advice` as a warning of ``stage``, where there is one:
    what the pipelines that compute stamp statistics call before they start."""
    advice = sort_dispatch_advice()
    if advice:
        log.warning("%s: %s", stage, advice)
