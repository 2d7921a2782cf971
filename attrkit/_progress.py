"""Progress bars for long work (tqdm.auto: a widget in Jupyter, text in a terminal)."""
from __future__ import annotations

import os

from tqdm.auto import tqdm


def progress_bar(total: int, progress: bool | None, desc: str):
    """A tqdm bar over ``total`` units of work.

    ``progress=None`` (auto) shows the bar only once the work has run for over a second, so quick calls stay
    silent; ``True`` shows it at once, ``False`` never. ``ATTRKIT_PROGRESS=0`` turns every bar off (tests, CI).
    """
    if os.environ.get("ATTRKIT_PROGRESS", "1") == "0" or progress is False:
        return tqdm(total=total, disable=True)
    return tqdm(total=total, desc=desc, delay=0.0 if progress else 1.0, leave=False)
