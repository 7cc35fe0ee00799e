"""What the library holds, one line per story: the editor opens on this list, not on a blank form.

Each entry says what a reader needs to choose: the title, the first sentence of the narrative, how many
claims, and the claims' statuses from the results recorded in the file (no simulation runs for a list:
a story with no recorded results says so). A file that does not load is listed with its first message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from explorer.stories.argument import short
from explorer.stories.evidence import claim_statuses
from explorer.stories.library import StoryLibrary
from explorer.stories.messages import StoryFormatError

__all__ = ["Entry", "about", "catalogue"]


@dataclass(frozen=True)
class Entry:
    """One story of the library as the list shows it."""

    name: str
    title: str = ""
    about: str = ""
    claims: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # recorded status -> number of claims
    problem: str = ""  # why the file does not load (empty when it does)

    @property
    def template(self) -> bool:
        return self.name.startswith("templates/")


def about(body: str, limit: int = 160) -> str:
    """The narrative's first paragraph that is not a heading, as one short line (Markdown marks removed)."""
    for para in re.split(r"\n\s*\n", body):
        text = para.strip()
        if text and not text.startswith("#"):
            return short(re.sub(r"[*_`>]|\[([^\]]*)\]\([^)]*\)", r"\1", text), limit)
    return ""


def catalogue(library: StoryLibrary) -> list[Entry]:
    """Every story of the library, by name (templates last)."""
    out = []
    for name in sorted(library.names(), key=lambda n: (n.startswith("templates/"), n)):
        try:
            story = library.open(name)
        except StoryFormatError as exc:
            out.append(Entry(name, problem=str(exc.messages[0]) if exc.messages else "does not load"))
            continue
        except OSError as exc:
            out.append(Entry(name, problem=str(exc)))
            continue
        statuses = list(claim_statuses(story).values())
        counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
        out.append(Entry(name, story.title, about(story.body), len(statuses), counts))
    return out
