"""The kit's HTML reprs are readable in JupyterLab Dark: JupyterLab 4 (theme set through its settings file),
Debian's headless Chromium, a notebook that shows the axiom scorecard (every verdict colour), an AxiomResult per
verdict, a zoo entry and an IG result; every piece of text in those outputs is measured with the WCAG contrast
ratio of its computed colour against the first opaque background behind it (semi-transparent layers composited),
and must reach 4.5 : 1 (WCAG AA for body text). A screenshot is saved as dark-theme.png in the test's tmp dir.

Skipped when /usr/bin/chromium or playwright is missing (.ci/run installs chromium, so CI always runs it).
"""
import pytest

from browser_setup import CHROMIUM, CHROMIUM_ARGS, jupyter_lab, write_notebook

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

pytestmark = pytest.mark.skipif(not CHROMIUM.exists() or sync_playwright is None,
                                reason="needs Debian's chromium at /usr/bin/chromium and playwright")
VERDICTS = ["holds", "holds approximately", "fails", "not applicable", "not available"]
CELLS = [
    "import torch\nfrom IPython.display import display\nimport attrkit\nfrom attrkit import axioms, zoo\n"
    "from attrkit.lab.axioms import AxiomResult, Scorecard\ntorch.set_num_threads(1)",
    # every verdict colour, in a scorecard and alone
    f"verdicts = {VERDICTS!r}\n"
    "results = [AxiomResult(axiom=a, method=m, verdict=verdicts[(i + j) % 5], numbers={}, "
    "explanation=f'why {m} {a}', key='err 3e-05')\n"
    "           for i, m in enumerate(['ig', 'gradient']) for j, a in enumerate(['completeness', 'dummy', 'linearity'])]\n"
    "display(Scorecard(methods=['ig', 'gradient'], axioms=['completeness', 'dummy', 'linearity'], results=results))\n"
    "for v in verdicts:\n    display(AxiomResult('completeness', 'ig', v, {}, f'explained: {v}', key='gap 1e-07'))",
    "digits = zoo.load('digits')\ndisplay(digits)\n"
    "display(attrkit.integrated_gradients(digits.model, digits.x_test[:1], steps=8, progress=False))",
]
MEASURE = """() => {
  const rgba = s => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, under) => { const a = top[3]; return [0, 1, 2].map(k => top[k] * a + under[k] * (1 - a)).concat([1]); };
  const background = el => {            // layers from the element up, composited until one is opaque
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = [255, 255, 255, 1];
    for (const c of layers.reverse()) colour = over(c, colour);
    return colour;
  };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const out = [];
  const outputs = document.querySelectorAll('.jp-OutputArea-output.jp-RenderedHTMLCommon');
  for (const root of outputs) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const el = n.parentElement, bg = background(el), fg = over(rgba(getComputedStyle(el).color), bg);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      out.push({text: n.textContent.trim().slice(0, 40), ratio: (a + 0.05) / (b + 0.05),
                fg: getComputedStyle(el).color, bg: 'rgb(' + bg.slice(0, 3).map(Math.round).join(',') + ')'});
    }
  }
  return {outputs: outputs.length, texts: out};
}"""


@pytest.fixture
def dark_lab(tmp_path):
    """JupyterLab on 127.0.0.1 in the JupyterLab Dark theme, token in the environment: (url, token)."""
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / "dark.ipynb", CELLS)
    theme = {"@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": "JupyterLab Dark"}}
    with jupyter_lab(tmp_path, root, settings=theme) as served:
        yield served


def test_html_reprs_read_at_4_5_to_1_in_jupyterlab_dark(dark_lab, tmp_path):
    url, token = dark_lab
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=str(CHROMIUM),
                                                       headless=True, args=CHROMIUM_ARGS,
                                                       viewport={"width": 1400, "height": 2400})
        try:
            page = browser.new_page()
            page.goto(f"{url}/lab/tree/dark.ipynb?token={token}")
            page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=90_000)
            assert page.evaluate("document.body.dataset.jpThemeName") == "JupyterLab Dark"
            assert page.evaluate("document.body.dataset.jpThemeLight") == "false"
            page.click(".lm-MenuBar-itemLabel:text-is('Run')")
            page.click("li.lm-Menu-item[data-command='runmenu:run-all']")
            page.wait_for_function("document.body.innerText.includes('Axioms scorecard') && "
                                   "document.body.innerText.includes('F(x) / F(x′)')", timeout=120_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(tmp_path / "dark-theme.png"), full_page=True)
            seen = page.evaluate(MEASURE)
        finally:
            browser.close()
    texts = seen["texts"]
    assert seen["outputs"] == 8, seen["outputs"]  # the scorecard, five AxiomResults, the zoo entry, the IG result
    shown = " ".join(t["text"] for t in texts)
    for verdict in VERDICTS:
        assert verdict in shown
    assert "err 3e-05" in shown and "gap 1e-07" in shown and "explained: fails" in shown
    worst = min(texts, key=lambda t: t["ratio"])
    print(f"{len(texts)} texts; lowest contrast {worst}")
    assert worst["ratio"] >= 4.5, f"unreadable in JupyterLab Dark: {worst}"
