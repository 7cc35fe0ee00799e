"""`story {check,sweep,export,diff,save,history,schema}`: training stories from the command line.

Each command's work is a plain function of the module of its idea (check.py, sensitivity.py, export.py,
diff.py); here are only the options, the printing and the exit codes: 0 fine, 1 a story has errors (or,
for sweep, nothing else went wrong but the verdict is reported), 2 a usage mistake.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path

from explorer.cli.options import add_scenario_dir_option, use_scenario_dirs
from explorer.cli.output import jsonable, progress_bar
from explorer.errors import ExplorerError


def add_parsers(sub) -> None:
    from explorer.stories.export import FORMATS

    story = sub.add_parser("story", help="training stories: check, sweep, export and diff NAME.story.md files")
    cmds = story.add_subparsers(dest="story_command", required=True, parser_class=type(story))

    p = cmds.add_parser("check", help="validate stories and run their evidence (exit 1 on errors)")
    p.add_argument("files", nargs="+", metavar="FILE", help="story files (NAME.story.md)")
    p.add_argument("--record", action="store_true", help="write each evidence result into its file")
    p.add_argument("--replace", action="store_true", help="with --record: replace recorded results that differ")
    p.add_argument("--no-run", dest="run", action="store_false", help="validate only; do not run the evidence")
    add_scenario_dir_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_check)

    p = cmds.add_parser("sweep", help="sensitivity analysis: classify a grid of assumption values (Morris screening for >2)")
    p.add_argument("file", metavar="FILE", help="a story file")
    p.add_argument("sweep_id", nargs="?", metavar="SWEEP_ID", help="which sweep (default: all of the story's sweeps)")
    p.add_argument("--points", type=int, help="grid points per assumption (default: the sweep's own)")
    p.add_argument("--workers", type=int, help="local worker processes (default: the number of CPUs)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the points on a Dask distributed scheduler (tcp://host:8786)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    add_scenario_dir_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_sweep)

    p = cmds.add_parser("export", help="export a story as Markdown, standalone HTML, JSON or GSN YAML (gsn2x)")
    p.add_argument("file", metavar="FILE", help="a story file")
    p.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    p.add_argument("--output", "-o", metavar="PATH", help="where to write (default: standard output)")
    p.add_argument("--no-run", dest="run", action="store_false", help="HTML: use recorded results; run neither evidence nor sweeps")
    add_scenario_dir_option(p)
    p.set_defaults(func=cmd_export)

    p = cmds.add_parser("diff", help="semantic diff of two revisions: claims, assumption values, verdicts")
    p.add_argument("old", metavar="OLD", help="the earlier story file")
    p.add_argument("new", metavar="NEW", help="the later story file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_diff)

    p = cmds.add_parser("save", help="save a story file into the story library (history and author kept, as the "
                                     "editor saves)")
    p.add_argument("file", metavar="FILE", help="the story file to save")
    p.add_argument("name", metavar="NAME", help="its name in the library (a new name is created; an existing one is "
                                                "saved over, refused if it moved on from the file's revision)")
    p.add_argument("--author", help="who saves (default: the operating-system user)")
    p.add_argument("--library", metavar="DIR", help="the library folder (default: EXPLORER_STORY_LIBRARY or assets/stories)")
    p.set_defaults(func=cmd_save)

    p = cmds.add_parser("history", help="a library story's kept revisions, with who saved each and when")
    p.add_argument("name", metavar="NAME", help="the story's name in the library")
    p.add_argument("--library", metavar="DIR", help="the library folder (default: EXPLORER_STORY_LIBRARY or assets/stories)")
    p.set_defaults(func=cmd_history)

    p = cmds.add_parser("schema", help="print the JSON Schema of a story's front matter (assets/schema/story.schema.json)")
    p.set_defaults(func=cmd_schema)


def _load(path):
    """The story in `path`, or None after printing its located messages (the caller exits 1)."""
    from explorer.stories.fileformat import load
    from explorer.stories.messages import StoryFormatError

    try:
        return load(path)
    except StoryFormatError as exc:
        for m in exc.messages:
            print(m, file=sys.stderr)
        return None


def cmd_check(args) -> int:
    """`story check`: exit 0 when no file has errors, 1 otherwise (2, via ExplorerError, for usage)."""
    from explorer.stories.check import check_file

    run = getattr(args, "run", True)
    record = getattr(args, "record", False)
    replace = getattr(args, "replace", False)
    # Usage mistakes are refused before any file is touched.
    if replace and not record:
        raise ExplorerError("--replace only makes sense with --record (it lets --record overwrite differing results)")
    if record and not run:
        raise ExplorerError("--record writes the results of running the evidence; it cannot be combined with --no-run")
    use_scenario_dirs(args)
    reports = [check_file(path, run=run, record=record, replace=replace) for path in args.files]
    if getattr(args, "json", False):
        print(json.dumps([r.to_json() for r in reports], indent=2, default=str))
    else:
        for report in reports:
            for line in report.lines():
                print(line)
        if len(reports) > 1:
            bad = sum(1 for r in reports if r.errors)
            print(f"{len(reports)} file{'' if len(reports) == 1 else 's'} checked: {bad} with errors")
    return 1 if any(r.errors for r in reports) else 0


def cmd_sweep(args) -> int:
    """`story sweep FILE [SWEEP_ID] ...`: 0 when the sweeps ran (whatever their verdict), 1 when the story or
    a sweep has errors, 2 (an ExplorerError) for a usage mistake."""
    from explorer.stories.messages import errors
    from explorer.stories.sensitivity import GRID_POINTS, TRAJECTORIES, get_sweep, report, run_sweep, sweep_problems

    use_scenario_dirs(args)
    path = Path(args.file)
    story = _load(path)
    if story is None:
        return 1
    if args.sweep_id is not None:
        ids = [get_sweep(story, args.sweep_id).id]
    elif story.sweeps:
        ids = [s.id for s in story.sweeps]
    else:
        raise ExplorerError(f"{path.name} defines no sweeps; add one under `sweeps:` in its front matter")
    for sweep_id in ids:
        if args.points is None:
            break
        morris = len(get_sweep(story, sweep_id).assumptions) > 2
        lo, hi = TRAJECTORIES if morris else GRID_POINTS
        if not lo <= args.points <= hi:
            what = "Morris trajectories" if morris else "grid points per assumption"
            raise ExplorerError(f"--points: {args.points} is not valid for sweep {sweep_id}; it takes {lo} to {hi} {what}")
    if args.workers is not None and args.workers < 1:
        raise ExplorerError(f"--workers: {args.workers} is not valid; expected an integer >= 1")

    problems = []  # check every requested sweep before running any
    for sweep_id in ids:
        messages = sweep_problems(story, get_sweep(story, sweep_id), args.points)
        for m in messages:
            if m.severity == "warning":
                print(m.located(path.name), file=sys.stderr)
        problems += errors(messages)
    if problems:
        for m in problems:
            print(m.located(path.name), file=sys.stderr)
        return 1

    results = []
    for sweep_id in ids:
        with progress_bar(f"sweep {sweep_id}", "point", total=0, disable=not args.progress) as progress:
            results.append(run_sweep(story, sweep_id, points=args.points, workers=args.workers,
                                     scheduler=args.scheduler, progress=progress))
    if args.json:
        print(json.dumps(jsonable({"file": path.name, "title": story.title, "sweeps": [r.to_dict() for r in results]}),
                         indent=2, allow_nan=False))
    else:
        print("\n\n".join(report(r) for r in results))
    return 0


def cmd_export(args) -> int:
    """`story export FILE --format F [-o PATH] [--no-run]`: 0 written, 1 the story has errors (printed,
    located), 2 (an ExplorerError) for a usage mistake."""
    from explorer.stories import fileformat
    from explorer.stories.export import export
    from explorer.stories.messages import errors
    from explorer.stories.validate import validate
    from explorer.ui.story_html import sweep_plots

    use_scenario_dirs(args)
    path = Path(args.file)
    story = _load(path)
    if story is None:
        return 1
    messages = validate(story, path.name)
    for m in messages:
        print(m, file=sys.stderr)
    if errors(messages):
        print(f"{path.name}: not exported; fix the errors above first (`story check` shows them too)", file=sys.stderr)
        return 1
    output = Path(args.output) if getattr(args, "output", None) else None
    if output is not None and not output.parent.is_dir():
        raise ExplorerError(f"--output {args.output}: the folder {output.parent} does not exist")
    name = path.name.removesuffix(fileformat.SUFFIX).removesuffix(".md") or "story"
    with ExitStack() as bars:
        progress = None
        if sys.stderr.isatty():
            shown = {}

            def progress(sweep_id, done, total):
                if sweep_id not in shown:
                    shown[sweep_id] = bars.enter_context(progress_bar(f"sweep {sweep_id}", "point", total=0))
                shown[sweep_id](done, total)

        text = export(story, args.format, run=getattr(args, "run", True), name=name,
                      workers=getattr(args, "workers", None), progress=progress, plots=sweep_plots)
    if output is None:
        sys.stdout.write(text)
    else:
        fileformat.write_atomic(output, text)
        print(f"wrote {output} ({args.format}, {len(text.encode('utf-8')):,} bytes)", file=sys.stderr)
    return 0


def cmd_diff(args) -> int:
    """`story diff OLD NEW [--json]`: 0 when both files read (whether or not they differ), 1 when one cannot
    be read as a story (its located messages are printed)."""
    from explorer.stories.diff import diff

    stories = []
    for name in (args.old, args.new):
        story = _load(name)
        if story is None:
            return 1
        stories.append(story)
    result = diff(*stories)
    if getattr(args, "json", False):
        data = {"old_file": str(args.old), "new_file": str(args.new), **result.to_json_data()}
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(result.text(Path(args.old).name, Path(args.new).name))
    return 0


def cmd_save(args) -> int:
    """`story save FILE NAME [--author A]`: 0 saved, 1 the file is not a story, 2 (ExplorerError) a bad name or
    author, or a conflict: the library's story moved on from the revision the file was made from."""
    from explorer.editor_access import check_author, default_author
    from explorer.stories.library import StoryLibrary

    author = check_author(args.author, "--author") if args.author is not None else default_author()
    story = _load(args.file)
    if story is None:
        return 1
    library = StoryLibrary(args.library)
    if library.exists(args.name):
        saved = library.save(story, args.name, story.revision, author=author)
    else:
        saved = library.save_as(story, args.name, author=author)
    print(f"saved {args.name} (revision {saved.revision}) by {author} in {library.folder}", file=sys.stderr)
    return 0


def cmd_history(args) -> int:
    """`story history NAME`: the revision on disk and the kept ones, newest first, with their authors."""
    from explorer.stories.library import StoryLibrary

    library = StoryLibrary(args.library)
    revision = library.revision(args.name)
    now = library.saved_by(args.name, revision)
    rows = [(revision, getattr(now, "author", None), getattr(now, "saved", None), " (current)")]
    rows += [(r.revision, r.author, r.saved, "") for r in reversed(library.history(args.name))]
    for number, author, saved, note in rows:
        print(f"revision {number}{note}: " + (f"saved by {author}, {saved}" if author else "author not recorded"))
    return 0


def cmd_schema(args) -> int:
    """`story schema`: the published schema, generated from the loader's own key lists and parameters."""
    from explorer.stories.schema import schema_text

    sys.stdout.write(schema_text())
    return 0
