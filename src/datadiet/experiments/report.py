"""One self-contained HTML report of an experiment: every figure (PNG as base64) with the numbers behind it, the
cost of each method, the score sets and the configuration."""

from __future__ import annotations

import base64
import html
import json
import shlex
import tempfile
from pathlib import Path

from datadiet.experiments.figures import Rendered, Table, render_all
from datadiet.experiments.layout import REPORT
from datadiet.experiments.results import ExperimentResults, load_results
from datadiet.files import atomic_write, check_output_file

__all__ = ["write_report"]

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
    path = check_output_file(path if path is not None else results.folder / REPORT, "--output")
    text = render(results)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    return path


def render(results: ExperimentResults) -> str:
    """The report as one HTML string."""
    info = results.info
    parts = [f"<h1>{_e(info['name'])}</h1>", _summary(results)]
    with tempfile.TemporaryDirectory() as folder:
        figures = render_all(results, folder)
        parts += [_figure(entry, rendered) for entry, rendered in figures]
    if not figures:
        parts.append("<p>No run has finished yet.</p>")
    parts += ["<h2>Score sets</h2>", _scores_table(results.score_records()),
              "<h2>Configuration (recipe after the preset)</h2>",
              f"<pre>{_e(json.dumps(info['resolved'], indent=2, sort_keys=True))}</pre>"]
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{_e(info['name'])}</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


def _e(value: object) -> str:
    return html.escape(str(value))


def _figure(entry: dict, rendered: Rendered) -> str:
    """A figure's section: heading, images, notes and tables."""
    title = "Figure" if not entry["name"] else f"Figure {entry['name']} ({entry['type'].replace('_', ' ')})"
    parts = [f"<h2>{_e(title)}</h2>"]
    for path in rendered.images:
        image = base64.b64encode(Path(path).read_bytes()).decode()
        parts.append(f'<img alt="{_e(Path(path).stem)}" src="data:image/png;base64,{image}">')
    parts += [f"<p><em>{_e(note)}</em></p>" for note in rendered.notes]
    for table in rendered.tables:
        parts += [f"<h3>{_e(table.title)}</h3>", f"<p>{_e(table.note)}</p>" if table.note else "", _html(table)]
    return "\n".join(part for part in parts if part)


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


def _html(table: Table) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _scores_table(records: list[dict]) -> str:
    if not records:
        return "<p>No static scores.</p>"
    rows = [[r["key"], r["label"], f"{r['seconds']:.1f}", str(r["samples"]), r["created"]] for r in records]
    return _html(Table("", ["key", "scores", "seconds", "samples forwarded", "created"], rows))
