"""The course without `make`: ``python -m attrkit lab``, ``python -m attrkit app NB``, ``python -m attrkit test``.

Works the same on Linux, macOS and Windows (standard library only). The servers listen on 127.0.0.1 with a token;
the token travels in the environment (``JUPYTER_TOKEN``), never on a command line, where ``ps`` would show it to
every user of a shared machine. Before starting, the launcher checks what would make the start fail (JupyterLab
missing, the folder not writable, the port taken) and says what to do; a port that is taken is an error, never a
silent move to another port, and the URL printed is the one the server answers on, token included.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]  # the repository, when the kit runs from a checkout
READY_S = 180  # a first JupyterLab start on a slow machine can take a minute or two


class Refused(Exception):
    """A start that cannot work; the message says what to do."""


def fail(message: str) -> None:
    print(f"attrkit: {message}", file=sys.stderr)
    raise SystemExit(2)


def need(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise Refused(f"{what} is not installed in this Python ({sys.executable}).\n  Install the course's "
                      f"working set:  {Path(sys.executable).name} -m pip install -c constraints.txt -e \".[lab]\"\n"
                      f"  (from the attrkit checkout), or just:  {Path(sys.executable).name} -m pip install {module}")


def writable(folder: Path, why: str, fix: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise Refused(f"cannot write in {folder} ({err.strerror or err}): {why}.\n  {fix}") from None


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if os.name != "nt":  # as the server binds: a closing connection (TIME_WAIT) does not hold the port
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_port(port: int, command: str) -> None:
    if not 0 < port < 65536:
        raise Refused(f"--port {port} is not a port number (1–65535).")
    if not port_free(port):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            spare = s.getsockname()[1]
        raise Refused(f"port {port} on 127.0.0.1 is taken (another Jupyter server? `jupyter server list` shows "
                      f"them).\n  Stop that server, or choose another port:  python -m attrkit {command} "
                      f"--port {spare}")


def has_desktop() -> bool:
    """Whether a browser window can open here. A Mac or Windows session has one unless reached over SSH;
    elsewhere (Linux, BSD) a graphical session sets DISPLAY or WAYLAND_DISPLAY."""
    if os.environ.get("BROWSER"):
        return True
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str) -> Path:
    """Open ``url`` through a private redirect file, as Jupyter does: the browser's command line shows the file's
    name, not the token."""
    fd, name = tempfile.mkstemp(prefix="attrkit-open-", suffix=".html")  # readable by this user only
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f'<!DOCTYPE html><meta http-equiv="refresh" content="0;url={url}"><a href="{url}">open</a>')
    webbrowser.open(Path(name).as_uri(), new=2)
    return Path(name)


def stop(proc: subprocess.Popen) -> None:
    """Stop the server and what it started (kernels): its process group on POSIX, its console group on Windows."""
    if proc.poll() is not None:
        return
    try:
        if os.name == "nt":
            proc.send_signal(signal.CTRL_BREAK_EVENT)
        else:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (subprocess.TimeoutExpired, OSError):
        if os.name == "nt":
            proc.kill()
        else:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        proc.wait(timeout=10)


def answers(url: str) -> bool:
    """Whether ``url`` (which needs the token) answers 200: the server is up, and it is ours."""
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def listens(port: int) -> bool:
    """Whether something accepts connections on the port: ours, since the port was free before the start and the
    server may not move (Voilà has no cheap page that checks the token without running the notebook)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def serve(cmd: list[str], token: str, ready, url: str, what: str, browser: bool) -> int:
    """Start the server, wait until ``ready()``, print ``url``; stop it on Ctrl-C, SIGTERM or a failed start."""
    env = dict(os.environ, JUPYTER_TOKEN=token)
    env.pop("JUPYTER_TOKEN_FILE", None)
    group = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt"
             else {"start_new_session": True})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the server
    proc = subprocess.Popen(cmd, env=env, **group)
    opened = None
    try:
        deadline = time.monotonic() + READY_S
        while not ready():
            if proc.poll() is not None:
                print(f"attrkit: {what} stopped during its start (exit code {proc.returncode}); its messages are "
                      f"above. Nothing is left running.", file=sys.stderr)
                return 1
            if time.monotonic() > deadline:
                print(f"attrkit: {what} did not answer within {READY_S} s; stopped it. Nothing is left running.",
                      file=sys.stderr)
                return 1
            time.sleep(0.3)
        print(f"\nattrkit: {what} is running. Open this link (it carries the token):\n\n    {url}\n\n"
              f"Stop it with Ctrl-C.\n", flush=True)
        if browser:
            opened = open_in_browser(url)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(proc)
        if opened:
            opened.unlink(missing_ok=True)


def course_folder(folder: str | None) -> Path:
    if folder:
        path = Path(folder).expanduser().resolve()
    else:
        here = Path.cwd() / "notebooks"
        path = here if (here / "00_start_here.ipynb").exists() else CHECKOUT / "notebooks"
    if not path.is_dir():
        raise Refused(f"no folder {path}: run this from the attrkit checkout, or pass --dir FOLDER with the "
                      f"notebooks.")
    return path


def runtime_check() -> None:
    from jupyter_core.paths import jupyter_runtime_dir

    writable(Path(jupyter_runtime_dir()), "Jupyter keeps its connection files there",
             "Point JUPYTER_RUNTIME_DIR at a folder you can write, e.g. a new folder under your temporary "
             f"folder ({tempfile.gettempdir()}), and start again.")


def lab(args) -> int:
    need("jupyterlab", "JupyterLab")
    runtime_check()
    folder = course_folder(args.dir)
    writable(folder, "notebooks could not be saved",
             f"Copy the notebooks to a folder of yours and start there:  python -m attrkit lab --dir COPY")
    if not (folder / args.notebook).is_file():
        have = ", ".join(sorted(p.name for p in folder.glob("*.ipynb"))) or "none"
        raise Refused(f"no notebook {args.notebook} in {folder} (notebooks there: {have}).")
    check_port(args.port, "lab")
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={args.port}",
           "--ServerApp.port_retries=0", f"--ServerApp.root_dir={folder}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers run as root; Jupyter refuses root without it
    base = f"http://127.0.0.1:{args.port}"
    nb = "/".join(Path(args.notebook).parts)
    return serve(cmd, token, lambda: answers(f"{base}/api/status?token={token}"), f"{base}/lab/tree/{nb}?token={token}",
                 "JupyterLab", browser=not args.no_browser and has_desktop())


def app(args) -> int:
    need("voila", "Voilà")
    runtime_check()
    path = Path(args.notebook).expanduser()
    if not path.is_file() and (course_folder(None) / args.notebook).is_file():
        path = course_folder(None) / args.notebook
    if not path.is_file():
        raise Refused(f"no notebook {args.notebook}: give its path, or a name from the course's notebooks folder.")
    check_port(args.port, f"app {args.notebook}")
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    # Voilà 0.5: `--Voila.auto_token=True` with no --Voila.token lets Jupyter's identity provider read JUPYTER_TOKEN
    cmd = [sys.executable, "-m", "voila", "--no-browser", "--Voila.ip=127.0.0.1", f"--port={args.port}",
           "--Voila.port_retries=0", "--Voila.auto_token=True", str(path.resolve())]
    base = f"http://127.0.0.1:{args.port}"
    return serve(cmd, token, lambda: listens(args.port), f"{base}/?token={token}", "Voilà",
                 browser=not args.no_browser and has_desktop())


ANYCPU = {"ATEN_CPU_CAPABILITY": "default", "DNNL_MAX_CPU_ISA": "SSE41"}  # the Makefile's ANYCPU


def run_tests(args) -> int:
    """The README's test command: every unit test and every notebook under nbval, then the notebooks again with
    torch's vector ISA capped (as ``make test``)."""
    root = Path.cwd() if (Path.cwd() / "tests").is_dir() and (Path.cwd() / "notebooks").is_dir() else CHECKOUT
    if not (root / "tests").is_dir() or not (root / "notebooks").is_dir():
        raise Refused("the tests live in the attrkit checkout (a pip-installed kit has none): run this from the "
                      "repository folder.")
    need("pytest", "pytest")
    need("nbval", "nbval")
    nbval = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(Path("notebooks", "nbval_sanitize.cfg"))]
    env = dict(os.environ, ATTRKIT_PROGRESS="0")
    code = subprocess.call([sys.executable, "-m", "pytest", "tests", *nbval, "notebooks", *args.pytest_args],
                           cwd=root, env=env)
    if code:
        return code
    # the notebooks again with the CPU's vector ISA capped: what nbval compares must not depend on the CPU
    capped = dict(env, **ANYCPU)
    return subprocess.call([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *nbval, "notebooks",
                            *args.pytest_args], cwd=root, env=capped)


def student(args) -> int:
    """The instructor pack's student release; its options (``--out``) go to the script."""
    script = CHECKOUT / "scripts" / "student_release.py"
    if not script.is_file():
        raise Refused("the student release is built from a checkout of the repository (scripts/ is not in the "
                      "wheel): run this from the repository folder.")
    return subprocess.call([sys.executable, str(script), *args.pytest_args])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attrkit", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lab", help="the course in JupyterLab (127.0.0.1, token on)")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--notebook", default="00_start_here.ipynb", help="the notebook to open (in --dir)")
    p.add_argument("--dir", help="the notebooks folder (default: the checkout's notebooks/)")
    p.add_argument("--no-browser", action="store_true", help="only print the link")
    p.set_defaults(run=lab)
    p = sub.add_parser("app", help="one notebook as a Voilà app (127.0.0.1, token on)")
    p.add_argument("notebook")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--no-browser", action="store_true", help="only print the link")
    p.set_defaults(run=app)
    p = sub.add_parser("test", help="every test and every notebook (pytest + nbval)")
    p.set_defaults(run=run_tests)
    p = sub.add_parser("student", help="the student release of the course (scripts/student_release.py)")
    p.set_defaults(run=student)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("test", "student"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra  # `python -m attrkit test -x -k ig`: the rest goes to pytest
    try:
        return args.run(args)
    except Refused as err:
        fail(str(err))


if __name__ == "__main__":
    sys.exit(main())
