"""`python -m explorer story {check,sweep,export,diff}`: the story command line.

The parser lives here; each command's work lives in the module of its idea (check.py, sensitivity.py,
export.py, diff.py), imported only when that command runs. Exit codes: 0 fine, 1 a story has errors
(or, for sweep, nothing else went wrong but the verdict is reported), 2 a usage mistake.
"""

from __future__ import annotations

import argparse


def add_story_parser(sub) -> None:
    story = sub.add_parser("story", help="training stories: check, sweep, export and diff NAME.story.md files")
    cmds = story.add_subparsers(dest="story_command", required=True, parser_class=type(story))

    p = cmds.add_parser("check", help="validate stories and run their evidence (exit 1 on errors)")
    p.add_argument("files", nargs="+", metavar="FILE", help="story files (NAME.story.md)")
    p.add_argument("--record", action="store_true", help="write each evidence result into its file")
    p.add_argument("--replace", action="store_true", help="with --record: replace recorded results that differ")
    p.add_argument("--no-run", dest="run", action="store_false", help="validate only; do not run the evidence")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_lazy("explorer.stories.check", "main"))

    p = cmds.add_parser("sweep", help="sensitivity analysis: classify a grid of assumption values (Morris screening for >2)")
    p.add_argument("file", metavar="FILE", help="a story file")
    p.add_argument("sweep_id", nargs="?", metavar="SWEEP_ID", help="which sweep (default: all of the story's sweeps)")
    p.add_argument("--points", type=int, help="grid points per assumption (default: the sweep's own)")
    p.add_argument("--workers", type=int, help="local worker processes (default: the number of CPUs)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the points on a Dask distributed scheduler (tcp://host:8786)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_lazy("explorer.stories.sensitivity", "main"))

    p = cmds.add_parser("export", help="export a story as Markdown, standalone HTML, JSON or GSN YAML (gsn2x)")
    p.add_argument("file", metavar="FILE", help="a story file")
    p.add_argument("--format", required=True, choices=["markdown", "html", "json", "gsn"], help="what to write")
    p.add_argument("--output", "-o", metavar="PATH", help="where to write (default: standard output)")
    p.add_argument("--no-run", dest="run", action="store_false", help="HTML: use recorded results; run neither evidence nor sweeps")
    p.set_defaults(func=_lazy("explorer.stories.export", "main"))

    p = cmds.add_parser("diff", help="semantic diff of two revisions: claims, assumption values, verdicts")
    p.add_argument("old", metavar="OLD", help="the earlier story file")
    p.add_argument("new", metavar="NEW", help="the later story file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_lazy("explorer.stories.diff", "main"))


def _lazy(module: str, name: str):
    def run(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module), name)(args)

    return run
