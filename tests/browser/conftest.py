"""Browser tests: the apps served by `python -m explorer serve`, driven in Debian's chromium."""

import os
import subprocess
import sys

import pytest
from local_servers import free_port, stop, wait_until_up

from explorer.bench_browser import CHROMIUM_ARGS

CHROMIUM = os.environ.get("EXPLORER_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(items):
    # This hook sees every test of the session, not only this folder's: skip only the browser tests.
    # On CI a missing chromium is a broken set-up (make test installs it): let the tests fail there.
    if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (make test installs Debian's chromium)")
        here = os.path.dirname(__file__)
        for item in items:
            if str(item.path).startswith(here):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _serve(log, **extra_env):
    """Serve the apps the way the README does, log to a file (a pipe nobody reads could block a chatty
    server), yield the base URL, and stop the server and its panel child afterwards."""
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EXPLORER_WEBGL": "0", **extra_env}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "explorer", "serve", "--port", str(port), "--address", "127.0.0.1"],
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/", proc, log, "the apps")
    yield base
    stop(proc)  # the wrapper passes it on to panel; then whatever is left of the session


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of the apps, served the way the README serves them."""
    yield from _serve(tmp_path_factory.mktemp("server") / "serve.log")


@pytest.fixture(scope="session")
def story_library(tmp_path_factory):
    """An empty story library folder for story_server; each test writes the stories it needs."""
    return tmp_path_factory.mktemp("story-library")


@pytest.fixture(scope="session")
def story_server(story_library, tmp_path_factory):
    """Base URL of the apps served with EXPLORER_STORY_LIBRARY pointing at `story_library`."""
    yield from _serve(tmp_path_factory.mktemp("story-server") / "serve.log", EXPLORER_STORY_LIBRARY=str(story_library))


@pytest.fixture(scope="session")
def workshop_library(tmp_path_factory):
    """An empty story library folder for workshop_server."""
    return tmp_path_factory.mktemp("workshop-library")


WORKSHOP_PASSWORD = "room-42 for the workshop"


@pytest.fixture(scope="session")
def workshop_server(workshop_library, tmp_path_factory):
    """The apps in workshop mode (saving needs signing in) with the editor password WORKSHOP_PASSWORD, set the
    way a host sets it: `serve --editor-password-file` puts its hash in the environment; here it is given."""
    from explorer.editor_access import hash_password

    yield from _serve(tmp_path_factory.mktemp("workshop-server") / "serve.log", EXPLORER_STORY_LIBRARY=str(workshop_library),
                      EXPLORER_WORKSHOP="1", EXPLORER_EDITOR_PASSWORD_HASH=hash_password(WORKSHOP_PASSWORD))
