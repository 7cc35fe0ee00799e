"""`python -m explorer serve`: the panel command line it builds (this machine only by default, a workshop on
every interface with its origins, cap and idle time), its messages for bad flags, and a workshop server
that accepts the pages it advertised and turns away a visitor when the room is full."""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from local_servers import stop

from explorer.cli import build_parser, serve
from explorer.errors import ExplorerError


def explorer(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def values(cmd, flag):
    return [cmd[i + 1] for i, word in enumerate(cmd) if word == flag]


# ---- the command line ---------------------------------------------------------------------------------

def test_by_default_only_this_machine_is_served_and_nothing_of_a_workshop_is_on():
    cmd = serve.serve_command(5006)
    assert values(cmd, "--address") == ["127.0.0.1"] and not any(w.startswith("--setup") for w in cmd)
    for flag in ("--allow-websocket-origin", "--admin", "--max-sessions", "--idle-minutes", "--num-procs"):
        assert flag not in cmd
    assert values(serve.serve_command(5006, address="0.0.0.0"), "--address") == ["0.0.0.0"]  # asked for: kept


def test_a_workshop_listens_everywhere_and_accepts_pages_from_its_address_localhost_and_those_given():
    cmd = serve.serve_command(8080, workshop=True, host="10.0.0.7", origins=["Teacher.local", "10.0.0.8:9000"])
    assert values(cmd, "--address") == ["0.0.0.0"]
    assert values(cmd, "--allow-websocket-origin") == ["10.0.0.7:8080", "localhost:8080", "127.0.0.1:8080",
                                                       "teacher.local:8080", "10.0.0.8:9000"]
    assert "--admin" in cmd
    assert values(cmd, "--max-sessions") == [str(serve.WORKSHOP_MAX_SESSIONS)]
    assert values(cmd, "--idle-minutes") == [f"{serve.WORKSHOP_IDLE_MINUTES:g}"]
    assert values(cmd, "--unused-session-lifetime") and values(cmd, "--check-unused-sessions")
    apps = len(list(serve.APPS_DIR.glob("*.py")))
    assert all(w.endswith(".py") for w in cmd[-apps:])
    assert not any(w.endswith(".py") and not w.startswith("--") for w in cmd[:-apps])  # --setup=FILE.py is one word


def test_warming_up_runs_panels_setup_script_in_the_server_and_a_workshop_warms_up():
    assert f"--setup={serve.WARM_SETUP}" in serve.serve_command(5006, warm=True)
    assert f"--setup={serve.WARM_SETUP}" in serve.serve_command(5006, workshop=True, host="10.0.0.7")
    assert serve.WARM_SETUP.is_file()


def test_workshop_settings_can_be_changed_or_turned_off():
    cmd = serve.serve_command(8080, workshop=True, host="10.0.0.7", idle_minutes=0, max_sessions=0)
    assert "--idle-minutes" not in cmd and "--max-sessions" not in cmd and "--unused-session-lifetime" not in cmd
    cmd = serve.serve_command(8080, workshop=True, host="10.0.0.7", idle_minutes=5, max_sessions=12, num_procs=4)
    assert values(cmd, "--idle-minutes") == ["5"] and values(cmd, "--num-procs") == ["4"]
    assert values(cmd, "--max-sessions") == ["3"]  # each process counts its own: 12 over 4
    assert values(serve.serve_command(8080, workshop=True, host="h", max_sessions=5, num_procs=2),
                  "--max-sessions") == ["3"]  # rounded up: never fewer than asked for
    cmd = serve.serve_command(8080, workshop=True, host="h", max_sessions=12, num_procs=4, room_dir="/tmp/room")
    assert values(cmd, "--max-sessions") == ["12"] and values(cmd, "--room-dir") == ["/tmp/room"]  # counted together


def test_an_allowed_origin_outside_a_workshop_keeps_localhost():
    cmd = serve.serve_command(5006, origins=["lab-pc"])
    assert values(cmd, "--allow-websocket-origin") == ["localhost:5006", "lab-pc:5006"]


@pytest.mark.parametrize("bad", ["http://host:5006", "host:0", "host:70000", "host:", "", "a b", "-host", "*"])
def test_a_bad_origin_is_named_with_its_flag(bad):
    with pytest.raises(ExplorerError, match="--allow-origin"):
        serve.serve_command(5006, origins=[bad])


@pytest.mark.parametrize(("kwargs", "flag"), [({"num_procs": 0}, "--num-procs"), ({"idle_minutes": -1}, "--idle-minutes"),
                                              ({"idle_minutes": float("nan")}, "--idle-minutes"),
                                              ({"max_sessions": -2}, "--max-sessions")])
def test_bad_numbers_are_named_with_their_flag(kwargs, flag):
    with pytest.raises(ExplorerError, match=flag):
        serve.serve_command(5006, **kwargs)


def test_the_cli_says_what_is_wrong_in_one_line():
    run = explorer("serve", "--allow-origin", "http://lab:5006")
    assert run.returncode == 2 and "--allow-origin" in run.stderr and "Traceback" not in run.stderr
    run = explorer("serve", "--num-procs", "0")
    assert run.returncode == 2 and "--num-procs" in run.stderr and "Traceback" not in run.stderr


def test_oauth_options_and_extra_arguments_reach_panel(monkeypatch):
    seen = {}
    monkeypatch.setattr(serve, "run_forwarding_signals", lambda cmd, env=None: seen.update(cmd=cmd, env=env) or 0)
    args = build_parser().parse_args(["serve", "--oauth-provider", "github", "--oauth-key", "K", "--oauth-secret", "S",
                                      "--cookie-secret", "C", "--panel-arg=--oauth-expiry-days=2"])
    assert serve.cmd_serve(args) == 0
    cmd = seen["cmd"]
    for word in ("--oauth-provider=github", "--oauth-key=K", "--oauth-secret=S", "--cookie-secret=C",
                 "--oauth-expiry-days=2"):
        assert word in cmd
    assert seen["env"] is None  # one process: no shared job-slot folder


def test_several_processes_share_one_job_slot_folder_removed_afterwards(monkeypatch):
    seen = {}

    def run(cmd, env=None):
        seen.update(cmd=cmd, folder=env["EXPLORER_JOB_SLOTS_DIR"])
        assert os.path.isdir(env["EXPLORER_JOB_SLOTS_DIR"]) and os.path.isdir(values(cmd, "--room-dir")[0])
        return 0

    monkeypatch.setattr(serve, "run_forwarding_signals", run)
    assert serve.cmd_serve(build_parser().parse_args(["serve", "--workshop", "--num-procs", "2"])) == 0
    assert values(seen["cmd"], "--num-procs") == ["2"] and not os.path.exists(seen["folder"])
    assert values(seen["cmd"], "--max-sessions") == [str(serve.WORKSHOP_MAX_SESSIONS)]


def test_the_processes_of_one_server_count_their_sessions_together_each_once(tmp_path):
    from explorer.ui.panel_serve import CONNECTED, DONE, PENDING, SHARE_STALE_S, live, room_states_shared, share_states

    # a: here; b: its page went to process 1, its websocket came here; c: its tab left (process 1 saw it
    # connected), but here its page never connected; d: in process 1 only; e: in a process that is gone.
    mine = {"a": (CONNECTED, "seat-1"), "b": (CONNECTED, ""), "c": (PENDING, "seat-3")}
    share_states(str(tmp_path), mine)  # this process's own file is not read back as another's
    (tmp_path / "live-1").write_text(f"b\t{PENDING}\tseat-2\nc\t{DONE}\t\nd\t{PENDING}\tseat-4\n")
    (tmp_path / "live-2").write_text(f"e\t{CONNECTED}\tseat-5\n")
    old = time.time() - SHARE_STALE_S - 1
    os.utime(tmp_path / "live-2", (old, old))
    assert live(room_states_shared(str(tmp_path), mine)) == {"a": "seat-1", "b": "seat-2", "d": "seat-4"}


def test_the_lan_address_is_found_without_the_network_or_falls_back_to_this_machine():
    address = serve.lan_address()
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", address) and not address.startswith("0.")


# ---- a served workshop --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workshop(tmp_path_factory):
    """A workshop server for one participant (--max-sessions 1), also accepting pages from participant.example."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("workshop") / "serve.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EXPLORER_WEBGL": "0"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "explorer", "serve", "--workshop", "--port", str(port),
                                 "--max-sessions", "1", "--allow-origin", "participant.example"],
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while get(base + "/")[0] != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise RuntimeError("the workshop server did not start: " + log.read_text(errors="replace"))
        time.sleep(0.5)
    banner = log.read_text()
    advertised = re.search(r"Participants open:\s+http://([^/\s]+)/", banner).group(1)
    yield {"base": base, "port": port, "advertised": advertised, "log": log}
    stop(proc)


def get(url):
    """(status, body) of a GET, errors included (0: no server answered)."""
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def token_of(page: str) -> str:
    return re.search(r'"token":\s*"([^"]+)"', page).group(1)


async def connect(base, token, origin):
    """A websocket to /claims/ws as a browser opens it (the page's token, the page's origin), or the HTTP
    status the handshake was refused with."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    request = HTTPRequest(base.replace("http", "ws") + "/claims/ws", headers={"Origin": origin})
    try:
        return await websocket_connect(request, subprotocols=["bokeh", token])
    except HTTPClientError as e:
        return e.code


async def first_message(ws):
    header = await asyncio.wait_for(ws.read_message(), 30)
    return header


def test_a_workshop_accepts_the_pages_it_advertised_and_turns_away_a_visitor_when_full(workshop):
    base, port = workshop["base"], workshop["port"]

    async def scenario():
        status, page = get(base + "/claims")
        assert status == 200
        token = token_of(page)
        assert await connect(base, token, f"http://elsewhere.example:{port}") == 403  # not advertised: refused
        ws = await connect(base, token, f"http://{workshop['advertised']}")  # the address it printed
        assert not isinstance(ws, int), ws
        assert '"ACK"' in await first_message(ws)

        status, page = get(base + "/claims")  # a second visitor while the first is connected
        assert status == 503 and "The room is full" in page and "<script" not in page and "http" not in page

        ws.close()
        deadline = time.monotonic() + 20
        while (status := get(base + "/claims"))[0] != 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)  # the server notices the closed connection
        status, page = status
        assert status == 200, "after the first visitor left, the next did not get the app"
        ws = await connect(base, token_of(page), f"http://participant.example:{port}")  # given with --allow-origin
        assert not isinstance(ws, int), ws
        assert '"ACK"' in await first_message(ws)
        ws.close()

    with ThreadPoolExecutor(1) as pool:  # a loop of its own (playwright's sync API keeps one running here)
        pool.submit(asyncio.run, scenario()).result()


def test_a_workshop_server_warms_up_the_presets_beside_the_room(workshop):
    """--workshop implies --warm: the server answered before the warm-up ended, which then says it is done."""
    from explorer.ui.warm_setup import DONE

    def finished():  # the warm-up's own line (the banner names DONE too, inside its quotes)
        return [ln for ln in workshop["log"].read_text(errors="replace").splitlines() if ln.startswith(DONE + " in ")]

    deadline = time.monotonic() + 240  # a busy 2-core machine: the presets and an enumeration at length 5
    while not finished():
        assert time.monotonic() < deadline, workshop["log"].read_text(errors="replace")[-3000:]
        time.sleep(1)
    log = workshop["log"].read_text(errors="replace")
    assert "Presets: computed at start" in log and "warm-up: /programs default ..." in log
    assert re.search(r" s: \d+ computed", finished()[0]) and "failed" not in finished()[0], finished()[0]


@pytest.mark.parametrize("var,value", [("EXPLORER_JOB_SLOTS", "two"), ("EXPLORER_JOB_SLOTS", "0"),
                                       ("EXPLORER_KEEP_FREED_MB", "-5"), ("EXPLORER_SHARED_MB", "lots"),
                                       ("EXPLORER_MAX_PROGRAMS", "1e5"), ("EXPLORER_SHARED_MB", "nan")])
def test_a_bad_setting_in_the_environment_stops_serve_with_its_name(monkeypatch, capsys, var, value):
    from explorer.cli import main

    started = []
    monkeypatch.setattr(serve, "run_forwarding_signals", lambda cmd, env=None: started.append(cmd) or 0)
    monkeypatch.setenv(var, value)
    assert main(["serve", "--port", "0"]) == 2 and not started
    assert f"error: {var}: {value!r} is not" in capsys.readouterr().err
    monkeypatch.setenv(var, "3")
    assert main(["serve", "--port", "0"]) == 0 and started  # a good value starts it
