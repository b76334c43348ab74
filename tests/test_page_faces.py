"""The page's scripts write what the engine's one rule writes: a chart's tick labels are
numbers.js's text of the tick (byhand.numbers' rules, pinned against Python in
test_number_faces.py), rounded to numbers.FIGURES significant figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from byhand import numbers

PLOTS_JS = Path(__file__).parents[1] / "src/byhand/web/static/js/plots.js"
#: ticks a chart draws: round steps, a log scale's 10^v, a loss near zero, large counts
TICKS = [0.0, 0.2, 0.05, -0.25, 1.5, 2e-5, 1.5e-4, 3.1622776601683795, 0.0031622776, 12345678.0]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js runs the page's plots.js")
def test_chart_ticks_are_written_as_every_number_on_the_page():
    script = (
        f"import {{ tick }} from {json.dumps(PLOTS_JS.as_uri())};\n"
        f"console.log(JSON.stringify({json.dumps(TICKS)}.map(tick)));\n"
    )
    run = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    page = json.loads(run.stdout)
    engine = [numbers.text(float(f"{v:.{numbers.FIGURES}g}")) for v in TICKS]
    assert page == engine
    # the small ones in the page's scientific notation, as tables write them
    assert page[5] == "2 × 10⁻⁵" and page[3] == "−0.25"
