"""The story library: names, opening, revision-checked atomic saving with history, and bad names."""

import multiprocessing
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.errors import ExplorerError
from explorer.stories import fileformat
from explorer.stories.library import ENV_VAR, StoryConflictError, StoryLibrary, check_name, default_folder
from explorer.stories.messages import StoryFormatError

STORY = """\
---
schema: 1
title: A small story
revision: 1
goal_class: myopic-agent
components:
  goal_specification:
    claims:
      - id: GS1
        text: The model answers each question on its own.  # a comment kept across saves
  goal_desirability:
    undeveloped: true
  rationale_constraints:
    undeveloped: true
  rationale_nudges:
    undeveloped: true
criteria:
  goal_alignment: {rating: unknown, basis: [GS1]}
  goal_competitiveness: {rating: unknown, basis: [GS1]}
  rationale_alignment: {rating: unknown, basis: [GS1]}
  rationale_competitiveness: {rating: unknown, basis: [GS1]}
---
# Why

Some narrative.
"""


@pytest.fixture
def lib(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "small.story.md").write_text(STORY)
    (tmp_path / "scenarios" / "goof-off.story.md").write_text(STORY.replace("A small story", "Goof-off"))
    (tmp_path / "notes.md").write_text("not a story")
    return StoryLibrary(tmp_path)


def test_names_list_every_story_with_subfolders_sorted(lib, tmp_path):
    assert lib.names() == ["scenarios/goof-off", "small"]
    lib.save(lib.open("small"), "small", 1)  # makes .history/, whose files are not stories
    assert lib.names() == ["scenarios/goof-off", "small"]
    assert StoryLibrary(tmp_path / "missing").names() == []


def test_open_reads_a_story_and_names_a_missing_one(lib):
    story = lib.open("scenarios/goof-off")
    assert story.title == "Goof-off" and story.revision == 1
    assert lib.open("small.story.md").title == "A small story"  # the suffix may be given
    with pytest.raises(ExplorerError, match=r"no story named 'nope'.*stories: scenarios/goof-off, small"):
        lib.open("nope")


def test_a_malformed_story_is_a_located_error(lib, tmp_path):
    (tmp_path / "broken.story.md").write_text(STORY.replace("revision: 1", "revision: [1"))
    with pytest.raises(StoryFormatError) as info:
        lib.open("broken")
    assert str(info.value.messages[0]).startswith("broken.story.md:")
    assert "TS-F03" in str(info.value) and info.value.messages[0].line >= 4


def test_save_bumps_the_revision_and_keeps_the_previous_text(lib, tmp_path):
    before = (tmp_path / "small.story.md").read_bytes()
    story = lib.open("small")
    story.components["goal_specification"].claims[0].text = "Edited claim."
    saved = lib.save(story, "small", expected_revision=1)
    assert saved.revision == 2 and story.revision == 1  # the caller's story is left as it was
    text = (tmp_path / "small.story.md").read_text()
    assert "revision: 2" in text and "Edited claim." in text
    assert "# a comment kept across saves" in text  # the file's comments and layout survive the edit
    assert "  goal_alignment: {rating: unknown, basis: [GS1]}" in text
    assert [(r.revision, r.path.read_bytes()) for r in lib.history("small")] == [(1, before)]
    assert lib.open_revision("small", 1).components["goal_specification"].claims[0].text.startswith("The model")
    saved.title = "Third"
    lib.save(saved, "small", 2)
    assert [r.revision for r in lib.history("small")] == [1, 2]
    with pytest.raises(ExplorerError, match="kept revisions: 1, 2"):
        lib.open_revision("small", 7)


def test_an_unchanged_story_saves_to_the_same_bytes_but_the_revision(lib, tmp_path):
    before = (tmp_path / "small.story.md").read_text()
    lib.save(lib.open("small"), "small", 1)
    assert (tmp_path / "small.story.md").read_text() == before.replace("revision: 1", "revision: 2")


def test_a_second_session_saving_an_old_revision_is_refused_and_changes_nothing(lib, tmp_path):
    first, second = lib.open("small"), lib.open("small")
    first.title = "First session's title"
    second.title = "Second session's title"
    lib.save(first, "small", 1)
    on_disk = (tmp_path / "small.story.md").read_bytes()
    with pytest.raises(StoryConflictError) as info:
        lib.save(second, "small", 1)
    message = str(info.value)
    assert "saved by someone else" in message and "revision 1" in message and "revision 2" in message
    assert "Save as" in message and "Nothing was written" in message
    assert (tmp_path / "small.story.md").read_bytes() == on_disk
    assert second.title == "Second session's title"  # the edits are still the caller's
    assert lib.save_as(second, "small-mine").title == "Second session's title"


def test_a_deleted_or_broken_file_is_a_conflict_too(lib, tmp_path):
    story = lib.open("small")
    (tmp_path / "small.story.md").write_text("---\nnot: [closed\n---\n")
    with pytest.raises(StoryConflictError, match="no longer loads"):
        lib.save(story, "small", 1)
    assert (tmp_path / "small.story.md").read_text() == "---\nnot: [closed\n---\n"
    (tmp_path / "small.story.md").unlink()
    with pytest.raises(StoryConflictError, match="deleted or moved"):
        lib.save(story, "small", 1)
    assert not (tmp_path / "small.story.md").exists()


def test_concurrent_saves_from_threads_let_exactly_one_win(lib, tmp_path):
    n = 8
    stories = [lib.open("small") for _ in range(n)]
    barrier = threading.Barrier(n)
    outcome: list[str] = [""] * n

    def save(i):
        stories[i].title = f"Session {i}"
        barrier.wait()
        try:
            lib.save(stories[i], "small", 1)
            outcome[i] = "saved"
        except StoryConflictError:
            outcome[i] = "conflict"

    threads = [threading.Thread(target=save, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcome.count("saved") == 1 and outcome.count("conflict") == n - 1
    winner = outcome.index("saved")
    final = lib.open("small")
    assert final.revision == 2 and final.title == f"Session {winner}"
    assert [r.revision for r in lib.history("small")] == [1]
    assert not list(tmp_path.rglob("*.tmp"))


def _save_in_process(folder, title, barrier, results):
    lib = StoryLibrary(folder)
    story = lib.open("small")
    story.title = title
    barrier.wait()
    try:
        lib.save(story, "small", 1)
        results.put("saved")
    except StoryConflictError:
        results.put("conflict")


def test_concurrent_saves_from_processes_let_exactly_one_win(lib, tmp_path):
    ctx = multiprocessing.get_context("fork")  # the lock file must order processes, not only threads
    barrier, results = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_save_in_process, args=(tmp_path, f"Process {i}", barrier, results)) for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert outcomes == ["conflict", "conflict", "saved"]
    assert lib.open("small").revision == 2


@pytest.mark.parametrize("bad", ["../outside", "/etc/passwd", "a/../../b", "with space", "dots.in.name", "", "a//b",
                                 "trailing/", "x" * 201, "back\\slash", "nul\x00"])
def test_bad_names_are_refused_naming_them(lib, tmp_path, bad):
    with pytest.raises(ExplorerError, match="is not a valid story name"):
        check_name(bad)
    with pytest.raises(ExplorerError, match="is not a valid story name"):
        lib.open(bad)
    with pytest.raises(ExplorerError, match="is not a valid story name"):
        lib.save_as(lib.open("small"), bad)
    assert not (tmp_path.parent / "outside.story.md").exists()


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=40))
def test_an_accepted_name_always_stays_inside_the_library(name):
    folder = Path("/library")
    try:
        checked = check_name(name)
    except ExplorerError:
        return
    path = Path(os.path.normpath(folder / f"{checked}.story.md"))
    assert path.is_relative_to(folder) and ".." not in path.parts


def test_save_as_creates_folders_and_refuses_an_existing_name(lib, tmp_path):
    story = lib.open("small")
    story.revision = 5
    saved = lib.save_as(story, "mine/drafts/copy")
    assert saved.revision == 1 and lib.exists("mine/drafts/copy")
    assert "mine/drafts/copy" in lib.names()
    with pytest.raises(StoryConflictError, match="already exists"):
        lib.save_as(story, "small")
    assert lib.open("small").revision == 1


def test_a_story_that_would_not_load_again_is_never_written(lib, tmp_path):
    before = (tmp_path / "small.story.md").read_bytes()
    story = lib.open("small")
    story.title = "   "  # the loader refuses an empty title
    with pytest.raises(StoryFormatError, match="title must not be empty"):
        lib.save(story, "small", 1)
    assert (tmp_path / "small.story.md").read_bytes() == before and lib.history("small") == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(lib, tmp_path, monkeypatch):
    before = (tmp_path / "small.story.md").read_bytes()
    story = lib.open("small")
    story.title = "Never written"

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileformat.os, "replace", broken_replace)
    with pytest.raises(OSError):
        lib.save(story, "small", 1)
    assert (tmp_path / "small.story.md").read_bytes() == before
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_an_oversized_file_is_refused_before_it_is_read_whole(lib, tmp_path):
    (tmp_path / "huge.story.md").write_bytes(b"---\n" + b"x" * (fileformat.MAX_BYTES + 10))
    with pytest.raises(StoryFormatError, match="huge.story.md:1: error TS-F01"):
        lib.open("huge")


def test_the_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_folder().parts[-2:] == ("assets", "stories")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert default_folder() == tmp_path and StoryLibrary().folder == tmp_path


# ---- authors, the history bound and the one lock file (issue 14: a room of thirty on one server) ----------

def _locks(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.lock"))


def test_each_save_records_its_author_and_time(lib, tmp_path):
    story = lib.open("small")
    lib.save(story, "small", 1, author="Ada")
    lib.save(story, "small", 2, author="Grace <b>Hopper</b>")  # any text; the pages escape it
    kept = lib.history("small")
    assert [(r.revision, r.author) for r in kept] == [(1, None), (2, "Ada")]  # r1 came before authors were kept
    assert kept[1].saved.endswith("+00:00")
    now = lib.saved_by("small")
    assert (now.revision, now.author) == (3, "Grace <b>Hopper</b>")
    assert lib.saved_by("small", 2).author == "Ada"
    lib.save_as(story, "copy", author="Alan")
    assert lib.saved_by("copy").author == "Alan" and lib.saved_by("scenarios/goof-off") is None
    # the story file's format is untouched: the same story saved by anyone has the same bytes but the revision
    assert "Ada" not in (tmp_path / "small.story.md").read_text()


def test_without_an_author_the_save_is_the_os_users_outside_workshop_mode(lib, monkeypatch):
    monkeypatch.delenv("EXPLORER_WORKSHOP", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "workshop-host")
    lib.save(lib.open("small"), "small", 1)
    assert lib.saved_by("small").author == "workshop-host"


def test_in_workshop_mode_the_library_refuses_a_save_without_an_author(lib, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_WORKSHOP", "1")
    before = (tmp_path / "small.story.md").read_bytes()
    with pytest.raises(ExplorerError, match="Sign in to save; reading is open to everyone"):
        lib.save(lib.open("small"), "small", 1)
    with pytest.raises(ExplorerError, match="Sign in to save"):
        lib.save_as(lib.open("small"), "mine")
    assert (tmp_path / "small.story.md").read_bytes() == before and not lib.exists("mine")
    lib.save(lib.open("small"), "small", 1, author="Ada")
    assert lib.saved_by("small").author == "Ada"


@pytest.mark.parametrize("bad, message", [("", "author is empty"), ("   ", "author is empty"),
                                          ("a\nb", "control characters"), ("x" * 81, "over 80 characters"),
                                          (3, "author is text")])
def test_a_bad_author_is_refused_naming_the_field(lib, tmp_path, bad, message):
    before = (tmp_path / "small.story.md").read_bytes()
    with pytest.raises(ExplorerError, match=message):
        lib.save(lib.open("small"), "small", 1, author=bad)
    assert (tmp_path / "small.story.md").read_bytes() == before


def test_a_hundred_saves_keep_only_the_bound_of_history(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_HISTORY_REVISIONS", "7")
    (tmp_path / "small.story.md").write_text(STORY)
    lib = StoryLibrary(tmp_path)
    story = lib.open("small")
    for revision in range(1, 101):
        story.title = f"Save {revision}"
        lib.save(story, "small", revision, author=f"author {revision % 3}")
    kept = lib.history("small")
    assert [r.revision for r in kept] == list(range(94, 101))  # the newest 7 earlier revisions; the oldest went
    assert len(list((tmp_path / ".history").glob("*.story.md"))) == 7
    assert all(r.author == f"author {(r.revision - 1) % 3}" for r in kept)  # revision r was saved by save r-1
    assert lib.revision("small") == 101 and lib.saved_by("small").author == "author 1"
    assert len(lib._log(tmp_path / "small.story.md")) == 8  # the log is bounded too


def test_the_byte_bound_drops_the_oldest_and_never_refuses_a_save(tmp_path):
    (tmp_path / "small.story.md").write_text(STORY)
    size = len(STORY.encode())
    lib = StoryLibrary(tmp_path, revisions=50, history_bytes=int(size * 3.5))
    story = lib.open("small")
    for revision in range(1, 11):
        lib.save(story, "small", revision)
    assert [r.revision for r in lib.history("small")] == [8, 9, 10]
    nothing = StoryLibrary(tmp_path, revisions=0)
    nothing.save(story, "small", 11)
    assert nothing.history("small") == [] and nothing.revision("small") == 12


def test_a_bad_history_bound_in_the_environment_falls_back_to_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_HISTORY_REVISIONS", "lots")
    monkeypatch.setenv("EXPLORER_HISTORY_BYTES", "-5")
    lib = StoryLibrary(tmp_path)
    assert (lib.revisions, lib.history_bytes) == (20, 20 * fileformat.MAX_BYTES)


def test_a_refused_save_as_leaves_no_lock_file_and_nothing_else(tmp_path):
    (tmp_path / "small.story.md").write_text(STORY)
    lib = StoryLibrary(tmp_path)
    story = lib.open("small")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for refused in ("small", "../outside", "with space", "new/../small"):
        with pytest.raises(ExplorerError):
            lib.save_as(story, refused)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # not even a .history folder


def test_every_save_path_uses_one_kept_lock_file_per_library(lib, tmp_path):
    story = lib.open("small")
    lib.save(story, "small", 1)
    with pytest.raises(StoryConflictError):
        lib.save(story, "small", 1)  # a conflict
    lib.save_as(story, "deep/er/copy")
    with pytest.raises(StoryConflictError):
        lib.save_as(story, "deep/er/copy")
    lib.save(lib.open("scenarios/goof-off"), "scenarios/goof-off", 1)
    with pytest.raises(StoryFormatError):
        bad = lib.open("small")
        bad.title = " "
        lib.save(bad, "small", 2)  # would not load again
    assert _locks(tmp_path) == [".history/.library.lock"]  # the same file for every story, in no story's way
    assert lib.lock_path() == tmp_path / ".history" / ".library.lock"
    assert "deep/er/copy" in lib.names() and not any("lock" in n or "log" in n for n in lib.names())


def _hold_lock_then_save(folder, holding, release, results):
    lib = StoryLibrary(folder)
    with lib._locked():  # what another process's save holds while it checks and writes
        holding.set()
        release.wait(10)
        story = lib.open("small")
        story.revision += 1
        fileformat.write_atomic(lib.path("small"), fileformat.dumps(story))
    results.put("holder saved")


def test_a_process_waiting_for_the_lock_waits_on_the_same_file(lib, tmp_path):
    """One process holds the lock; another's save must wait for it (the lock file is never replaced)."""
    ctx = multiprocessing.get_context("fork")
    holding, release, results = ctx.Event(), ctx.Event(), ctx.Queue()
    holder = ctx.Process(target=_hold_lock_then_save, args=(tmp_path, holding, release, results))
    holder.start()
    assert holding.wait(10)
    story = lib.open("small")  # revision 1; the holder will save revision 2 first
    outcome = []
    waiter = threading.Thread(target=lambda: outcome.append(_try_save(lib, story)))
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive()  # blocked on the holder's flock
    release.set()
    holder.join(10)
    waiter.join(10)
    assert results.get(timeout=5) == "holder saved" and outcome == ["conflict"]
    assert lib.revision("small") == 2 and _locks(tmp_path) == [".history/.library.lock"]


def _try_save(lib, story):
    try:
        lib.save(story, "small", 1, author="waiter")
        return "saved"
    except StoryConflictError:
        return "conflict"


def _save_forever(folder, started):
    """Save the story again and again with a growing narrative (so each write takes a while), until killed."""
    lib = StoryLibrary(folder)
    started.set()
    while True:
        story = lib.open("small")
        story.title = f"Saved at revision {story.revision + 1}"
        story.body = story.body + "More narrative. " * 2000
        lib.save(story, "small", story.revision)


@pytest.mark.parametrize("delay_s", [0.05, 0.13, 0.31, 0.52, 0.77])
def test_a_server_killed_while_saving_loses_nothing(lib, tmp_path, delay_s):
    """SIGKILL at a moment a save is under way: the story still loads whole, at a revision that was saved,
    its history holds whole earlier revisions, and the next save goes on from it (nothing half-written)."""
    import signal
    import time

    ctx = multiprocessing.get_context("fork")
    started = ctx.Event()
    proc = ctx.Process(target=_save_forever, args=(tmp_path, started))
    proc.start()
    assert started.wait(30)
    time.sleep(delay_s)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    story = lib.open("small")  # whole: a half-written file would not load
    assert story.revision == 1 or story.title == f"Saved at revision {story.revision}"
    for kept in lib.history("small"):
        assert fileformat.loads(kept.path.read_text(), kept.path.name).revision == kept.revision
    assert lib.names() == ["scenarios/goof-off", "small"]  # no stray file counts as a story
    story.title = "After the crash"
    assert lib.save(story, "small", story.revision).revision == story.revision + 1
