"""The explorers in a real browser: JupyterLab 4 started here on 127.0.0.1, Debian's headless Chromium driven by
Playwright (never its own browser download), a notebook with the IG, AGI and text explorers run through the Run menu, their
sliders moved with the keyboard, and the readouts and pictures checked for change.

Skipped when /usr/bin/chromium or playwright is missing (.ci/run installs chromium, so CI always runs it).
Screenshots are saved in the test's tmp dir: explorers.png (the page), ig-explorer.png, agi-explorer.png,
text-explorer.png.
"""
import pytest

from browser_setup import CHROMIUM, CHROMIUM_ARGS, jupyter_lab, write_notebook

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

pytestmark = pytest.mark.skipif(not CHROMIUM.exists() or sync_playwright is None,
                                reason="needs Debian's chromium at /usr/bin/chromium and playwright")

NOTEBOOK = [
    "import torch\nfrom IPython.display import display\nfrom attrkit import zoo\n"
    "from attrkit.widgets import AGIExplorer, IGExplorer\ntorch.set_num_threads(1)\nmnist = zoo.load('mnist')",
    "ig = IGExplorer(mnist.model, mnist.x_test[7], steps=16)\ndisplay(ig)",
    "agi = AGIExplorer(mnist.model, mnist.x_test[7], classes=3, max_steps=10)\ndisplay(agi)",
    "from attrkit.widgets import TextIGExplorer\ntweets = zoo.load('tweets')\n"
    "text = TextIGExplorer(tweets.model, tweets.encode('I love the food but the service was terrible'),\n"
    "                      tweets.model.embedding, vocab=tweets.vocab, steps=16)\ndisplay(text)",
]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on 127.0.0.1 with its own runtime/config/settings/workspace dirs: (url, token)."""
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / "explorers.ipynb", NOTEBOOK)
    with jupyter_lab(tmp_path, root) as served:
        yield served


def state(page, explorer: str) -> tuple[str, list]:
    """(readout text, the src of every picture) of one explorer on the page."""
    readout = page.inner_text(f".{explorer} .attrkit-readout")
    images = page.eval_on_selector_all(f".{explorer} img", "els => els.map(e => e.src)")
    return readout, images


def scrub(page, explorer: str, slider: str, presses: int = 3):
    """Click the slider's handle and press ArrowRight, as a student would; wait for the readout to follow."""
    before = page.inner_text(f".{explorer} .attrkit-readout")
    page.click(f".{explorer} .{slider} .noUi-handle")
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("([sel, old]) => document.querySelector(sel).innerText !== old",
                           arg=[f".{explorer} .attrkit-readout", before], timeout=20_000)
    page.wait_for_timeout(500)  # let the last redraw arrive


def test_explorers_respond_in_jupyterlab(lab, tmp_path):
    url, token = lab
    profile = tmp_path / "chromium-profile"
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(str(profile), executable_path=str(CHROMIUM), headless=True,
                                                       args=CHROMIUM_ARGS, viewport={"width": 1500, "height": 1400})
        try:
            page = browser.new_page()
            page.goto(f"{url}/lab/tree/explorers.ipynb?token={token}")
            page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=60_000)
            page.click(".lm-MenuBar-itemLabel:text-is('Run')")
            page.click("li.lm-Menu-item[data-command='runmenu:run-all']")
            page.wait_for_selector(".attrkit-agi .attrkit-step .noUi-handle", timeout=90_000)
            page.wait_for_function("document.querySelectorAll('.attrkit-explorer img[src^=\"blob:\"]').length >= 9",
                                   timeout=30_000)

            ig_before = state(page, "attrkit-ig")
            assert "α = " in ig_before[0] and "Σ so far" in ig_before[0]
            scrub(page, "attrkit-ig", "attrkit-alpha")
            ig_after = state(page, "attrkit-ig")
            page.locator(".attrkit-ig").screenshot(path=str(tmp_path / "ig-explorer.png"))
            assert ig_after[0] != ig_before[0]
            assert ig_after[1][:4] != ig_before[1][:4] and len(ig_after[1]) >= 4

            page.locator(".attrkit-agi").scroll_into_view_if_needed()
            agi_before = state(page, "attrkit-agi")
            assert "step t = 0" in agi_before[0]
            scrub(page, "attrkit-agi", "attrkit-step", presses=2)
            agi_after = state(page, "attrkit-agi")
            assert agi_after[0] != agi_before[0] and "step t = 0" not in agi_after[0]
            assert agi_after[1] != agi_before[1]
            page.locator(".attrkit-agi").screenshot(path=str(tmp_path / "agi-explorer.png"))

            page.wait_for_selector(".attrkit-text-ig .attrkit-alpha .noUi-handle", timeout=60_000)
            page.locator(".attrkit-text-ig").scroll_into_view_if_needed()
            words = lambda: page.inner_text(".attrkit-text-ig .attrkit-text") + page.inner_text(".attrkit-text-ig")
            text_before = (page.inner_text(".attrkit-text-ig .attrkit-readout"), words())
            assert "node 1 of 16" in text_before[0] and "terrible" in text_before[1]
            scrub(page, "attrkit-text-ig", "attrkit-alpha", presses=8)
            text_after = (page.inner_text(".attrkit-text-ig .attrkit-readout"), words())
            assert text_after[0] != text_before[0] and text_after[1] != text_before[1]
            page.locator(".attrkit-text-ig").screenshot(path=str(tmp_path / "text-explorer.png"))
            page.screenshot(path=str(tmp_path / "explorers.png"))
        finally:
            browser.close()
