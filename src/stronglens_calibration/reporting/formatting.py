"""Numbers as the run report prints them."""

from __future__ import annotations

import math
from typing import Any


def _float(value: float, digits: int) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf"
    if value != 0 and abs(value) < 10 ** (-digits):
        return f"{value:.1e}"
    return f"{value:.{digits}f}"


def number(value: Any, digits: int = 3) -> str:
    """A float to ``digits`` decimals, an int as is, ``-`` when missing."""
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = _float(value, digits)
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(number(v, digits) for v in value) + "]"
    else:
        text = str(value)
    return text


def interval(low: Any, high: Any, digits: int = 3) -> str:
    """``low-high``, or ``-`` when either end is missing."""
    if low is None or high is None:
        return "-"
    return f"{number(low, digits)} to {number(high, digits)}"
