"""A workshop server (`python -m explorer serve --workshop`) as the room sees it: a full room gives the next
visitor a readable page and lets them in once a place frees up; a tab left idle is told why it was closed;
the teacher's /admin page loads nothing from outside."""

import os
import re
import subprocess
import sys

import pytest
from local_servers import free_port, stop, wait_until_up
from playwright.sync_api import expect
from test_offline import assert_offline, offline

TIMEOUT = 60_000
IDLE_MINUTES = 0.25  # 15 s (the first tab must stay open through the full-room check); the server looks every 7.5 s


@pytest.fixture(scope="module")
def workshop(tmp_path_factory):
    """A workshop server for one participant at a time, closing tabs idle for IDLE_MINUTES."""
    port = free_port()
    log = tmp_path_factory.mktemp("workshop") / "serve.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EXPLORER_WEBGL": "0"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "explorer", "serve", "--workshop", "--port", str(port),
                                 "--max-sessions", "1", "--idle-minutes", str(IDLE_MINUTES)],
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/", proc, log, "the workshop server")
    yield base
    stop(proc)


def annealing_is_up(page):
    expect(page.get_by_text(re.compile(r"Step \d+ of \d+")).first).to_be_visible(timeout=TIMEOUT)


def test_a_full_room_says_so_and_lets_the_next_visitor_in_when_a_place_frees(browser, workshop):
    first, second = browser.new_context(), browser.new_context()
    try:
        a = first.new_page()
        a.goto(workshop + "/annealing")
        annealing_is_up(a)

        b = second.new_page()
        outside = offline(b, workshop.split("//")[1])
        response = b.goto(workshop + "/annealing")
        assert response.status == 503
        expect(b.get_by_role("heading", name="The room is full")).to_be_visible()
        expect(b.get_by_text(re.compile("Please try again in a minute"))).to_be_visible()
        assert_offline(b, workshop.split("//")[1], outside)

        a.close()  # the first participant leaves
        b.wait_for_timeout(1000)
        b.get_by_role("link", name="Try again").click()
        annealing_is_up(b)

        # Left alone, the tab is closed and says so (the browser sends nothing while nobody touches it).
        notice = b.locator(".notyf__message", has_text=re.compile(r"closed after .* idle\. Reload the page to continue"))
        expect(notice).to_be_visible(timeout=TIMEOUT)
        b.reload()  # and a reload gets a fresh page: the idle tab no longer holds the room's place
        annealing_is_up(b)
    finally:
        first.close()
        second.close()


def test_the_teachers_admin_page_asks_nothing_of_any_other_host(page, workshop):
    host = workshop.split("//")[1]
    outside = offline(page, host)
    page.goto(workshop + "/admin")
    expect(page.get_by_text("Admin Panel").first).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(2000)  # the admin page's tabs and plots load their resources
    assert_offline(page, host, outside)
