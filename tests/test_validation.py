"""Long validation runs (`make validate`, marker `slow`): the full-size demos."""

import runpy
from pathlib import Path

import pytest

DEMOS = Path(__file__).resolve().parents[1] / "demos"


@pytest.mark.slow
@pytest.mark.serial
def test_standard_problem_4_full_size(tmp_path, monkeypatch):
    """µMAG standard problem 4 at 5 nm elements, both fields for 1 ns (about 30 min on
    2 cores); the demo asserts the s-state, the first <m_x> = 0 crossing within 10 ps and
    <m> at 0.1 ns within 0.05 of the published solutions."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WEYLFEM_DEMO_SMALL", raising=False)
    runpy.run_path(str(DEMOS / "mumag_standard_problem_4.py"), run_name="__main__")
    assert (tmp_path / "demo-output/standard_problem_4/averages.png").exists()
