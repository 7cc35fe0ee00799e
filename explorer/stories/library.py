"""A folder of story files that several people (browser sessions, processes) open and save safely.

A story's name is its path under the folder without the `.story.md` suffix (`speed-prior`,
`scenarios/goof-off`, `templates/myopic-agent`). The folder is `assets/stories` of the source
checkout, or the one the environment variable EXPLORER_STORY_LIBRARY names.

Saving never loses anyone's work silently:

- Revision check. Whoever saves says which revision they opened (`expected_revision`). If the file
  on disk has moved on since (someone else saved, or `story check --record` wrote results), the save
  is refused with StoryConflictError, and the caller keeps its edits to save under another name.
- History. Before a file is replaced, its current text is kept as `.history/NAME.rN.story.md` beside it.
  At most EXPLORER_HISTORY_REVISIONS (default 20) earlier revisions and EXPLORER_HISTORY_BYTES (default
  20 MB) are kept per story; the oldest go first. The bound never refuses a save.
- Authors. Each save records who saved it and when in `.history/NAME.log.json` (a small JSON list,
  bounded like the history): the story file's format is untouched, so a saved file has the same bytes
  whoever saved it and git diffs of a library show only the story. `history()` and `saved_by()` read it.
- Atomic. The new text is written to a temporary file and renamed over the old one, so a reader sees
  the old file or the new one, never half of one. Check, history and write happen under the library's
  lock: a threading.Lock for the sessions of one server, and fcntl.flock on one lock file per library,
  `.history/.library.lock`, for processes. That file is created once and never deleted: a lock file that
  is unlinked while another process waits on it lets a third process lock a new file of the same name,
  and two writers run at once. Refusals that need no lock (a bad name, an existing name for Save as)
  happen before it is taken, and write nothing at all.
- Workshop mode. With EXPLORER_WORKSHOP=1 a save needs an author (a signed-in user, explorer.editor_access);
  the library itself refuses one without, whatever a page's buttons showed.
- Only loadable text. The new text is loaded back before anything is written; a story whose text would
  not load again is refused.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Iterator

try:  # POSIX; elsewhere the per-path thread lock still orders the sessions of one server
    import fcntl
except ImportError:  # pragma: no cover - the project runs on Linux and macOS
    fcntl = None

from explorer import editor_access
from explorer.errors import ExplorerError
from explorer.stories import fileformat
from explorer.stories.messages import Message, StoryFormatError
from explorer.stories.model import Story

log = logging.getLogger(__name__)

#: The environment variable that moves the library to another folder.
ENV_VAR = "EXPLORER_STORY_LIBRARY"

#: The shipped library, found beside the package in a source checkout (as assets/tours is).
DEFAULT_FOLDER = Path(__file__).resolve().parent.parent.parent / "assets" / "stories"

HISTORY = ".history"
LOCK_FILE = ".library.lock"
LOG_SUFFIX = ".log.json"
#: How many earlier revisions are kept per story, and how many bytes of them (the environment may change both).
ENV_REVISIONS = "EXPLORER_HISTORY_REVISIONS"
ENV_BYTES = "EXPLORER_HISTORY_BYTES"
DEFAULT_REVISIONS = 20
DEFAULT_BYTES = 20 * fileformat.MAX_BYTES
SUFFIX = fileformat.SUFFIX
_NAME = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
MAX_NAME = 200


class StoryConflictError(ExplorerError):
    """The file changed on disk since it was opened; saving over it would lose someone's work."""


@dataclasses.dataclass(frozen=True)
class Revision:
    """One kept earlier revision of a story, with who saved it and when (None: not recorded, as for files
    written before authors were recorded, or by `story check --record`)."""

    revision: int
    path: Path
    author: str | None = None
    saved: str | None = None  # ISO 8601 UTC time of the save that wrote this revision


@dataclasses.dataclass(frozen=True)
class Saving:
    """Who saved one revision of a story, and when (ISO 8601, UTC)."""

    revision: int
    author: str
    saved: str


def _env_count(var: str, default: int) -> int:
    """A bound from the environment; a value that is not a whole number >= 0 is logged and the default used
    (a mistyped bound must not stop every page that shows a story, nor any save)."""
    text = os.environ.get(var, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        log.warning("%s=%r is not a whole number of 0 or more; using the default, %d", var, text[:40], default)
        return default
    return value


def default_folder() -> Path:
    """EXPLORER_STORY_LIBRARY if set, else assets/stories of the source checkout."""
    folder = os.environ.get(ENV_VAR, "").strip()
    return Path(folder).expanduser() if folder else DEFAULT_FOLDER


def check_name(name: str) -> str:
    """A valid story name (a trailing `.story.md` is dropped), or ExplorerError saying what is allowed."""
    if not isinstance(name, str):
        raise ExplorerError(f"a story name is text, not {type(name).__name__}")
    if name.endswith(SUFFIX):
        name = name[: -len(SUFFIX)]
    if len(name) > MAX_NAME or not _NAME.fullmatch(name):
        raise ExplorerError(
            f"{name[:60]!r} is not a valid story name: use letters, digits, '-' and '_', with '/' between "
            f"folders (for example scenarios/goof-off); no '..', no absolute paths, at most {MAX_NAME} characters")
    return name


# One lock per file for the threads of this process (the sessions of one panel server).
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(str(path), threading.Lock())


class StoryLibrary:
    """Open, save and list the stories of one folder."""

    def __init__(self, folder: str | Path | None = None, revisions: int | None = None, history_bytes: int | None = None):
        """`revisions`, `history_bytes`: the history bound per story (default: EXPLORER_HISTORY_REVISIONS,
        EXPLORER_HISTORY_BYTES, else 20 revisions and 20 MB)."""
        self.folder = Path(folder).expanduser() if folder is not None else default_folder()
        self.revisions = _env_count(ENV_REVISIONS, DEFAULT_REVISIONS) if revisions is None else int(revisions)
        self.history_bytes = _env_count(ENV_BYTES, DEFAULT_BYTES) if history_bytes is None else int(history_bytes)
        if self.revisions < 0 or self.history_bytes < 0:
            raise ExplorerError("revisions and history_bytes are 0 or more")

    def __repr__(self) -> str:
        return f"StoryLibrary({str(self.folder)!r})"

    # ---- reading ------------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        """The file of a story name (which need not exist yet)."""
        return self.folder / f"{check_name(name)}{SUFFIX}"

    def names(self) -> list[str]:
        """Every story in the folder and its subfolders, by name, sorted; hidden folders are skipped."""
        if not self.folder.is_dir():
            return []
        out = []
        for path in self.folder.rglob(f"*{SUFFIX}"):
            rel = path.relative_to(self.folder).as_posix()[: -len(SUFFIX)]
            if path.is_file() and _NAME.fullmatch(rel):
                out.append(rel)
        return sorted(out)

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def read_text(self, name: str) -> str:
        """The file's text as it is on disk (checked for size and encoding, not parsed)."""
        path = self._existing(name)
        return fileformat.decode(self._read_bytes(path, name), self._label(name))

    def open(self, name: str) -> Story:
        """Load a story; StoryFormatError (messages located at `NAME.story.md:LINE`) if it does not load."""
        return fileformat.loads(self.read_text(name), self._label(name))

    def revision(self, name: str) -> int:
        """The revision of the story on disk now."""
        return self.open(name).revision

    def history(self, name: str) -> list[Revision]:
        """The kept earlier revisions of a story, oldest first, each with its author and time if recorded."""
        path = self.path(name)
        pattern = re.compile(re.escape(path.name[: -len(SUFFIX)]) + r"\.r([0-9]+)" + re.escape(SUFFIX))
        folder = path.parent / HISTORY
        if not folder.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := pattern.fullmatch(p.name))]
        saves = {s.revision: s for s in self._log(path)}
        return [Revision(r, p, getattr(saves.get(r), "author", None), getattr(saves.get(r), "saved", None))
                for r, p in sorted(found)]

    def saved_by(self, name: str, revision: int | None = None) -> Saving | None:
        """Who saved `revision` of the story (default: the one on disk now), and when (None: not recorded)."""
        path = self.path(name)
        if revision is None:
            try:
                revision = self.revision(name)
            except (ExplorerError, StoryFormatError):
                return None
        return next((s for s in reversed(self._log(path)) if s.revision == revision), None)

    def open_revision(self, name: str, revision: int) -> Story:
        """An earlier revision from the history (for a diff against the current one)."""
        for kept in self.history(name):
            if kept.revision == revision:
                label = f"{check_name(name)}.r{revision}{SUFFIX}"
                return fileformat.loads(fileformat.decode(self._read_bytes(kept.path, name), label), label)
        known = ", ".join(str(r.revision) for r in self.history(name)) or "none"
        raise ExplorerError(f"story {name!r} has no kept revision {revision}; kept revisions: {known}")

    # ---- writing ------------------------------------------------------------------------------

    def save(self, story: Story, name: str, expected_revision: int, author: str | None = None) -> Story:
        """Replace the story `name`, which must still be at `expected_revision` on disk.

        Writes revision `expected_revision + 1` and returns the story as saved (read back from its
        text). Raises StoryConflictError, leaving the file untouched, if the revision on disk differs,
        the file is gone, or it no longer loads. `author`: who saves (recorded in the history; outside
        workshop mode None means the OS user; in workshop mode None is refused).
        """
        name = check_name(name)
        author = self._author(author)
        path = self.path(name)
        text = self._text(story, expected_revision + 1, name)
        with self._locked():
            if not path.is_file():
                raise StoryConflictError(
                    f"story {name!r} was deleted or moved since you opened it; nothing was written. Save your "
                    f"edits under a new name (Save as), or download them")
            old = self._read_bytes(path, name)
            try:
                on_disk = fileformat.loads(fileformat.decode(old, self._label(name)), self._label(name)).revision
            except StoryFormatError as exc:
                raise StoryConflictError(
                    f"story {name!r} was changed on disk since you opened it and no longer loads ({exc.messages[0]}); "
                    f"nothing was written. Save your edits under a new name (Save as), or download them") from None
            if on_disk != expected_revision:
                raise StoryConflictError(
                    f"story {name!r} was saved by someone else since you opened it: you opened revision "
                    f"{expected_revision}, the file is now at revision {on_disk}. Nothing was written, and your "
                    f"edits are kept here: save them under a new name (Save as) or download them, then compare "
                    f"the two and merge by hand")
            self._keep(path, on_disk, old)
            fileformat.write_atomic(path, text)
            self._record(path, expected_revision + 1, author)
            self._prune(path)
        return fileformat.loads(text, self._label(name))

    def save_as(self, story: Story, new_name: str, author: str | None = None) -> Story:
        """Write the story as a new file `new_name` at revision 1; refuses a name that already exists.
        `author` as for save."""
        name = check_name(new_name)
        author = self._author(author)
        path = self.path(name)
        self._refuse_existing(path, name)  # before the lock: a refusal touches nothing
        text = self._text(story, 1, name)
        with self._locked():
            self._refuse_existing(path, name)  # again, under the lock: someone may have just saved it
            path.parent.mkdir(parents=True, exist_ok=True)
            fileformat.write_atomic(path, text)
            self._record(path, 1, author, fresh=True)
        return fileformat.loads(text, self._label(name))

    # ---- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _label(name: str) -> str:
        return f"{name}{SUFFIX}"

    def _existing(self, name: str) -> Path:
        path = self.path(name)
        if not path.is_file():
            known = self.names()
            listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "") if known else "none"
            raise ExplorerError(f"no story named {name!r} in {self.folder}; stories: {listed}")
        return path

    def _read_bytes(self, path: Path, name: str) -> bytes:
        """The file's bytes, refusing an oversized file with a located TS-F01 (nothing more is read)."""
        label = self._label(check_name(name))
        try:
            with open(path, "rb") as fh:
                data = fh.read(fileformat.MAX_BYTES + 1)
        except OSError as exc:
            raise ExplorerError(f"cannot read story {name!r}: {exc.strerror or exc}") from None
        if len(data) > fileformat.MAX_BYTES:
            raise StoryFormatError([Message("TS-F01", f"the file is over {fileformat.MAX_BYTES:,} bytes, the most a "
                                                      f"story may have", 1, file=label)])
        return data

    def _text(self, story: Story, revision: int, name: str) -> str:
        """The file text of `story` at `revision`, proven to load back; the caller's story is not touched."""
        draft = copy.deepcopy(story)  # dumps merges into the parsed source; keep the caller's copy as it was
        draft.revision = revision
        text = fileformat.dumps(draft)
        fileformat.loads(text, self._label(name))  # StoryFormatError: this story could not be read back
        return text

    @staticmethod
    def _author(author: str | None) -> str:
        """The author to record: checked, or the default outside workshop mode; refused in workshop mode."""
        if author is None:
            refusal = editor_access.save_refusal(None)
            if refusal:
                raise ExplorerError(f"not saved: {refusal}")
            return editor_access.default_author()
        return editor_access.check_author(author)

    @staticmethod
    def _refuse_existing(path: Path, name: str) -> None:
        if path.exists():
            raise StoryConflictError(f"a story named {name!r} already exists; choose another name "
                                     f"(or open it and save your changes there)")

    @staticmethod
    def _log_path(path: Path) -> Path:
        return path.parent / HISTORY / f"{path.name[: -len(SUFFIX)]}{LOG_SUFFIX}"

    def _log(self, path: Path) -> list[Saving]:
        """The recorded savings of a story's file, oldest first (an unreadable log reads as none)."""
        try:
            with open(self._log_path(path), "rb") as fh:
                data = json.loads(fh.read(fileformat.MAX_BYTES))
            return [Saving(int(e["revision"]), str(e["author"]), str(e["saved"])) for e in data]
        except (OSError, ValueError, TypeError, KeyError):
            return []

    def _record(self, path: Path, revision: int, author: str, fresh: bool = False) -> None:
        """Add who saved `revision` (now) to the story's log, keeping only what the history bound keeps.
        `fresh`: a new story (Save as), whose name may have had an earlier story's log: start anew."""
        saved = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        saves = [] if fresh else self._log(path)
        saves = [e for e in saves if e.revision != revision] + [Saving(revision, author, saved)]
        saves = saves[-(self.revisions + 1):]  # the kept revisions and the current one
        self._log_path(path).parent.mkdir(exist_ok=True)
        fileformat.write_atomic(self._log_path(path), json.dumps([dataclasses.asdict(e) for e in saves], indent=1) + "\n")

    def _prune(self, path: Path) -> None:
        """Remove the oldest kept revisions of `path` beyond the bound (count and bytes); never raises."""
        stem = path.name[: -len(SUFFIX)]
        pattern = re.compile(re.escape(stem) + r"\.r([0-9]+)(?:-([0-9]+))?" + re.escape(SUFFIX))
        try:
            kept = sorted(((int(m.group(1)), int(m.group(2) or 1)), p, p.stat().st_size)
                          for p in (path.parent / HISTORY).iterdir() if (m := pattern.fullmatch(p.name)))
            total = sum(size for _, _, size in kept)
            while kept and (len(kept) > self.revisions or total > self.history_bytes):
                _, oldest, size = kept.pop(0)
                oldest.unlink(missing_ok=True)
                total -= size
        except OSError:  # the bound is housekeeping: a save that has been written stays a success
            pass

    def _keep(self, path: Path, revision: int, data: bytes) -> None:
        """Keep the current text of `path` as its history entry for `revision` (written atomically)."""
        folder = path.parent / HISTORY
        folder.mkdir(exist_ok=True)
        kept = folder / f"{path.name[: -len(SUFFIX)]}.r{revision}{SUFFIX}"
        if kept.exists() and kept.read_bytes() == data:
            return
        if kept.exists():  # the same revision saved twice by tools that do not bump it: keep both texts
            n = 2
            while (alt := folder / f"{path.name[: -len(SUFFIX)]}.r{revision}-{n}{SUFFIX}").exists():
                n += 1
            kept = alt
        fileformat.write_atomic(kept, data.decode("utf-8"))

    def lock_path(self) -> Path:
        """The library's one lock file (created on the first save, never deleted: see the module's doc)."""
        return self.folder / HISTORY / LOCK_FILE

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the library's lock: the thread lock for this process, then an flock for other processes."""
        with _thread_lock(self.folder.resolve()):
            if fcntl is None:  # pragma: no cover
                yield
                return
            lock = self.lock_path()
            lock.parent.mkdir(parents=True, exist_ok=True)
            with open(lock, "a+b") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
