"""Instructor mode: a notebook served as a clean app by Voilà, opened in Debian's headless Chromium.

What `make app NB=...` (``python -m attrkit app``) runs (Voilà 0.5.13), with the token in the environment as
``JUPYTER_TOKEN`` (``auto_token`` lets Jupyter's identity provider read it; never on the command line):

    voila --no-browser --Voila.ip=127.0.0.1 --port=PORT --Voila.port_retries=0 --Voila.auto_token=True notebooks/NB

Checked here: the app binds to 127.0.0.1 and asks for the token; it renders the widgets without any source code
(Voilà strips sources by default, ``--strip_sources=True``); moving a slider recomputes IG in the kernel and the
readout and the image change. A screenshot is saved under the test's tmp_path.

Skipped where /usr/bin/chromium is absent (``apt-get install chromium``; never playwright's own browser download).
"""
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from browser_setup import CHROMIUM, CHROMIUM_ARGS, free_port

MARKER = "source-marker-7f3a"  # in a code cell and a comment: must never reach the page

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")

APP_CODE = f"""\
# {MARKER}
import io

import ipywidgets as widgets
import torch

from attrkit import integrated_gradients, viz, zoo

torch.set_num_threads(1)
digits = zoo.load("digits")
x = digits.x_test[:1]


def ig_png(target):
    res = integrated_gradients(digits.model, x, target=target, steps=16, progress=False)
    fig = viz.heatmap(res.attributions[0], title=f"IG for class {{target}}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return res, buffer.getvalue()


slider = widgets.IntSlider(value=0, min=0, max=9, description="class")
readout = widgets.HTML()
readout.add_class("app-readout")
image = widgets.Image(format="png", layout=widgets.Layout(width="360px"))
image.add_class("app-image")


def show(change=None):
    res, data = ig_png(slider.value)
    image.value = data
    readout.value = f"class {{slider.value}}: sum of IG = {{float(res.attributions.sum()):.4f}}"


slider.observe(show, "value")
show()
widgets.VBox([slider, readout, image])
"""


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"voila did not listen on 127.0.0.1:{port} within {timeout:.0f} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Voilà serving a small widget notebook on a free 127.0.0.1 port, with a token; stopped in teardown."""
    root = tmp_path_factory.mktemp("voila")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# IG explorer (app test)"),
                                         nbformat.v4.new_code_cell(APP_CODE)])
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(nb, root / "app.ipynb")
    env = dict(os.environ, ATTRKIT_PROGRESS="0",
               JUPYTER_RUNTIME_DIR=str(root / "runtime"), JUPYTER_CONFIG_DIR=str(root / "config"),
               JUPYTER_DATA_DIR=str(root / "data"), JUPYTERLAB_SETTINGS_DIR=str(root / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"))
    port, token = free_port(), secrets.token_hex(16)
    env["JUPYTER_TOKEN"] = token
    log = root / "voila.log"
    cmd = [sys.executable, "-m", "voila", "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
           "--Voila.auto_token=True", "app.ipynb"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_for_port(port, proc, log)
        yield dict(url=f"http://127.0.0.1:{port}/", token=token, root=root, log=log, port=port)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # voila and the kernels it started, nothing else
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def test_app_listens_on_loopback_and_asks_for_the_token(app):
    assert f"http://127.0.0.1:{app['port']}/" in app["log"].read_text()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(app["url"], timeout=10)
    assert refused.value.code in (302, 403)
    if refused.value.code == 302:
        assert "/login" in refused.value.headers["Location"]


def test_app_renders_widgets_without_sources_and_responds(app, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    started = time.monotonic()
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(str(tmp_path / "profile"), headless=True,
                                                        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = context.new_page()
            page.goto(f"{app['url']}?token={app['token']}", wait_until="domcontentloaded", timeout=60_000)
            page.wait_for_selector(".widget-hslider .noUi-handle", timeout=60_000)
            readout = page.locator(".app-readout")
            page.wait_for_function("() => { const r = document.querySelector('.app-readout');"
                                   " return r && r.innerText.includes('sum of IG'); }", timeout=30_000)
            img = page.locator(".app-image")
            before_text, before_src = readout.inner_text(), img.get_attribute("src")
            assert before_text.startswith("class 0:")
            assert before_src

            html = page.content()
            assert MARKER not in html and "ig_png" not in html, "the app shows source code"
            assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
            assert page.locator(".jp-OutputArea-output .jp-RenderedText[data-mime-type*=error]").count() == 0

            page.locator(".noUi-handle").first.click()
            page.keyboard.press("ArrowRight")
            page.wait_for_function("() => document.querySelector('.app-readout').innerText.startsWith('class 1:')",
                                   timeout=30_000)
            page.wait_for_function("(old) => document.querySelector('.app-image').getAttribute('src') !== old",
                                   arg=before_src, timeout=30_000)
            assert page.locator(".widget-readout").first.inner_text().strip() == "1"
            assert readout.inner_text() != before_text
            page.screenshot(path=str(tmp_path / "voila_app.png"), full_page=True)
        finally:
            context.close()
    assert (tmp_path / "voila_app.png").stat().st_size > 0
    assert time.monotonic() - started < 90
