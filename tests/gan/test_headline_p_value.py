"""The headline line shows a metric's p-value against its null (the GANs' mode reverse KL)."""

from pathlib import Path

from genlab.run.pipeline import RunResult


def test_headline_shows_the_reverse_kl_p_value():
    mx = {"mode_reverse_kl": 0.0039, "mode_reverse_kl_floor": 0.00141, "mode_reverse_kl_p_value": 0.004995}
    line = RunResult(Path("/r"), mx).headline()
    assert "mode_reverse_kl 0.0039 (floor 0.00141) p 0.005" in line
    assert " p " not in RunResult(Path("/r"), {"w1": 0.1, "w1_floor": 0.05}).headline()
