"""scripts/course_times.py: measured study times from a class's answer logs (and the model still runs)."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import course_times  # noqa: E402


def line(minute, notebook="03_integrated_gradients", event=None, **answer):
    stamp = f"2026-12-04T{10 + minute // 60:02d}:{minute % 60:02d}:00+00:00"
    entry = {"event": event} if event else {"name": "x", "answer": 1, "correct": True, **answer}
    return {**entry, "notebook": notebook, "time": stamp}


def test_a_students_time_is_the_sum_of_gaps_without_the_breaks():
    lines = [line(0, event="open"), line(5), line(20),
             line(120),                                # 100 min later: a break, not study time
             line(130, event="done"),
             line(0, "04_baselines", event="open"), line(10, "04_baselines"),  # never finished: not counted
             {"name": "y", "answer": 2, "correct": False}]                     # no notebook, no time: ignored
    assert course_times.study_minutes(lines) == {"03_integrated_gradients": pytest.approx(5 + 15 + 10)}


def test_reopening_a_notebook_adds_the_second_session():
    lines = [line(0, event="open"), line(10, event="done"), line(200, event="open"), line(215, event="done")]
    assert course_times.study_minutes(lines) == {"03_integrated_gradients": pytest.approx(25)}


def test_a_class_folder_gives_medians_beside_the_stated_time(tmp_path, capsys):
    for student, minutes in (("ada", 40), ("bob", 50), ("cy", 90)):
        folder = tmp_path / student
        folder.mkdir()
        lines = [line(0, event="open")] + [line(m) for m in range(10, minutes, 10)] + [line(minutes, event="done")]
        (folder / "attrkit_answers.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines) + "not json\n")
    assert course_times.measured([tmp_path]) == {"03_integrated_gradients": [40, 50, 90]}
    course_times.main(["--logs", str(tmp_path)])
    out = capsys.readouterr()
    row = next(r for r in out.out.splitlines() if r.startswith("03_integrated_gradients"))
    stated = course_times.stated(__import__("nbformat").read(ROOT / "notebooks" / "03_integrated_gradients.ipynb", 4))
    assert row.split()[1:3] == ["3", "50"] and row.split()[-1] == stated != "?"
    assert "not a JSON line" in out.err


def test_logs_without_a_finished_notebook_say_what_to_do(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps(line(0, event="open")) + "\n")
    with pytest.raises(SystemExit, match="last cell"):
        course_times.main(["--logs", str(tmp_path)])


def test_the_model_still_estimates_every_notebook(capsys):
    course_times.main([str(ROOT / "notebooks" / "00_start_here.ipynb")])
    assert "00_start_here" in capsys.readouterr().out
