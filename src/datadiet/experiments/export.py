"""Finished runs of an experiment as one flat table: CSV (always) or Parquet (with pandas and pyarrow).

One row per run: ``run_id``, ``finished``, ``version``, the configuration as ``config.*`` columns and the metrics
as ``metrics.*`` columns (nested tables as dotted names, lists as JSON text).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from datadiet.experiments.results import flatten, load_results
from datadiet.files import atomic_write, check_output_file

__all__ = ["FORMATS", "export_results", "result_table"]

FORMATS = ("csv", "parquet")


def result_table(folder: str | Path) -> tuple[list[str], list[dict]]:
    """Column names and one flat dict per finished run of the experiment in ``folder``."""
    rows = []
    for row in load_results(folder).rows:
        flat = {"run_id": row.run_id, "finished": row.finished, "version": row.version,
                **flatten(row.config, "config."), **flatten(row.metrics, "metrics.")}
        rows.append({k: json.dumps(v) if isinstance(v, list) else v for k, v in flat.items()})
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return columns, rows


def export_results(folder: str | Path, fmt: str = "csv", path: str | Path | None = None) -> Path:
    """Write the table to ``path`` (default ``<folder>/results.<fmt>``) atomically; returns the path."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    columns, rows = result_table(folder)
    path = check_output_file(path if path is not None else Path(folder) / f"results.{fmt}", "--output")
    if fmt == "csv":
        atomic_write(path, lambda tmp: _write_csv(tmp, columns, rows))
        return path
    try:
        import pandas as pd
        import pyarrow  # noqa: F401  (pandas' Parquet engine)
    except ImportError:
        raise ValueError("Parquet export needs pandas and pyarrow: pip install 'datadiet[parquet]'") from None
    frame = pd.DataFrame(rows, columns=columns)
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, engine="pyarrow", index=False))
    return path


def _write_csv(path: str, columns: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
