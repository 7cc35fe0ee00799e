"""apps/tour.ipynb in a real JupyterLab, as a workshop participant opens it on a laptop with no network:
every cell runs, the dashboard at the end is drawn, and it answers a slider through the kernel.

JupyterLab runs from this virtualenv on a free local port, with a token, its root a temporary folder
holding a copy of the notebook, and every folder it would write (settings, workspaces, runtime, data) in
that temporary folder too. The kernel is this virtualenv's python: a `python3` kernelspec written into
the temporary folder and put first on JUPYTER_PATH. The browser may ask nothing of any other host.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from local_servers import free_port, wait_until_up
from playwright.sync_api import expect

from explorer.priors import PRIORS

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "apps" / "tour.ipynb"
TIMEOUT = 60_000
RUN_TIMEOUT = 240_000  # every cell of the notebook; about 15 s on a quiet machine

pytestmark = pytest.mark.slow


@pytest.fixture
def jupyterlab(tmp_path):
    """(base URL, token, root folder) of a JupyterLab serving a copy of the tour notebook; stopped afterwards."""
    home = tmp_path / "jupyter"
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    kernel = home / "share" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (explorer)", "language": "python"}))
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "JUPYTER_PATH": str(home / "share"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "IPYTHONDIR": str(home / "ipython")}
    env.pop("JUPYTER_CONFIG_PATH", None)
    port, token = free_port(), "explorer-test-token"
    log = tmp_path / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}",
           # nothing from the network on the server's side either: no news, no update check, no extension index
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/api/status?token={token}", proc, log, "JupyterLab")
    yield base, token, root
    try:  # JupyterLab's own shutdown: its kernels first, then the server
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST"), timeout=10)
        proc.wait(timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left, kernels included
    except ProcessLookupError:
        pass


def _api(base, token, path):
    with urllib.request.urlopen(f"{base}{path}?token={token}", timeout=30) as reply:
        return json.load(reply)


def test_the_tour_notebook_runs_in_jupyterlab_offline_and_its_dashboard_answers_a_slider(page, jupyterlab):
    base, token, _root = jupyterlab
    host = urlsplit(base).netloc
    outside = []

    def route(r):
        parts = urlsplit(r.request.url)
        if parts.scheme in ("data", "blob") or parts.netloc == host:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    page.on("websocket", lambda ws: None if urlsplit(ws.url).netloc == host else outside.append(ws.url))
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")

    # The kernel is this virtualenv's python.
    notebook = page.locator(".jp-NotebookPanel")
    expect(page.get_by_text("Python 3 (explorer)").first).to_be_visible(timeout=TIMEOUT)  # our kernelspec's name
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1, timeout=TIMEOUT)
    sessions = _api(base, token, "/api/sessions")
    assert [s["kernel"]["name"] for s in sessions] == ["python3"]
    spec = _api(base, token, "/api/kernelspecs")["kernelspecs"]["python3"]["spec"]
    assert spec["argv"][0] == sys.executable

    # Run > Run All Cells, and wait for the last cell to have run.
    prompts = notebook.locator(".jp-CodeCell .jp-InputArea-prompt")
    expect(prompts.last).not_to_have_text(re.compile(r"\d"))  # saved without outputs: nothing has run yet
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
    expect(prompts.last).to_have_text(re.compile(r"\[\d+\]"), timeout=RUN_TIMEOUT)
    expect(notebook.locator(".jp-CodeCell .jp-InputArea-prompt", has_text="[*]")).to_have_count(0, timeout=RUN_TIMEOUT)
    assert "Traceback" not in " ".join(notebook.locator(".jp-OutputArea-output").all_inner_texts())

    # The dashboard is drawn: the priors' table, one row per prior.
    rows = notebook.locator(".tabulator-row")
    try:
        rows.first.wait_for(timeout=TIMEOUT)
    except Exception as exc:  # a blank cell: say what the page tried to fetch
        raise AssertionError(f"the dashboard was not drawn; requests to other hosts: {sorted(set(outside))}") from exc
    assert [r.split("\n")[0] for r in rows.all_inner_texts()] == list(PRIORS)
    before = rows.nth(1).inner_text()

    # ... and answers a slider: the max-compute weight, moved with the keyboard, changes the max_speed row.
    title = notebook.locator(".bk-slider-title", has_text="Max-compute weight")
    handle = notebook.locator(".bk-input-group", has=page.locator(".bk-slider-title", has_text="Max-compute weight"))
    handle = handle.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("End")
    expect(title).to_contain_text("10", timeout=TIMEOUT)
    expect(rows.nth(1)).not_to_have_text(before, timeout=TIMEOUT)  # recomputed in the kernel, sent back

    page.wait_for_timeout(300)
    assert outside == [], f"requests to other hosts: {sorted(set(outside))}"
