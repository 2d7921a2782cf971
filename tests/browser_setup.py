"""What the browser tests share: Debian's headless Chromium (never Playwright's own download) and a JupyterLab of
their own on 127.0.0.1 (see ../shared/env.md, "JupyterLab widgets in a real browser")."""
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat

CHROMIUM = Path("/usr/bin/chromium")
# headless, and nothing that reaches the network by itself
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_chromium(playwright, **kw):
    """A fresh headless Chromium (``playwright.chromium.launch``) with the shared arguments."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, **kw)


def write_notebook(path: Path, cells: list) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, path)


@contextlib.contextmanager
def jupyter_lab(tmp_path: Path, root: Path, settings: dict | None = None, timeout: float = 90):
    """JupyterLab serving ``root`` on 127.0.0.1, with its own runtime/config/settings/workspace dirs under
    ``tmp_path``, the news toast off and ``settings`` ({"<plugin>/<name>.jupyterlab-settings": {...}}) written
    first; the token travels in the environment, never on the command line (where `ps` shows it). Yields
    (url, token); stops the server on exit."""
    token = secrets.token_hex(16)
    env = dict(os.environ, ATTRKIT_PROGRESS="0", JUPYTER_TOKEN=token,
               PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]))
    for var, name in (("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"),
                      ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
        env[var] = str(tmp_path / name)
        (tmp_path / name).mkdir()
    files = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                                 "checkForUpdates": False},
             **(settings or {})}
    for name, value in files.items():
        path = tmp_path / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port = free_port()
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                             "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}", "--allow-root"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("JupyterLab did not start; see " + str(tmp_path / "lab.log")) from None
                time.sleep(0.3)
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
