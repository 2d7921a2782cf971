"""Progress bars: silent for quick work, shown once work runs past a second, off on request."""
from attrkit.common import progress as _progress


def test_quick_work_stays_silent(monkeypatch, capsys):
    monkeypatch.delenv("ATTRKIT_PROGRESS", raising=False)
    with _progress.progress_bar(10, None, "quick") as bar:
        for _ in range(10):
            bar.update(1)
    assert capsys.readouterr().err == ""


def test_slow_work_opens_a_bar_with_the_count_so_far(monkeypatch, capsys):
    monkeypatch.delenv("ATTRKIT_PROGRESS", raising=False)
    clock = iter([0.0, 0.5, 1.5, 1.6, 1.7, 1.8])
    monkeypatch.setattr(_progress.time, "perf_counter", lambda: next(clock))
    with _progress.progress_bar(4, None, "slow") as bar:
        bar.update(1)                    # 0.5 s: nothing yet
        assert bar.bar is None
        bar.update(1)                    # 1.5 s: the bar opens at 2 of 4
        assert bar.bar is not None and bar.bar.n == 2
        bar.update(2)
        assert bar.bar.n == 4
    assert "slow" in capsys.readouterr().err


def test_off_switches(monkeypatch, capsys):
    monkeypatch.setenv("ATTRKIT_PROGRESS", "0")
    with _progress.progress_bar(3, True, "forced") as bar:
        bar.update(3)
    monkeypatch.delenv("ATTRKIT_PROGRESS")
    with _progress.progress_bar(3, False, "off") as bar:
        bar.update(3)
    assert capsys.readouterr().err == ""
