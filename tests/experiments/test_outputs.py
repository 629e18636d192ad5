"""Figures, the HTML report and the exported table of a finished experiment."""

from __future__ import annotations

import base64
import csv
import importlib.util
import re

import numpy as np
import pytest
from PIL import Image

from datadiet.experiments import ResultStore, export_results, load_results, plot_experiment, write_report


def test_points_are_mean_and_percentiles_over_seeds(finished):
    results = load_results(finished)
    points = {(p.series, round(p.pruned, 6)): p for p in results.points()}
    assert set(points) == {("full", 0.0), ("random", 0.5), ("random", 0.2), ("el2n", 0.5), ("el2n", 0.2),
                           ("ucb", 0.5), ("ucb", 0.2)}
    with ResultStore(finished / "results.sqlite") as store:
        accuracies = [r.metrics["test_accuracy"] * 100 for r in store.rows()
                      if r.config["method"]["label"] == "el2n" and r.config["keep"] == 0.5]
    mean, low, high = points[("el2n", 0.5)].stats("accuracy")
    assert mean == pytest.approx(np.mean(accuracies))
    assert (low, high) == pytest.approx(tuple(np.percentile(accuracies, [16, 84])))
    assert points[("el2n", 0.5)].seeds in ((0, 1), (1, 0)) and results.missing == 0


def test_plot_writes_a_png_with_both_panels(finished, tmp_path):
    (path,) = plot_experiment(load_results(finished), tmp_path)
    assert path == tmp_path / "tiny.png"
    width, height = Image.open(path).size
    assert width > 1.8 * height  # two panels side by side: accuracy and wall-clock


def test_report_is_one_html_file_with_the_image_and_the_numbers(finished, tmp_path):
    path = write_report(finished, tmp_path / "report.html")
    text = path.read_text()
    (image,) = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert base64.b64decode(image).startswith(b"\x89PNG")
    assert "<h3>Numbers: test accuracy (%)</h3>" in text and "<h3>Numbers: wall-clock incl. scoring (s)</h3>" in text
    assert "<h3>Cost of each method</h3>" in text and "el2n at epoch 1, seeds 0-1" in text  # the score set and its cost
    results = load_results(finished)
    el2n = next(p for p in results.points() if p.series == "el2n" and p.keep == 0.5)
    mean, low, high = el2n.stats("accuracy")
    assert f"<td>el2n</td><td>0.500</td><td>{mean:.2f}</td><td>{low:.2f}</td><td>{high:.2f}</td><td>2</td>" in text
    assert "14 of 14 runs finished" in text and "&quot;per_class&quot;: 20" in text  # the configuration
    assert "src=\"http" not in text and "<link" not in text  # self-contained


def test_export_csv_has_one_row_per_run_with_config_and_metrics(finished, tmp_path):
    path = export_results(finished, "csv", tmp_path / "results.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 14 and len({r["run_id"] for r in rows}) == 14
    row = rows[0]
    for column in ("config.method.label", "config.keep", "config.seed", "config.train.lr", "metrics.test_accuracy",
                   "metrics.train_seconds", "metrics.scoring_seconds", "metrics.samples_seen", "version"):
        assert column in row
    assert row["config.train.lr_milestones"] == "[0.3, 0.6, 0.8]"


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is not None, reason="pyarrow is installed")
def test_parquet_without_pyarrow_names_the_extra(finished, tmp_path):
    with pytest.raises(ValueError, match=r"pip install 'datadiet\[parquet\]'"):
        export_results(finished, "parquet", tmp_path / "r.parquet")


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None or importlib.util.find_spec("pandas") is None,
                    reason="needs pandas and pyarrow")
def test_parquet_round_trip(finished, tmp_path):
    import pandas as pd

    frame = pd.read_parquet(export_results(finished, "parquet", tmp_path / "r.parquet"))
    assert len(frame) == 14 and "metrics.test_accuracy" in frame.columns


def test_unknown_format_and_missing_folder(finished, tmp_path):
    with pytest.raises(ValueError, match="unknown format 'xlsx'; valid: csv, parquet"):
        export_results(finished, "xlsx")
    with pytest.raises(FileNotFoundError, match="experiment.json does not exist"):
        load_results(tmp_path)
