"""A folder of story files that several people (browser sessions, processes) open and save safely.

A story's name is its path under the folder without the `.story.md` suffix (`speed-prior`,
`scenarios/goof-off`, `templates/myopic-agent`). The folder is `assets/stories` of the source
checkout, or the one the environment variable EXPLORER_STORY_LIBRARY names.

Saving never loses anyone's work silently:

- Revision check. Whoever saves says which revision they opened (`expected_revision`). If the file
  on disk has moved on since (someone else saved, or `story check --record` wrote results), the save
  is refused with StoryConflictError, and the caller keeps its edits to save under another name.
- History. Before a file is replaced, its current text is kept as `.history/NAME.rN.story.md` beside it.
- Atomic. The new text is written to a temporary file and renamed over the old one, so a reader sees
  the old file or the new one, never half of one. Check, history and write happen under a lock per
  file: a threading.Lock for sessions of one server, and fcntl.flock on a lock file for processes.
- Only loadable text. The new text is loaded back before anything is written; a story whose text would
  not load again is refused.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import re
import threading
from pathlib import Path
from typing import Iterator

try:  # POSIX; elsewhere the per-path thread lock still orders the sessions of one server
    import fcntl
except ImportError:  # pragma: no cover - the project runs on Linux and macOS
    fcntl = None

from explorer.errors import ExplorerError
from explorer.stories import fileformat
from explorer.stories.messages import Message, StoryFormatError
from explorer.stories.model import Story

#: The environment variable that moves the library to another folder.
ENV_VAR = "EXPLORER_STORY_LIBRARY"

#: The shipped library, found beside the package in a source checkout (as assets/tours is).
DEFAULT_FOLDER = Path(__file__).resolve().parent.parent.parent / "assets" / "stories"

HISTORY = ".history"
SUFFIX = fileformat.SUFFIX
_NAME = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
MAX_NAME = 200


class StoryConflictError(ExplorerError):
    """The file changed on disk since it was opened; saving over it would lose someone's work."""


@dataclasses.dataclass(frozen=True)
class Revision:
    """One kept earlier revision of a story."""

    revision: int
    path: Path


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

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder).expanduser() if folder is not None else default_folder()

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
        """The kept earlier revisions of a story, oldest first."""
        path = self.path(name)
        pattern = re.compile(re.escape(path.name[: -len(SUFFIX)]) + r"\.r([0-9]+)" + re.escape(SUFFIX))
        folder = path.parent / HISTORY
        if not folder.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := pattern.fullmatch(p.name))]
        return [Revision(r, p) for r, p in sorted(found)]

    def open_revision(self, name: str, revision: int) -> Story:
        """An earlier revision from the history (for a diff against the current one)."""
        for kept in self.history(name):
            if kept.revision == revision:
                label = f"{check_name(name)}.r{revision}{SUFFIX}"
                return fileformat.loads(fileformat.decode(self._read_bytes(kept.path, name), label), label)
        known = ", ".join(str(r.revision) for r in self.history(name)) or "none"
        raise ExplorerError(f"story {name!r} has no kept revision {revision}; kept revisions: {known}")

    # ---- writing ------------------------------------------------------------------------------

    def save(self, story: Story, name: str, expected_revision: int) -> Story:
        """Replace the story `name`, which must still be at `expected_revision` on disk.

        Writes revision `expected_revision + 1` and returns the story as saved (read back from its
        text). Raises StoryConflictError, leaving the file untouched, if the revision on disk differs,
        the file is gone, or it no longer loads.
        """
        name = check_name(name)
        path = self.path(name)
        text = self._text(story, expected_revision + 1, name)
        with self._locked(path):
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
        return fileformat.loads(text, self._label(name))

    def save_as(self, story: Story, new_name: str) -> Story:
        """Write the story as a new file `new_name` at revision 1; refuses a name that already exists."""
        name = check_name(new_name)
        path = self.path(name)
        text = self._text(story, 1, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked(path):
            if path.exists():
                raise StoryConflictError(f"a story named {name!r} already exists; choose another name "
                                         f"(or open it and save your changes there)")
            fileformat.write_atomic(path, text)
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

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        """Hold this file's lock: the thread lock for this process, then an flock for other processes."""
        with _thread_lock(path.resolve()):
            if fcntl is None:  # pragma: no cover
                yield
                return
            folder = path.parent / HISTORY
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / f"{path.name}.lock", "a+b") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
