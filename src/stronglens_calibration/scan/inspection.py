"""What the astronomer receives from a scan: the ranked candidates with Legacy Surveys
viewer links, a summary of the scan, and a static HTML page of the top candidates with a
way to record grades (A / B / C / not a lens) and save them as a CSV, as the human
graders of the DESI lens searches work."""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.sky.viewer import viewer_url

#: The grades a visual inspector can give.
GRADES: tuple[str, ...] = ("A", "B", "C", "not a lens")

#: Columns of the candidate table, in order.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "rank", "object_id", "ra", "dec", "p_survey", "p_calibrated", "logit", "known_lens",
    "known_grading", "photsys", "mag_r", "brickname", "cutout_file", "cutout_row",
    "cutout_origin", "viewer_url",
)  # fmt: skip


def top_candidates(partitions: Iterable[pd.DataFrame], n: int) -> pd.DataFrame:
    """The ``n`` scored objects of highest logit over a stream of scored shards (memory
    bounded by ``n`` plus one shard)."""
    if n < 1:
        raise ValueError(f"'n' must be >= 1, got {n}")
    best = pd.DataFrame()
    for part in partitions:
        scored = part[part["scored"]]
        if not len(scored):
            continue
        best = pd.concat([best, scored], ignore_index=True)
        best = best.sort_values(["logit", "object_id"], ascending=[False, True], kind="stable")
        best = best.head(n).reset_index(drop=True)
    if not len(best):
        return pd.DataFrame(columns=list(CANDIDATE_COLUMNS))
    best.insert(0, "rank", np.arange(1, len(best) + 1))
    best["viewer_url"] = [viewer_url(r, d) for r, d in zip(best["ra"], best["dec"], strict=True)]
    return best.reindex(columns=list(CANDIDATE_COLUMNS))


def expected_lenses(p: np.ndarray, p_alternatives: tuple[np.ndarray, ...] = ()) -> dict[str, float]:
    """Expected number of lenses among objects of probabilities ``p`` and its 95 %
    interval (the sum of independent Bernoulli trials, normal approximation).

    ``p_alternatives`` are the same objects' probabilities under other calibrations
    (e.g. the ends of the temperature's interval): the interval then spans every one of
    them, so it holds the calibration's own uncertainty as well as the counting's.
    """

    def bounds(q: np.ndarray) -> tuple[float, float, float]:
        q = np.asarray(q, dtype=np.float64)
        mean = float(q.sum())
        sd = float(np.sqrt((q * (1 - q)).sum()))
        return mean, max(0.0, mean - 1.96 * sd), mean + 1.96 * sd

    mean, lo, hi = bounds(p)
    for q in p_alternatives:
        _, q_lo, q_hi = bounds(q)
        lo, hi = min(lo, q_lo), max(hi, q_hi)
    return {"expected": mean, "ci_low": lo, "ci_high": hi}


def _png_data_uri(stamp: np.ndarray, q: float, stretch: float, crop: int) -> str:
    import matplotlib.figure

    from stronglens_calibration.stamps.display import rgb_composite
    from stronglens_calibration.stamps.geometry import centre_crop

    fig = matplotlib.figure.Figure(figsize=(1.6, 1.6), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(
        rgb_composite(centre_crop(stamp, min(crop, stamp.shape[-1])), q, stretch), origin="lower"
    )
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


_SCRIPT = """
function sortBy(col, numeric) {
  const body = document.querySelector('#candidates tbody');
  const rows = Array.from(body.rows);
  const key = r => r.cells[col].dataset.v;
  const dir = body.dataset.sorted == col ? -1 : 1;
  rows.sort((a, b) => dir * (numeric ? key(a) - key(b) : key(a).localeCompare(key(b))));
  body.dataset.sorted = dir == 1 ? col : '';
  rows.forEach(r => body.appendChild(r));
}
function grade(id, value) { localStorage.setItem('grade:' + id, value); }
function restore() {
  document.querySelectorAll('input[type=radio]').forEach(i => {
    if (localStorage.getItem('grade:' + i.name) === i.value) { i.checked = true; }
  });
}
function saveGrades() {
  let csv = 'object_id,ra,dec,grade\\n';
  document.querySelectorAll('#candidates tbody tr').forEach(r => {
    const g = localStorage.getItem('grade:' + r.dataset.id) || '';
    csv += [r.dataset.id, r.dataset.ra, r.dataset.dec, '"' + g + '"'].join(',') + '\\n';
  });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([csv], {type: 'text/csv'}));
  a.download = 'scan_grades.csv';
  a.click();
}
window.onload = restore;
"""


def inspection_page(
    candidates: pd.DataFrame,
    stamps: list[np.ndarray],
    summary: Mapping[str, Any],
    display: Mapping[str, float],
) -> str:
    """A self-contained HTML page of the candidates (thumbnails embedded).

    Parameters
    ----------
    candidates : pandas.DataFrame
        :data:`CANDIDATE_COLUMNS`, in rank order.
    stamps : list of numpy.ndarray
        float32 ``(3, H, W)`` g, r, z stamp of each candidate (nanomaggies per pixel).
    summary : Mapping
        The scan summary (shown at the top).
    display : Mapping
        ``lupton_q``, ``lupton_stretch``, ``crop`` (pixels).

    Returns
    -------
    str
        The page: a table sortable by clicking a header, a grade per candidate kept in
        the browser, and a button that saves the grades as ``scan_grades.csv``
        (``object_id, ra, dec, grade``; read back with :func:`read_grades`).
    """
    if len(stamps) != len(candidates):
        raise ValueError(f"{len(stamps)} stamps for {len(candidates)} candidates")
    head = ["#", "image", "object", "p_survey", "p_calibrated", "known lens", "r mag", "grade"]
    numeric = [True, False, False, True, True, False, True, False]
    th = "".join(
        f'<th onclick="sortBy({i}, {str(numeric[i]).lower()})">{html.escape(h)}</th>'
        for i, h in enumerate(head)
    )
    rows = []
    for stamp, r in zip(stamps, candidates.itertuples(index=False), strict=True):
        oid = html.escape(str(r.object_id), quote=True)
        known = html.escape(f"{r.known_lens} ({r.known_grading})" if r.known_lens else "")
        radios = "".join(
            f'<label><input type="radio" name="{oid}" value="{g}" '
            f"onchange=\"grade('{oid}', '{g}')\">{g}</label> "
            for g in GRADES
        )
        img = _png_data_uri(stamp, display["lupton_q"], display["lupton_stretch"], display["crop"])
        mag = "" if pd.isna(r.mag_r) else f"{r.mag_r:.2f}"
        rows.append(
            f'<tr data-id="{oid}" data-ra="{r.ra:.6f}" data-dec="{r.dec:.6f}">'
            f'<td data-v="{r.rank}">{r.rank}</td>'
            f'<td data-v=""><a href="{html.escape(r.viewer_url)}" target="_blank">'
            f'<img src="{img}" width="128" height="128" alt="{oid}"></a></td>'
            f'<td data-v="{oid}"><a href="{html.escape(r.viewer_url)}" target="_blank">{oid}</a>'
            f"<br>RA {r.ra:.5f}, Dec {r.dec:+.5f}</td>"
            f'<td data-v="{r.p_survey}">{r.p_survey:.3g}</td>'
            f'<td data-v="{r.p_calibrated}">{r.p_calibrated:.3f}</td>'
            f'<td data-v="{known}">{known}</td>'
            f'<td data-v="{mag or 99}">{mag}</td>'
            f'<td data-v="">{radios}</td></tr>'
        )
    summary_html = html.escape(json.dumps(summary, indent=1, default=str))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>scan candidates</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px;font-size:12px}th{cursor:pointer;"
        "background:#eee}</style>"
        f"<script>{_SCRIPT}</script></head><body><h1>Scan candidates</h1>"
        "<p>Click a column header to sort; grade each candidate (A: definite lens, B: "
        "probable, C: possible, or not a lens); grades stay in this browser until you "
        '<button onclick="saveGrades()">save the grades as CSV</button>.</p>'
        f"<details><summary>scan summary</summary><pre>{summary_html}</pre></details>"
        f'<table id="candidates"><thead><tr>{th}</tr></thead><tbody>{"".join(rows)}'
        "</tbody></table></body></html>"
    )


def read_grades(table: pd.DataFrame) -> pd.DataFrame:
    """Grades saved from the inspection page (``object_id, ra, dec, grade``); ungraded
    rows are dropped, unknown grades refused naming the rows."""
    missing = [c for c in ("object_id", "grade") if c not in table.columns]
    if missing:
        raise ValueError(f"a grades table needs column(s) {missing}; found {list(table.columns)}")
    graded = table[table["grade"].fillna("").astype(str).str.strip() != ""].copy()
    graded["grade"] = graded["grade"].astype(str).str.strip()
    bad = ~graded["grade"].isin(GRADES)
    if bad.any():
        raise ValueError(
            f"unknown grade(s) {sorted(set(graded.loc[bad, 'grade']))} for "
            f"{graded.loc[bad, 'object_id'].tolist()[:10]}; allowed: {list(GRADES)}"
        )
    return graded.reset_index(drop=True)
