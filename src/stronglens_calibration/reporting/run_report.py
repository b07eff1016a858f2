"""The run report: one HTML page a referee can read, built from what the pipelines wrote.

Every section comes from one of the project's own outputs (``ingest_report.json``,
``quality_report.json``, ``split_report.json``, ``gate_report.json``,
``model_gate_report.json``, ``training_history.csv``, ``evaluation_report.json``,
``scan_report.json``, ``mock_realism.csv``) and says which file and when it was written;
a section whose file is missing is listed as not run. Every value cell carries a
``data-key`` naming the field it shows (``gate_report:gates.gate_1_5_normalisation.value``)
so that the page can be checked against its sources. Figures are embedded (PNG, base64):
the page is one self-contained file, readable from disk or as an MLflow artifact.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.reporting.formatting import interval, number

#: The sources of the report, in page order, with the pipeline that writes each.
SOURCES: dict[str, str] = {
    "ingest_report": "ingest",
    "quality_report": "quality",
    "split_report": "split",
    "gate_report": "shortcut_gates",
    "training_history": "train",
    "model_gate_report": "train",
    "evaluation_report": "evaluate",
    "scan_report": "scan",
    "mock_realism": "mock_survey",
}

#: Figures embedded at the end, in order, with a caption each.
FIGURES: dict[str, str] = {
    "split_sky_map": "the sky split (HEALPix pixels per split)",
    "gate_diagnostics": "shortcut gates: values, intervals, thresholds, null bands",
    "roc_curve": "ROC curve on the test split",
    "reliability_diagram": "calibration: reliability before and after temperature scaling",
    "score_histograms": "test scores per class",
    "completeness_map": "selection function: injection-recovery completeness",
    "candidate_gallery": "top test candidates",
    "mock_realism": "mock survey against real DR10 (reference ranges)",
    "mock_survey_examples": "mock survey examples",
}


@dataclass(frozen=True)
class RunInfo:
    """What the page says about the run itself.

    Attributes
    ----------
    generated_utc : str
        When the page was made (ISO 8601, UTC).
    pipelines : list of str
        The pipelines of the run.
    status : str
        ``completed``, or ``failed: <message>``.
    git_commit, data_root : str
        The code version and the data root.
    mlflow_run_id : str or None
        The MLflow run, when one was active.
    """

    generated_utc: str
    pipelines: list[str]
    status: str
    git_commit: str = "unknown"
    data_root: str = "data"
    mlflow_run_id: str | None = None


@dataclass
class ReportInputs:
    """The outputs the page summarises.

    Attributes
    ----------
    reports : dict
        JSON reports by source name (:data:`SOURCES`).
    tables : dict
        ``training_history`` and ``mock_realism`` as data frames.
    figures : dict
        PNG bytes by figure name (:data:`FIGURES`).
    written : dict
        When each source was written (ISO 8601, UTC), by name.
    this_run : set
        The sources written by this run (older ones are marked as such).
    stale_pairs : dict
        Reports that describe another version of their object table than the one on
        disk (a run stopped between writing the two), report name to table name.
    """

    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, bytes] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)
    this_run: set[str] = field(default_factory=set)
    stale_pairs: dict[str, str] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.reports or name in self.tables


def lookup(tree: Any, path: str) -> Any:
    """The value at a dotted ``path`` (``gates.gate_1_5_normalisation.value``); keys may
    themselves hold dots when no shorter key matches (``fpr_1e-2``)."""
    node = tree
    parts = path.split(".")
    i = 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            key = ".".join(parts[i:j])
            if isinstance(node, Mapping) and key in node:
                node = node[key]
                i = j
                break
        else:
            raise KeyError(path)
    return node


class _Page:
    """Accumulates the page's HTML."""

    def __init__(self, inputs: ReportInputs) -> None:
        self.inputs = inputs
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def value(self, source: str, path: str, digits: int = 3) -> str:
        """A cell showing ``source``'s field ``path``, tagged with its key."""
        try:
            raw = lookup(self.inputs.reports[source], path)
        except KeyError:
            raw = None
        return (
            f'<td data-key="{html.escape(source)}:{html.escape(path)}">'
            f"{html.escape(number(raw, digits))}</td>"
        )

    def span(self, source: str, low: str, high: str, digits: int = 3) -> str:
        """A cell showing an interval ``[low, high]`` of ``source``."""
        report = self.inputs.reports[source]
        try:
            lo, hi = lookup(report, low), lookup(report, high)
        except KeyError:
            lo = hi = None
        key = f"{source}:{low}|{high}"
        return f'<td data-key="{html.escape(key)}">{html.escape(interval(lo, hi, digits))}</td>'

    def estimate(self, source: str, stem: str, digits: int = 3) -> str:
        """Two cells: ``stem`` and its interval ``stem_ci_low`` to ``stem_ci_high``."""
        return self.value(source, stem, digits) + self.span(
            source, f"{stem}_ci_low", f"{stem}_ci_high", digits
        )

    def section(self, title: str, source: str) -> bool:
        """Open a section of ``source``; ``False`` (and a line saying so) when it is
        missing."""
        self.add(f"<h2>{html.escape(title)}</h2>")
        if not self.inputs.has(source):
            self.add(
                f'<p class="missing" data-missing="{source}">Not available: '
                f"<code>{source}</code> has not been written (run <code>kedro run "
                f"--pipelines {SOURCES[source]}</code>).</p>"
            )
            return False
        when = self.inputs.written.get(source, "unknown time")
        fresh = source in self.inputs.this_run
        note = "written by this run" if fresh else "from an earlier run"
        self.add(
            f'<p class="source">From <code>{source}</code>, written {html.escape(when)} '
            f'(<span class="{"fresh" if fresh else "stale"}">{note}</span>).</p>'
        )
        return True


def _table(header: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return f"<table><tr>{head}</tr>" + "".join(f"<tr>{r}</tr>" for r in rows) + "</table>"


def _label(text: str) -> str:
    return f"<td>{html.escape(text)}</td>"


def _data_section(page: _Page) -> None:
    if page.section("Data: ingest", "ingest_report"):
        rows = [
            _label("lenscat rows read") + page.value("ingest_report", "positives.lenscat_rows"),
            _label("candidates with a cutout and a reference")
            + page.value("ingest_report", "positives.candidates_matching_references"),
            _label("positives after the cuts")
            + page.value("ingest_report", "selection.positives.kept"),
            _label("sweep rows read")
            + page.value("ingest_report", "selection.negatives.sweep_rows_read"),
            _label("non-lenses selected")
            + page.value("ingest_report", "selection.negatives.selected"),
            _label("objects ingested") + page.value("ingest_report", "objects"),
        ]
        rows += [
            _label(f"tier {tier}") + page.value("ingest_report", f"per_tier.{tier}")
            for tier in sorted(page.inputs.reports["ingest_report"].get("per_tier", {}))
        ]
        page.add(_table(["count", "value"], rows))
    if page.section("Data: quality", "quality_report"):
        q = page.inputs.reports["quality_report"]
        rows = [
            _label(f"class {label}")
            + page.value("quality_report", f"per_class.{label}.rows_in")
            + page.value("quality_report", f"per_class.{label}.ok")
            + page.value("quality_report", f"per_class.{label}.quarantined")
            for label in sorted(q.get("per_class", {}))
        ]
        rows.append(
            _label("all")
            + page.value("quality_report", "rows_in")
            + page.value("quality_report", "ok")
            + page.value("quality_report", "quarantined")
        )
        page.add(_table(["class (1: lens)", "rows in", "usable", "quarantined"], rows))
        reasons = [
            _label(reason) + page.value("quality_report", f"per_reason.{reason}")
            for reason in q.get("per_reason", {})
        ]
        if reasons:
            page.add("<h3>Quarantine reasons</h3>" + _table(["reason", "objects"], reasons))
    if page.section("Data: split", "split_report"):
        s = page.inputs.reports["split_report"]
        rows = []
        for group in s.get("fractions", {}):
            cells = "".join(
                page.value("split_report", f"fractions.{group}.counts.{split}")
                for split in ("train", "val", "test")
            )
            rows.append(
                _label(group)
                + cells
                + page.value("split_report", f"fractions.{group}.max_abs_error")
            )
        page.add(_table(["objects", "train", "val", "test", "largest fraction error"], rows))
        checks = [
            _label(f"HEALPix pixels shared, {pair}")
            + page.value("split_report", f"shared_pixels.{pair}")
            for pair in s.get("shared_pixels", {})
        ]
        checks.append(_label("split checks passed") + page.value("split_report", "passed"))
        page.add(_table(["check", "value"], checks))


def _gate_rows(page: _Page, source: str, prefix: str, names: list[str]) -> list[str]:
    from stronglens_calibration.gates.registry import GATES

    rows = []
    for name in names:
        base = f"{prefix}{name}"
        what = GATES[name].statistic if name in GATES else ""
        rows.append(
            _label(name)
            + _label(what)
            + page.value(source, f"{base}.value")
            + page.span(source, f"{base}.ci_low", f"{base}.ci_high")
            + page.value(source, f"{base}.threshold")
            + page.value(source, f"{base}.verdict")
            + page.value(source, f"{base}.null.p_value")
            + page.span(source, f"{base}.null.quantiles.2.5", f"{base}.null.quantiles.97.5")
            + page.value(source, f"{base}.sample_size_factor", 1)
        )
    return rows


_GATE_HEADER = [
    "gate",
    "statistic",
    "value",
    "95 % interval",
    "threshold",
    "verdict",
    "null p",
    "null 95 % range",
    "sample growth to settle",
]


def _gate_section(page: _Page) -> None:
    if page.section("Shortcut gates (before training)", "gate_report"):
        g = page.inputs.reports["gate_report"]
        page.add(
            _table(
                ["", "value"],
                [
                    _label("overall verdict") + page.value("gate_report", "verdict"),
                    _label("gates that stop an enforced run")
                    + _label(", ".join(g.get("blocking", [])) or "none"),
                    _label("what an inconclusive gate does")
                    + page.value("gate_report", "inconclusive_rule"),
                    _label("enforced") + page.value("gate_report", "enforce"),
                    _label("lenses / non-lenses measured")
                    + _label(f"{g.get('n_positive', '-')} / {g.get('n_negative', '-')}"),
                ],
            )
        )
        page.add(_table(_GATE_HEADER, _gate_rows(page, "gate_report", "gates.", list(g["gates"]))))
    if page.section("Gate 1.7 (after training)", "model_gate_report"):
        m = page.inputs.reports["model_gate_report"]
        names = [k for k, v in m.items() if isinstance(v, dict) and "value" in v]
        page.add(_table(_GATE_HEADER, _gate_rows(page, "model_gate_report", "", names)))
        rows = [
            _label(f"validation {what}")
            + page.value("model_gate_report", f"{name}.{part}.mean_p_before")
            + page.value("model_gate_report", f"{name}.{part}.mean_p_after")
            + page.value("model_gate_report", f"{name}.{part}.replaced_fraction")
            for name in names
            if isinstance(m[name].get("lenses"), dict)
            for part, what in (("lenses", "lenses"), ("non_lenses", "non-lenses"))
        ]
        if rows:
            header = ["", "mean p as stored", "mean p, excess light suppressed",
                      "annulus pixels replaced (median fraction)"]  # fmt: skip
            page.add(_table(header, rows))


def _training_section(page: _Page) -> None:
    if not page.section("Training", "training_history"):
        return
    history = page.inputs.tables["training_history"]
    if history.empty:
        page.add("<p>The training history is empty.</p>")
        return
    best = history.loc[history["val_auc"].idxmax()]
    rows = [
        _label("epochs run") + f'<td data-key="training_history:epochs">{len(history)}</td>',
        _label("best epoch (the saved model)")
        + f'<td data-key="training_history:best_epoch">{int(best["epoch"])}</td>',
        _label("validation AUC at the best epoch")
        + f'<td data-key="training_history:best_val_auc">{number(float(best["val_auc"]))}</td>',
        _label("validation loss at the best epoch")
        + f'<td data-key="training_history:best_val_loss">{number(float(best["val_loss"]))}</td>',
    ]
    page.add(_table(["", "value"], rows))
    page.add(_figure(training_curve_png(history), "training curve: loss and validation AUC"))


def _evaluation_section(page: _Page) -> None:
    if not page.section("Test metrics", "evaluation_report"):
        return
    e = page.inputs.reports["evaluation_report"]
    page.add(
        _table(
            ["", "value", "95 % interval"],
            [
                _label("test lenses / non-lenses")
                + _label(f"{e.get('n_positive', '-')} / {e.get('n_negative', '-')}")
                + _label(""),
                _label("AUC") + page.estimate("evaluation_report", "auc"),
                _label("TPR at zero false positives (TPR0)")
                + page.value("evaluation_report", "tpr0")
                + _label(""),
                _label("TPR at ten false positives (TPR10)")
                + page.value("evaluation_report", "tpr10")
                + _label(""),
            ],
        )
    )
    rows = []
    for name, op in e.get("operating_points", {}).items():
        base = f"operating_points.{name}"
        resolved = op.get("resolved", True)
        status = "resolved" if resolved else "NOT resolved by the split sizes"
        rows.append(
            _label(name)
            + page.value("evaluation_report", f"{base}.threshold_p_calibrated")
            + page.value("evaluation_report", f"{base}.tpr")
            + page.span("evaluation_report", f"{base}.tpr_ci_low", f"{base}.tpr_ci_high")
            + page.value("evaluation_report", f"{base}.fpr")
            + page.span("evaluation_report", f"{base}.fpr_ci_low", f"{base}.fpr_ci_high")
            + page.value("evaluation_report", f"{base}.n_fp")
            + f'<td class="{"ok" if resolved else "warn"}">{status}</td>'
            + page.value("evaluation_report", f"recall_tier_a.{name}.value")
            + page.value("evaluation_report", f"recall_tier_b.{name}.value")
            + page.value("evaluation_report", f"precision_at_survey_prevalence.{name}.value", 4)
        )
    page.add("<h3>Operating points</h3>")
    page.add(
        _table(
            [
                "threshold",
                "p_calibrated >",
                "TPR",
                "TPR 95 %",
                "FPR",
                "FPR 95 %",
                "false positives",
                "resolvable",
                "recall tier A",
                "recall tier B",
                "precision at survey prevalence",
            ],
            rows,
        )
    )
    page.add("<h3>Calibration</h3>")
    page.add(
        _table(
            ["", "value", "95 % interval"],
            [
                _label("temperature (fitted on validation)")
                + page.estimate("evaluation_report", "calibration.temperature"),
                _label("ECE before scaling")
                + page.estimate("evaluation_report", "ece.before.overall"),
                _label("ECE after scaling")
                + page.estimate("evaluation_report", "ece.after.overall"),
            ],
        )
    )
    page.add("<h3>Selection function and injection realism</h3>")
    rows = [
        _label(f"completeness, {name}")
        + page.value("evaluation_report", f"selection_function_completeness.{name}.value")
        + page.span(
            "evaluation_report",
            f"selection_function_completeness.{name}.ci_low",
            f"selection_function_completeness.{name}.ci_high",
        )
        for name in e.get("selection_function_completeness", {})
    ]
    rows += [
        _label("injection / real lens brightness ratio")
        + page.value("evaluation_report", "realism.injection_brightness.value")
        + page.span(
            "evaluation_report",
            "realism.injection_brightness.ci_low",
            "realism.injection_brightness.ci_high",
        ),
        _label("injection / real lens arc brightness ratio (host subtracted)")
        + page.value("evaluation_report", "realism.arc_brightness.value")
        + page.span(
            "evaluation_report",
            "realism.arc_brightness.ci_low",
            "realism.arc_brightness.ci_high",
        ),
        _label("linear-probe AUC, injections vs real lenses")
        + page.value("evaluation_report", "realism.realism_probe.auc")
        + page.span(
            "evaluation_report", "realism.realism_probe.ci_low", "realism.realism_probe.ci_high"
        ),
    ]
    page.add(_table(["", "value", "95 % interval"], rows))
    if e.get("baseline"):
        page.add("<h3>The CNN against a cheap baseline (same test objects)</h3>")
        page.add(
            _table(
                ["", "CNN", "95 %", "baseline", "95 %", "difference", "95 % (paired)"],
                [
                    _label(label)
                    + "".join(
                        page.estimate("evaluation_report", f"baseline.{who}_{what}")
                        for who in ("cnn", "baseline")
                    )
                    + page.estimate("evaluation_report", f"baseline.{what}_difference")
                    for label, what in (
                        ("AUC", "auc"),
                        ("TPR at the validation-chosen FPR threshold", "tpr"),
                    )
                ],
            )
        )
        page.add(
            f'<p data-key="evaluation_report:baseline.verdict">'
            f"{html.escape(str(e['baseline']['verdict']))}</p>"
        )
    _transfer_table(page, e.get("region_transfer"))
    verdict = e.get("realism_verdict")
    if verdict:
        page.add(
            f'<p class="verdict" data-key="evaluation_report:realism_verdict">'
            f"{html.escape(str(verdict))}</p>"
        )
    notes = e.get("notes") or []
    if notes:
        page.add("<ul>" + "".join(f"<li>{html.escape(str(n))}</li>" for n in notes) + "</ul>")


def _transfer_table(page: _Page, transfer: Mapping[str, Any] | None) -> None:
    """The held-out coarse regions against the fine test pixels."""
    if not transfer:
        return
    page.add("<h3>Transfer to unseen sky regions (test split)</h3>")
    if transfer.get("available"):
        ops = list(transfer["held_out_regions"]["operating_points"])
        rows = []
        for part, label in (
            ("held_out_regions", "regions held out whole (no training object nearby)"),
            ("fine_pixels", "fine test pixels (training pixels around them)"),
        ):
            base = f"region_transfer.{part}"
            rows.append(
                _label(label)
                + page.value("evaluation_report", f"{base}.n_positive", 0)
                + page.value("evaluation_report", f"{base}.n_negative", 0)
                + page.estimate("evaluation_report", f"{base}.auc")
                + "".join(
                    page.value("evaluation_report", f"{base}.operating_points.{op}.tpr.value")
                    + page.value("evaluation_report", f"{base}.operating_points.{op}.fpr.value")
                    for op in ops
                )
            )
        header = ["", "lenses", "non-lenses", "AUC", "95 %"]
        header += [f"{what} at {op}" for op in ops for what in ("TPR", "FPR")]
        page.add(_table(header, rows))
    page.add(
        f'<p data-key="evaluation_report:region_transfer.verdict">'
        f"{html.escape(str(transfer['verdict']))}</p>"
    )


def _scan_section(page: _Page) -> None:
    if not page.section("Scan", "scan_report"):
        return
    s = page.inputs.reports["scan_report"]
    rows = [
        _label("objects in the region") + page.value("scan_report", "objects"),
        _label("scored") + page.value("scan_report", "scored"),
        _label("survey prevalence assumed") + page.value("scan_report", "survey_prevalence", 4),
        _label("candidates listed") + page.value("scan_report", "n_candidates"),
        _label("expected lenses among them")
        + page.value("scan_report", "expected_lenses_among_candidates.expected", 1),
        _label("95 % interval")
        + page.span(
            "scan_report",
            "expected_lenses_among_candidates.ci_low",
            "expected_lenses_among_candidates.ci_high",
            1,
        ),
        _label("known lenses among the candidates")
        + page.value("scan_report", "known_lenses.among_candidates"),
    ]
    page.add(_table(["", "value"], rows))
    reasons = [
        _label(reason) + page.value("scan_report", f"not_scored.{reason}")
        for reason in s.get("not_scored", {})
    ]
    if reasons:
        page.add("<h3>Not scored</h3>" + _table(["reason", "objects"], reasons))


def _realism_section(page: _Page) -> None:
    table = page.inputs.tables.get("mock_realism")
    if table is None or table.empty:
        return
    page.add("<h2>Mock survey against real DR10</h2>")
    inside = int(table["median_inside"].astype(bool).sum())
    page.add(
        f'<p data-key="mock_realism:medians_inside">{inside} of {len(table)} measured medians '
        "of the mock lie inside the real DR10 ranges.</p>"
    )


def _figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def training_curve_png(history: pd.DataFrame) -> bytes:
    """Train and validation loss and validation AUC per epoch, as PNG bytes."""
    import io

    import matplotlib.figure

    fig = matplotlib.figure.Figure(figsize=(8, 3.2))
    ax0, ax1 = fig.subplots(1, 2)
    ax0.plot(history["epoch"], history["train_loss"], label="train")
    ax0.plot(history["epoch"], history["val_loss"], label="validation")
    ax0.set_xlabel("epoch")
    ax0.set_ylabel("loss (binary cross-entropy)")
    ax0.legend(fontsize=8)
    ax1.plot(history["epoch"], history["val_auc"], color="#228833")
    best = int(np.nanargmax(history["val_auc"].to_numpy(float)))
    ax1.axvline(history["epoch"].iloc[best], color="0.6", ls="--", lw=1)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("validation AUC")
    ax1.set_title("dashed: best epoch (the saved model)", fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


_STYLE = """
body { font-family: sans-serif; max-width: 72rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
th { background: #f2f2f2; }
.missing, .stale, .warn { color: #b35900; }
.fresh, .ok { color: #1b7837; }
.source { font-size: 0.8rem; color: #555; }
.verdict { border-left: 4px solid #b35900; padding-left: 0.6rem; }
figure { margin: 1rem 0; } img { max-width: 100%; }
figcaption { font-size: 0.85rem; color: #555; }
"""

#: Section builders in page order.
SECTIONS: tuple[Callable[[_Page], None], ...] = (
    _data_section,
    _gate_section,
    _training_section,
    _evaluation_section,
    _scan_section,
    _realism_section,
)


def render_run_report(info: RunInfo, inputs: ReportInputs) -> str:
    """The run report as one self-contained HTML page.

    Parameters
    ----------
    info : RunInfo
        The run.
    inputs : ReportInputs
        Its outputs (those that exist).

    Returns
    -------
    str
        HTML.
    """
    page = _Page(inputs)
    status_class = "ok" if info.status == "completed" else "warn"
    page.add(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>stronglens-calibration run report</title><style>{_STYLE}</style></head><body>"
        "<h1>stronglens-calibration: run report</h1>"
        + _table(
            ["", ""],
            [
                _label("generated (UTC)") + _label(info.generated_utc),
                _label("pipelines") + _label(", ".join(info.pipelines) or "-"),
                _label("status") + f'<td class="{status_class}">{html.escape(info.status)}</td>',
                _label("code version") + _label(info.git_commit),
                _label("data root") + _label(info.data_root),
                _label("MLflow run") + _label(info.mlflow_run_id or "none"),
            ],
        )
    )
    page.add("<h2>Summary</h2><ul>")
    page.add("".join(f"<li>{html.escape(line)}</li>" for line in summary_lines(inputs)))
    page.add("</ul>")
    for build in SECTIONS:
        build(page)
    figures = [(name, cap) for name, cap in FIGURES.items() if name in inputs.figures]
    if figures:
        page.add("<h2>Figures</h2>")
        page.add("".join(_figure(inputs.figures[name], cap) for name, cap in figures))
    page.add("</body></html>")
    return "".join(page.parts)


def summary_lines(inputs: ReportInputs) -> list[str]:
    """A few lines that say how the run came out: data, gates, training, test, scan."""
    r = inputs.reports
    lines = [
        f"INCONSISTENT: {report}.json describes another {table} than the one on disk (a run "
        f"stopped between writing them): rerun the pipeline that writes both"
        for report, table in inputs.stale_pairs.items()
    ]
    if "quality_report" in r:
        q = r["quality_report"]
        lines.append(f"data: {q.get('ok')} usable objects, {q.get('quarantined')} quarantined")
    if "gate_report" in r:
        g = r["gate_report"]
        states = {
            v: [n for n, x in g["gates"].items() if x.get("verdict") == v]
            for v in ("fail", "inconclusive")
        }
        text = f"data gates: {str(g.get('verdict', '-')).upper()}"
        if states["fail"]:
            text += f"; failed {', '.join(states['fail'])}"
        if states["inconclusive"]:
            text += f"; inconclusive {', '.join(states['inconclusive'])}"
        if g.get("blocking"):
            text += f"; stop an enforced run: {', '.join(g['blocking'])}"
        lines.append(text)
    history = inputs.tables.get("training_history")
    if history is not None and not history.empty:
        best = history.loc[history["val_auc"].idxmax()]
        lines.append(
            f"training: {len(history)} epochs, best validation AUC {best['val_auc']:.3f} at "
            f"epoch {int(best['epoch'])}"
        )
    if "model_gate_report" in r:
        for name, m in r["model_gate_report"].items():
            if isinstance(m, dict) and "value" in m:
                lines.append(
                    f"{name}: {m['value']:.3f} ({interval(m.get('ci_low'), m.get('ci_high'))}), "
                    f"threshold {m.get('threshold')}: {str(m.get('verdict', '-')).upper()}"
                )
    if "evaluation_report" in r:
        e = r["evaluation_report"]
        auc_ci = interval(e.get("auc_ci_low"), e.get("auc_ci_high"))
        lines.append(
            f"test: AUC {number(e.get('auc'))} ({auc_ci}) on {e.get('n_positive')} lenses "
            f"and {e.get('n_negative')} non-lenses"
        )
        unresolved = [
            n for n, op in e.get("operating_points", {}).items() if not op.get("resolved", True)
        ]
        if unresolved:
            lines.append(f"not resolvable at these split sizes: {', '.join(unresolved)}")
        if e.get("realism_verdict"):
            lines.append(f"realism: {str(e['realism_verdict']).split(':')[0]}")
        if e.get("baseline"):
            lines.append(f"baseline: {str(e['baseline']['verdict']).split(':')[0]}")
        t = e.get("region_transfer") or {}
        if t.get("available"):
            span = interval(t["auc_difference_ci_low"], t["auc_difference_ci_high"])
            lines.append(
                f"unseen sky regions: AUC {number(t['held_out_regions']['auc'])} against "
                f"{number(t['fine_pixels']['auc'])} in the fine test pixels, difference "
                f"{t['auc_difference']:+.3f} ({span})"
            )
    if "scan_report" in r:
        s = r["scan_report"]
        x = s.get("expected_lenses_among_candidates", {})
        lines.append(
            f"scan: {s.get('scored')} of {s.get('objects')} objects scored; "
            f"{number(x.get('expected'), 1)} lenses expected among the top "
            f"{s.get('n_candidates')} ({interval(x.get('ci_low'), x.get('ci_high'), 1)})"
        )
    stale = sorted(n for n in SOURCES if inputs.has(n) and n not in inputs.this_run)
    if stale and inputs.this_run:
        lines.append(f"from earlier runs: {', '.join(stale)}")
    return lines


def markdown_summary(info: RunInfo, inputs: ReportInputs) -> str:
    """The summary as Markdown (the MLflow run's description)."""
    head = f"**{', '.join(info.pipelines) or 'run'}**: {info.status}"
    body = "\n".join(f"- {line}" for line in summary_lines(inputs))
    return f"{head}\n\n{body}\n\nThe full report: artifact `reports/run_report.html`."
