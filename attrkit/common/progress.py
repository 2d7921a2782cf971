"""Progress bars for long work (tqdm.auto: a widget in Jupyter, text in a terminal)."""
from __future__ import annotations

import os
import time

from tqdm.auto import tqdm


class _LazyBar:
    """Counts work silently and opens a real tqdm bar only once a second has passed.

    Creating a tqdm bar costs a few milliseconds (a widget in Jupyter), which is a noticeable share of a quick
    IG or AGI call on a small model; most calls finish well before a bar would be worth showing.
    """

    def __init__(self, total: int, desc: str, delay: float):
        self.total, self.desc, self.delay = total, desc, delay
        self.n, self.start, self.bar = 0, time.perf_counter(), None
        if delay <= 0:
            self.bar = tqdm(total=total, desc=desc, leave=False)

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.bar is not None:
            self.bar.update(n)
        elif time.perf_counter() - self.start >= self.delay:
            self.bar = tqdm(total=self.total, desc=self.desc, initial=self.n, leave=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress_bar(total: int, progress: bool | None, desc: str):
    """A progress bar over ``total`` units of work, used as ``with progress_bar(...) as bar: bar.update(k)``.

    ``progress=None`` (auto) shows the bar only once the work has run for over a second, so quick calls stay
    silent; ``True`` shows it at once, ``False`` never. ``ATTRKIT_PROGRESS=0`` turns every bar off (tests, CI).
    """
    if os.environ.get("ATTRKIT_PROGRESS", "1") == "0" or progress is False:
        return _LazyBar(total, desc, delay=float("inf"))
    return _LazyBar(total, desc, delay=0.0 if progress else 1.0)
