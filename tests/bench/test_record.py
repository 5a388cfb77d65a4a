"""A benchmark section's stamp (bench/record.py)."""

import datetime

from bench import record


def test_a_section_written_again_from_saved_results_keeps_the_commit_and_day_they_were_measured(monkeypatch):
    monkeypatch.setattr(record, "commit", lambda: "now0000000")
    again = record.stamp("then000000", "2026-11-30").format(script="bench/x.py")
    assert "2026-11-30" in again and "commit then000000;" in again and "now0000000" not in again
    fresh = record.stamp().format(script="bench/x.py")
    assert f"_Measured {datetime.date.today().isoformat()} " in fresh and "commit now0000000;" in fresh
    assert fresh.endswith("script `bench/x.py`._")
