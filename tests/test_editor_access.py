"""Who may save on a shared server: the password hash, its check, the workshop policy, sign-in and its rate limit."""

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from story_texts import story

from explorer import editor_access as access
from explorer.errors import ExplorerError

FAST = 1000  # iterations for tests; the format carries the count, so verify follows it


def test_a_hash_has_the_documented_format_and_a_fresh_salt_each_time():
    one, two = access.hash_password("open sesame"), access.hash_password("open sesame")
    assert re.fullmatch(r"pbkdf2_sha256\$600000\$[0-9a-f]{32}\$[0-9a-f]{64}", one)
    assert one != two  # the salt differs
    assert access.verify("open sesame", one) and access.verify("open sesame", two)
    assert not access.verify("open sesame ", one) and not access.verify("Open sesame", one)


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(max_size=40))
def test_verify_accepts_exactly_the_password(password, other):
    hashed = access.hash_password(password, iterations=FAST)
    assert access.verify(password, hashed)
    assert access.verify(other, hashed) == (other == password)


@pytest.mark.parametrize("hashed", ["", "plain", "pbkdf2_sha256$x$00$00", "md5$1000$00$00", "pbkdf2_sha256$1000$$00",
                                    "pbkdf2_sha256$1000$zz$00", "pbkdf2_sha256$0$00$00", "pbkdf2_sha256$1000$00"])
def test_a_malformed_hash_matches_nothing(hashed):
    assert not access.verify("anything", hashed) and not access.verify("", hashed)


def test_an_empty_password_cannot_be_hashed():
    with pytest.raises(ExplorerError, match="empty"):
        access.hash_password("")


def test_the_policy_comes_from_the_environment():
    assert not access.workshop_mode({}) and not access.workshop_mode({"EXPLORER_WORKSHOP": "0"})
    assert access.workshop_mode({"EXPLORER_WORKSHOP": "1"}) and access.workshop_mode({"EXPLORER_WORKSHOP": " true "})
    assert access.password_hash({}) is None and access.password_hash({"EXPLORER_EDITOR_PASSWORD_HASH": " h "}) == "h"
    assert access.save_refusal(None, {}) is None
    assert access.save_refusal(None, {"EXPLORER_WORKSHOP": "1"}) == "Sign in to save; reading is open to everyone."
    assert access.save_refusal("Ada", {"EXPLORER_WORKSHOP": "1"}) is None


def test_outside_workshop_mode_anyone_saves_as_the_os_user(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "laptop-owner")
    session = access.SignIn(environ={})
    assert session.can_save and session.author == "laptop-owner"


def test_a_bad_os_user_name_is_anonymous(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "bad\nname")
    assert access.default_author() == "anonymous"


def _workshop(password="room-42"):
    return {"EXPLORER_WORKSHOP": "1", "EXPLORER_EDITOR_PASSWORD_HASH": access.hash_password(password, iterations=FAST)}


def test_in_workshop_mode_saving_needs_signing_in_with_the_password():
    session = access.SignIn(environ=_workshop())
    assert not session.can_save and session.author is None
    with pytest.raises(ExplorerError, match="^wrong password: nothing was signed in$"):
        session.sign_in("Ada", "room-41")
    assert not session.can_save
    with pytest.raises(ExplorerError, match="name is empty"):
        session.sign_in("  ", "room-42")
    assert session.sign_in(" Ada Lovelace ", "room-42") == "Ada Lovelace"
    assert session.can_save and session.author == "Ada Lovelace" and session.how == "password"
    session.sign_out()
    assert not session.can_save


def test_an_oauth_user_is_signed_in_and_is_the_author():
    session = access.SignIn(oauth_user="ada@example.org", environ={"EXPLORER_WORKSHOP": "1"})
    assert session.can_save and session.author == "ada@example.org" and session.how == "oauth"
    session.sign_out()  # an OAuth sign-in is the server's, not the form's
    assert session.can_save


def test_without_a_password_hash_nobody_signs_in_with_a_password():
    session = access.SignIn(environ={"EXPLORER_WORKSHOP": "1"})
    assert not session.password_enabled
    with pytest.raises(ExplorerError, match="no editor password"):
        session.sign_in("Ada", "anything")


def test_sign_in_attempts_are_rate_limited_per_session():
    now = [1000.0]
    env = _workshop()
    session = access.SignIn(environ=env, clock=lambda: now[0])
    for _ in range(access.ATTEMPTS):
        with pytest.raises(ExplorerError, match="wrong password"):
            session.sign_in("Mallory", "guess")
    with pytest.raises(ExplorerError, match=r"too many sign-in attempts: wait 60 s"):
        session.sign_in("Ada", "room-42")  # even the right password waits: nothing is tried
    assert not session.can_save
    other = access.SignIn(environ=env, clock=lambda: now[0])  # another session is not held up
    assert other.sign_in("Ada", "room-42") == "Ada"
    now[0] += access.WINDOW
    assert session.sign_in("Ada", "room-42") == "Ada"


def test_the_password_file_sets_the_servers_hash(tmp_path):
    path = tmp_path / "password.txt"
    path.write_text("correct horse\nsecond line is ignored\n")
    env = {}
    access.use_password_file(path, env)
    assert access.verify("correct horse", env["EXPLORER_EDITOR_PASSWORD_HASH"])
    access.use_password_file(None, env)  # no flag: nothing changes


@pytest.mark.parametrize("text", [None, "", "\n", "   \nsecond"])
def test_a_missing_or_empty_password_file_is_refused_naming_the_flag(tmp_path, text):
    path = tmp_path / "password.txt"
    if text is not None:
        path.write_text(text)
    env = {}
    with pytest.raises(ExplorerError, match=r"^--editor-password-file .*password.txt: "):
        access.use_password_file(path, env)
    assert env == {}


def test_no_ui_imports_in_the_core_module():
    source = Path(access.__file__).read_text()
    assert not re.search(r"^\s*(import|from)\s+(panel|bokeh|holoviews)", source, re.MULTILINE)


def test_serve_puts_the_password_files_hash_in_the_servers_environment(tmp_path, monkeypatch):
    from explorer.cli import build_parser, main, serve

    monkeypatch.setenv(access.ENV_PASSWORD_HASH, "")  # undone after the test, whatever serve sets
    started = []
    monkeypatch.setattr(serve, "run_forwarding_signals",
                        lambda cmd, env=None: started.append(dict(env or os.environ)) or 0)
    path = tmp_path / "pw"
    path.write_text("workshop password\n")
    args = build_parser().parse_args(["serve", "--port", "0", "--editor-password-file", str(path)])
    assert serve.cmd_serve(args) == 0
    assert access.verify("workshop password", started[0][access.ENV_PASSWORD_HASH])
    monkeypatch.setenv(access.ENV_PASSWORD_HASH, "")
    assert main(["serve", "--port", "0", "--editor-password-file", str(tmp_path / "missing")]) == 2
    assert len(started) == 1 and os.environ[access.ENV_PASSWORD_HASH] == ""  # refused before anything was set
    assert not access.workshop_mode(started[0])  # outside a workshop anyone saves


def test_a_workshop_server_asks_its_apps_for_signed_in_saving_and_says_who_may_save(tmp_path, monkeypatch, capsys):
    from explorer.cli import build_parser, serve

    monkeypatch.delenv(access.ENV_WORKSHOP, raising=False)
    monkeypatch.setenv(access.ENV_PASSWORD_HASH, "")
    started = []
    monkeypatch.setattr(serve, "run_forwarding_signals", lambda cmd, env=None: started.append(dict(env or os.environ)) or 0)
    assert serve.cmd_serve(build_parser().parse_args(["serve", "--port", "0", "--workshop"])) == 0
    assert access.workshop_mode(started[0]) and access.ENV_WORKSHOP not in os.environ  # the apps', not ours
    assert "Saving stories: nobody (reading only" in capsys.readouterr().out
    path = tmp_path / "pw"
    path.write_text("room password\n")
    assert serve.cmd_serve(build_parser().parse_args(["serve", "--port", "0", "--workshop",
                                                      "--editor-password-file", str(path)])) == 0
    assert "Saving stories: signed-in people: the shared password" in capsys.readouterr().out
    assert access.verify("room password", started[1][access.ENV_PASSWORD_HASH])


def test_the_cli_saves_into_the_library_with_an_author_and_lists_the_history(tmp_path, monkeypatch, capsys):
    from explorer.cli import main
    from explorer.stories.library import StoryLibrary

    monkeypatch.setattr("getpass.getuser", lambda: "host")
    file = tmp_path / "draft.story.md"
    file.write_text(story("A draft", "First."))
    lib = tmp_path / "lib"
    assert main(["story", "save", str(file), "room", "--library", str(lib)]) == 0
    file.write_text(story("A draft", "Second."))  # still revision 1: it was made from revision 1
    assert main(["story", "save", str(file), "room", "--library", str(lib), "--author", "Ada"]) == 0
    assert main(["story", "save", str(file), "room", "--library", str(lib)]) == 2  # the library moved on: a conflict
    assert main(["story", "save", str(file), "room", "--library", str(lib), "--author", " "]) == 2
    capsys.readouterr()
    assert main(["story", "history", "room", "--library", str(lib)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("revision 2 (current): saved by Ada, ") and out[1].startswith("revision 1: saved by host, ")
    assert StoryLibrary(lib).saved_by("room").author == "Ada"
