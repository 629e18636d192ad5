"""One self-contained HTML report of an experiment: figures (PNG as base64), the numbers behind them, the cost
of each method, the score sets and the configuration."""

from __future__ import annotations

import base64
import html
import io
import json
import shlex
from pathlib import Path

from datadiet.experiments.figures import experiment_figure
from datadiet.experiments.results import METRICS, ExperimentResults, Point, load_results
from datadiet.training.checkpoint import atomic_write

__all__ = ["REPORT", "write_report"]

REPORT = "report.html"
_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; }
"""


def write_report(folder: str | Path, path: str | Path | None = None) -> Path:
    """Write the report of the experiment in ``folder`` (default ``<folder>/report.html``); returns its path."""
    results = load_results(folder)
    path = Path(path) if path is not None else results.folder / REPORT
    text = render(results)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    return path


def render(results: ExperimentResults) -> str:
    """The report as one HTML string."""
    info = results.info
    points = results.points()
    parts = [f"<h1>{_e(info['name'])}</h1>", _summary(results)]
    if points:
        parts += ["<h2>Figure</h2>", f'<img alt="{_e(info["name"])}" src="data:image/png;base64,{_png(results)}">']
        for panel in info["plot"]["panels"]:
            parts += [f"<h2>Numbers: {_e(METRICS[panel][1])}</h2>", _stats_table(points, panel)]
        parts += ["<h2>Cost of each method</h2>", _cost_table(points)]
    else:
        parts.append("<p>No run has finished yet.</p>")
    parts += ["<h2>Score sets</h2>", _scores_table(results.score_records()),
              "<h2>Configuration (recipe after the preset)</h2>",
              f"<pre>{_e(json.dumps(info['resolved'], indent=2, sort_keys=True))}</pre>"]
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{_e(info['name'])}</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


def _e(value: object) -> str:
    return html.escape(str(value))


def _png(results: ExperimentResults) -> str:
    buffer = io.BytesIO()
    experiment_figure(results).savefig(buffer, format="png", dpi=120)
    return base64.b64encode(buffer.getvalue()).decode()


def _summary(results: ExperimentResults) -> str:
    info = results.info
    command = ["datadiet", "sweep", info["recipe"] or "RECIPE.toml"]
    command += ["--preset", info["preset"]] if info["preset"] else []
    command += ["--out", str(results.folder)]
    items = [f"{len(results.rows)} of {len(info['run_ids'])} runs finished"
             + (f" ({results.missing} missing: run the sweep again to finish them)" if results.missing else ""),
             f"command: <code>{_e(shlex.join(command))}</code>", f"datadiet {_e(info['version'])}, "
             f"updated {_e(info['updated'])}"]
    description = f"<p>{_e(info['description'])}</p>" if info.get("description") else ""
    spread = ("<p>Each point: mean over seeds, with the 16th-84th percentile band (columns p16 and p84); "
              "n = number of seeds.</p>")
    return description + "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" + spread


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _stats_table(points: list[Point], panel: str) -> str:
    rows = []
    for p in points:
        mean, low, high = p.stats(panel)
        rows.append([p.series, f"{p.pruned:.3f}", f"{mean:.2f}", f"{low:.2f}", f"{high:.2f}", str(len(p.seeds))])
    return _table(["method", "pruned", "mean", "p16", "p84", "n"], rows)


def _cost_table(points: list[Point]) -> str:
    """Mean training, scoring and total seconds, samples seen, and total time relative to full data."""
    full = [p.stats("wallclock")[0] for p in points if p.kind == "full"]
    reference = full[0] if len(full) == 1 else None
    rows = []
    for p in points:
        total = p.stats("wallclock")[0]
        rows.append([p.series, f"{p.pruned:.3f}", f"{p.stats('train_seconds')[0]:.1f}",
                     f"{p.stats('scoring_seconds')[0]:.1f}", f"{total:.1f}", f"{p.stats('samples_seen')[0]:.0f}",
                     f"{total / reference:.2f}" if reference else "-"])
    note = ("<p>Scoring includes the static scores a run uses, charged in full to every run that uses them "
            "(the cost of computing them once), and the scoring passes of dynamic pruning.</p>")
    return note + _table(["method", "pruned", "training (s)", "scoring (s)", "total (s)", "samples seen",
                          "total / full"], rows)


def _scores_table(records: list[dict]) -> str:
    if not records:
        return "<p>No static scores.</p>"
    rows = [[r["key"], r["label"], f"{r['seconds']:.1f}", str(r["samples"]), r["created"]] for r in records]
    return _table(["key", "scores", "seconds", "samples forwarded", "created"], rows)
