"""`python -m attrkit lab|app|test`: the servers start on 127.0.0.1 with a token that no process's command line
shows (`ps` on a shared machine would), refuse requests without it, and every failed start says what to do and
leaves nothing running.

The servers run with their own runtime/config/settings folders under tmp_path; each is stopped in teardown (SIGTERM
to the launcher, which stops the server and its kernels) and the test checks that its processes are gone.
"""
import json
import os
import re
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

import attrkit.__main__ as launcher

ROOT = Path(__file__).resolve().parents[1]
linux_proc = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc (Linux)")
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/\S*\?token=([0-9a-f]+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(tmp: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), ATTRKIT_PROGRESS="0")
    for var, name in (("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"),
                      ("JUPYTER_DATA_DIR", "data"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                      ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
        env[var] = str(tmp / name)
    for var in ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE", "DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        env.pop(var, None)
    return env


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (read from /proc/*/stat)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start(args: list[str], tmp: Path, timeout: float = 90):
    """The launcher in its own process; returns (process, url, token, log) once it printed the link."""
    log = tmp / "launcher.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "attrkit", *args, "--no-browser"], cwd=ROOT,
                                env=environment(tmp), stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not (found := URL.search(log.read_text())):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise AssertionError(f"the launcher printed no link:\n{log.read_text()}")
        time.sleep(0.2)
    return proc, found.group(0), found.group(2), log


def stop(proc: subprocess.Popen) -> None:
    below = descendants(proc.pid) if Path("/proc").exists() else []
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 10
    while any(alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in below if alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"processes left running after the launcher stopped: {left}"


def status(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as err:
        if err.code in (301, 302, 303, 307):
            assert "login" in err.headers["Location"], err.headers["Location"]
        return err.code


def check_token_hidden(proc: subprocess.Popen, token: str) -> int:
    """No command line of the launcher or anything below it carries the token; returns how many were read."""
    pids = [proc.pid, *descendants(proc.pid)]
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        assert token not in cmdline, f"the token is in the command line of {pid}: {cmdline!r}"
    return len(pids)


@pytest.fixture
def course(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# launcher test")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "start.ipynb")
    return folder


@linux_proc
def test_lab_keeps_the_token_out_of_argv_and_enforces_it(tmp_path, course):
    port = free_port()
    proc, url, token, log = start(["lab", "--port", str(port), "--dir", str(course), "--notebook", "start.ipynb"],
                                  tmp_path)
    try:
        assert url == f"http://127.0.0.1:{port}/lab/tree/start.ipynb?token={token}"
        assert check_token_hidden(proc, token) >= 2  # the launcher and the server at least
        base = f"http://127.0.0.1:{port}"
        assert status(f"{base}/api/contents") in (401, 403)
        assert status(f"{base}/api/contents?token=wrong{token}") in (401, 403)
        with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=30) as r:
            assert "start.ipynb" in {f["name"] for f in json.load(r)["content"]}
        assert status(url) == 200  # the very link printed
        assert status(f"{base}/lab/tree/start.ipynb") in (302, 401, 403)
    finally:
        stop(proc)


@linux_proc
def test_app_keeps_the_token_out_of_argv_and_enforces_it(tmp_path, course):
    port = free_port()
    proc, url, token, log = start(["app", str(course / "start.ipynb"), "--port", str(port)], tmp_path)
    try:
        assert url == f"http://127.0.0.1:{port}/?token={token}"
        assert check_token_hidden(proc, token) >= 2
        assert status(f"http://127.0.0.1:{port}/") in (302, 401, 403)
        assert status(f"http://127.0.0.1:{port}/?token=wrong{token}") in (302, 401, 403)
        assert status(url) == 200
        check_token_hidden(proc, token)  # the kernel Voilà started for the page, too
    finally:
        stop(proc)


def test_a_taken_port_is_refused_before_anything_starts(tmp_path, course, monkeypatch, capsys):
    started = []
    monkeypatch.setattr(launcher.subprocess, "Popen", lambda *a, **k: started.append(a))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for args in (["lab", "--dir", str(course), "--notebook", "start.ipynb"], ["app", str(course / "start.ipynb")]):
            with pytest.raises(SystemExit) as exit_:
                launcher.main([*args, "--port", str(port), "--no-browser"])
            assert exit_.value.code == 2
            err = capsys.readouterr().err
            assert f"port {port} on 127.0.0.1 is taken" in err and "--port " in err, err
    assert not started


def test_a_server_that_loses_the_port_race_does_not_move(tmp_path, course, monkeypatch, capsys):
    """The check passes, then someone takes the port: Jupyter must fail (port_retries=0), not serve elsewhere."""
    monkeypatch.setattr(launcher, "port_free", lambda port: True)
    for var, value in environment(tmp_path).items():
        monkeypatch.setenv(var, value)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = launcher.main(["lab", "--dir", str(course), "--notebook", "start.ipynb", "--port", str(port),
                              "--no-browser"])
    assert code != 0
    err = capsys.readouterr().err
    assert "stopped during its start" in err and "Nothing is left running" in err
    assert f":{port + 1}" not in err


def test_missing_jupyterlab_says_how_to_install_it(monkeypatch, capsys, course):
    monkeypatch.setitem(sys.modules, "jupyterlab", None)  # find_spec answers None, as when it is not installed
    with pytest.raises(SystemExit) as exit_:
        launcher.main(["lab", "--dir", str(course), "--notebook", "start.ipynb", "--no-browser"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "JupyterLab is not installed" in err and "pip install" in err and sys.executable in err


def test_missing_voila_says_how_to_install_it(monkeypatch, capsys, course):
    monkeypatch.setitem(sys.modules, "voila", None)
    with pytest.raises(SystemExit):
        launcher.main(["app", str(course / "start.ipynb"), "--no-browser"])
    assert "Voilà is not installed" in capsys.readouterr().err


@linux_proc
def test_unwritable_folders_are_named_with_the_fix(monkeypatch, capsys, course, tmp_path):
    # /proc/self takes no new files even for root (CI runs as root, where chmod would not stop a write)
    with pytest.raises(SystemExit):
        launcher.main(["lab", "--dir", "/proc/self", "--no-browser"])
    err = capsys.readouterr().err
    assert "cannot write in /proc/" in err and "--dir" in err
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", "/proc/self/attrkit-runtime")
    with pytest.raises(SystemExit):
        launcher.main(["lab", "--dir", str(course), "--notebook", "start.ipynb", "--no-browser"])
    assert "JUPYTER_RUNTIME_DIR" in capsys.readouterr().err


def test_a_missing_notebook_lists_what_is_there(capsys, course, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    with pytest.raises(SystemExit):
        launcher.main(["lab", "--dir", str(course), "--notebook", "nope.ipynb", "--no-browser"])
    err = capsys.readouterr().err
    assert "no notebook nope.ipynb" in err and "start.ipynb" in err


def test_a_browser_opens_only_where_a_desktop_exists(monkeypatch):
    for var in ("BROWSER", "SSH_CONNECTION", "SSH_TTY", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    for platform, display, expected in (("darwin", None, True), ("win32", None, True), ("linux", None, False),
                                        ("linux", ":0", True)):
        monkeypatch.setattr(sys, "platform", platform)
        if display:
            monkeypatch.setenv("DISPLAY", display)
        assert launcher.has_desktop() is expected, (platform, display)
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 22 10.0.0.2 22")
    assert launcher.has_desktop() is False


def test_the_browser_gets_a_redirect_file_not_the_token(monkeypatch):
    opened = []
    monkeypatch.setattr(launcher.webbrowser, "open", lambda url, new=0: opened.append(url))
    path = launcher.open_in_browser("http://127.0.0.1:1/?token=secret")
    try:
        assert opened == [path.as_uri()] and "secret" not in opened[0]
        assert "token=secret" in path.read_text()
        if os.name != "nt":
            assert path.stat().st_mode & 0o077 == 0  # readable by this user only
    finally:
        path.unlink()


def test_test_runs_the_readme_command(monkeypatch):
    """`python -m attrkit test` is the Makefile's `make test`: unit tests, then every notebook under nbval."""
    calls = []
    monkeypatch.setattr(launcher.subprocess, "call", lambda cmd, cwd, env: calls.append((cmd, cwd, env)) or 0)
    assert launcher.main(["test", "-x"]) == 0
    (cmd, cwd, env), (capped_cmd, _, capped_env) = calls
    make = (ROOT / "Makefile").read_text()
    nbval = re.search(r"^NBVAL\s*:=\s*(.+)$", make, re.M).group(1).split()
    assert cmd[:3] == [sys.executable, "-m", "pytest"] and cmd[3] == "tests" and cmd[-2:] == ["notebooks", "-x"]
    assert cmd[4:-2] == nbval
    assert Path(cwd) == ROOT and env["ATTRKIT_PROGRESS"] == "0"
    anycpu = dict(v.split("=") for v in re.search(r"^ANYCPU\s*:=\s*(.+)$", make, re.M).group(1).split())
    assert anycpu == launcher.ANYCPU and all(capped_env[k] == v for k, v in anycpu.items())
    assert capped_cmd[-2:] == ["notebooks", "-x"] and "tests" not in capped_cmd
