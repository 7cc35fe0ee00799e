"""Starting and stopping the servers the tests talk to (the apps, JupyterLab, `serve --workshop`), all on 127.0.0.1."""

import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc, log, what: str, timeout_s: float = 90) -> None:
    """Poll `url` until it answers; if the process ends or `timeout_s` passes, kill it and raise with its log."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=30).read()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                raise RuntimeError(f"{what} did not start: " + log.read_text(errors="replace")) from None
            time.sleep(0.5)


def stop(proc, grace_s: float = 15) -> None:
    """Ask a server started with start_new_session=True to stop, then kill whatever is left of its group."""
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
