"""Every lower bound (the classifier two-sample TV) is marked wherever a run's numbers appear:
metrics.json (``<name>_is_lower_bound: 1``), the printed run table, the headline line, and
a sweep's rates.csv (issue 14, item 8)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from genlab.run.pipeline import RunResult
from genlab.sweep.plan import RunRecord, write_rates_csv

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "scripts" / "train.py"

MX = {"w1": 0.12, "w1_floor": 0.05, "w1_ci_low": 0.1, "w1_ci_high": 0.14,
      "tv_classifier": 0.79, "tv_classifier_floor": 0.03, "tv_classifier_ci_low": 0.78,
      "tv_classifier_ci_high": 0.8, "tv_classifier_is_lower_bound": 1}


def test_headline_marks_the_lower_bound_only():
    line = RunResult(Path("/r"), dict(MX)).headline()
    assert "tv_classifier lower bound 0.79 [0.78, 0.8]" in line
    assert "w1 0.12 [0.1, 0.14]" in line and "w1 lower bound" not in line


def test_rates_csv_has_a_lower_bound_column(tmp_path):
    rec = RunRecord(recipe="r", x=100, seed=0, metrics=dict(MX), config={})
    write_rates_csv(tmp_path / "rates.csv", [rec], ["w1", "tv_classifier"])
    rows = {r["metric"]: r for r in csv.DictReader(open(tmp_path / "rates.csv"))}
    assert rows["tv_classifier"]["lower_bound"] == "1" and rows["w1"]["lower_bound"] == "0"


def test_train_run_marks_tv_classifier_in_metrics_json_table_and_headline(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, str(TRAIN), "recipe=empirical_gmm", "n=60", "eval.m=80",
                           "eval.reps=2", "eval.metrics=[w1,tv_classifier]", f"out_dir={out}",
                           "progress=false"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    mx = json.loads((out / "metrics.json").read_text())
    assert mx["tv_classifier_is_lower_bound"] == 1 and "w1_is_lower_bound" not in mx
    lines = proc.stdout.strip().splitlines()
    (row,) = [ln for ln in lines if ln.startswith("tv_classifier ")]
    assert row.rstrip().endswith("lower bound")
    (w1_row,) = [ln for ln in lines if ln.startswith("w1 ")]
    assert "lower bound" not in w1_row
    assert "tv_classifier lower bound" in lines[-1] and lines[-1].startswith(str(out))
