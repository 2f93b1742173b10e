from __future__ import annotations

import json
import pathlib

import pandas as pd

from crmlifecycle.cli.demo.scoring import demo_section
from crmlifecycle.scoring import build_scorer
from crmlifecycle.synth import generate


def test_demo_section(tmp_path: pathlib.Path) -> None:
    text = demo_section(generate(seed=5, n_leads=2000), out=tmp_path)
    lines = text.splitlines()
    assert lines[0].startswith("Top open leads")  # the demo runner prints the title
    assert 5 <= len(lines) <= 25
    assert all(len(line) <= 120 for line in lines)
    assert "Top open leads" in text
    assert "RFM segments of" in text
    assert "AUC" in text
    assert "grade == 'A'" in text
    config = json.loads((tmp_path / "scoring-points.json").read_text(encoding="utf-8"))
    assert build_scorer(json.dumps(config)).name == "points"
    scores = pd.read_csv(tmp_path / "lead-scores.csv")
    assert len(scores) == 2000
    assert {"lead_id", "score", "grade", "label"} <= set(scores.columns)
