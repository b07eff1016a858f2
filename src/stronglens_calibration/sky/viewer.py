"""Links to the Legacy Surveys sky viewer."""

from __future__ import annotations


def viewer_url(ra: float, dec: float, layer: str = "ls-dr10", zoom: int = 16) -> str:
    """The Legacy Surveys viewer centred on a position (ICRS degrees)."""
    return (
        f"https://www.legacysurvey.org/viewer?ra={ra:.6f}&dec={dec:.6f}&layer={layer}&zoom={zoom}"
    )
