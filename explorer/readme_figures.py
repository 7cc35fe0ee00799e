"""Every figure in README.md checked against the command it comes from.

The manifest, assets/readme-figures.yaml, lists commands and, for each, the README text its figures sit
in, written as a template: `mass on wasteful programs ({priors.max_speed.mass.goof_off:.2f} and ...)`. A
placeholder is a path into the command's JSON output, or the name of a `values` regex on its text
output (its first group; `name.2` its second), or arithmetic on those (`{programs / 1e6:.1f}`,
`{avg - max:.3f}`), with an optional format spec. The checker runs each command, fills in the template
and looks for the result in README.md (whitespace runs count as one space, so line breaks do not
matter); where it is missing it says what the README has in its place. An entry with `block: true`
checks a console block instead: the lines README shows after `$ COMMAND` must be lines of the output, in
order (`...` skips). An entry with `file:` reads a recorded output (a GPU run, a benchmark, a batch job)
instead of running anything, and README must name that file (and `named_as`, how it names the command)
in the same section: timings are compared with their record, never with a new run.

    python -m explorer.readme_figures [--all] [--only TEXT] [--coverage]

runs the fast entries (`fast: true`, or a recorded file), or all of them; `--coverage` lists every
figure-looking number in README.md that no entry covers (tests/test_readme_figures.py fails on one).
Figure-looking: a decimal (0.73), a number with thousands separators (73,247), a percentage or a ratio
(5%, 224x), outside fenced code that is not a console block and outside inline code; `not_figures` in
the manifest names the ones that are settings or limits, not measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.errors import ExplorerError
from explorer.yamlfile import load as load_yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MANIFEST = ROOT / "assets" / "readme-figures.yaml"

#: A measurement-looking number: thousands separators, a decimal, a percentage or a ratio.
FIGURE = re.compile(r"(?<![\w.,/=+-])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+(?:\.\d+)?%|\d+(?:\.\d+)?x)(?![\w%]|\.\d)")
PLACEHOLDER = re.compile(r"\{([^{}:]+)(?::([^{}]*))?\}")
ENTRY_KEYS = {"command", "fast", "block", "file", "named_as", "values", "figures", "timeout", "note"}


@dataclass
class Entry:
    command: str
    fast: bool = False
    block: bool = False
    file: str | None = None
    named_as: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    timeout: int = 300
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.command}" + (f" (recorded in {self.file})" if self.file else "")


@dataclass
class Manifest:
    entries: list[Entry]
    not_figures: list[str]
    unchecked: dict[str, str] = field(default_factory=dict)  # README pattern -> why no entry checks it yet


def load_manifest(path: Path = MANIFEST) -> Manifest:
    data = load_yaml(path.read_text(encoding="utf-8"), path, "README figures manifest")
    entries = []
    for i, raw in enumerate(data.get("entries") or []):
        unknown = set(raw) - ENTRY_KEYS
        if unknown or "command" not in raw:
            raise ExplorerError(f"{path.name}: entry {i + 1}: needs `command`; unknown keys: {sorted(unknown)}")
        entries.append(Entry(**raw))
    unchecked = {str(u["readme"]): str(u["why"]) for u in data.get("unchecked") or []}
    return Manifest(entries, [str(t) for t in data.get("not_figures") or []], unchecked)


def squash(text: str) -> str:
    """Whitespace runs as one space: README wraps its lines anywhere."""
    return re.sub(r"\s+", " ", text)


# ---- running --------------------------------------------------------------------------------------

def output_of(entry: Entry) -> str:
    """The command's output (stdout), or the recorded file's text."""
    if entry.file:
        return (ROOT / entry.file).read_text(encoding="utf-8")
    argv = shlex.split(entry.command)
    if argv[:2] == ["python", "-m"]:
        argv[0] = sys.executable
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=entry.timeout, env=env)
    if run.returncode not in (0, 1):  # 1: a check failed, which some commands report on purpose
        raise ExplorerError(f"{entry.command}: exit {run.returncode}: {run.stderr.strip()[-500:]}")
    return run.stdout


def context(entry: Entry, output: str) -> dict[str, Any]:
    """What placeholders may name: the `values` regexes' first groups, and the JSON output, if it is JSON."""
    ctx: dict[str, Any] = {}
    for name, pattern in entry.values.items():
        m = re.search(pattern, output, re.MULTILINE)
        ctx[name] = m.group(1) if m else None
        for i, group in enumerate(m.groups() if m else (), 1):  # several groups: name.1, name.2, ...
            ctx[f"{name}.{i}"] = group
    try:
        ctx["$json"] = json.loads(output)
    except ValueError:
        pass
    return ctx


def lookup(ctx: dict[str, Any], path: str) -> Any:
    if path in ctx:
        return ctx[path]
    if "$json" not in ctx:
        raise KeyError(path)
    value = ctx["$json"]
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def render(template: str, ctx: dict[str, Any]) -> str:
    def one(m):
        body, spec = m.group(1).strip(), m.group(2) or ""
        if NAME.fullmatch(body):  # one value, formatted as it is (a number as text keeps its digits)
            value = lookup(ctx, body)
            if value is None:  # JSON null, as the commands print it
                return "none"
            if spec and isinstance(value, str):
                value = number(value)
            return format(value, spec)
        return format(arithmetic(body, ctx), spec)

    return PLACEHOLDER.sub(one, template)


#: A value's name in a placeholder: a `values` name or a JSON path (list items by number).
NAME = re.compile(r"[A-Za-z_][\w.]*")


def number(text: str) -> float:
    return float(text.replace(",", "").rstrip("%x"))


def arithmetic(expression: str, ctx: dict[str, Any]) -> float:
    """`a - b`, `n / 1e6`, `(a + b) * 2`: names looked up, then only numbers and + - * / ( ) evaluated."""
    def value(m):
        if m.group(0)[0].isdigit():
            return m.group(0)
        v = lookup(ctx, m.group(0))
        return repr(number(v) if isinstance(v, str) else float(v))

    plain = re.sub(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_][\w.]*", value, expression)
    if not re.fullmatch(r"[\d.eE+\-*/() ]+", plain):
        raise ValueError(f"{expression!r} is not arithmetic on figures")
    return float(eval(plain, {"__builtins__": {}}, {}))  # digits and operators only, checked above


def pattern_of(template: str) -> re.Pattern:
    """The template as a regex: its literal text exact (whitespace free), each placeholder any figure."""
    parts, last = [], 0
    for m in PLACEHOLDER.finditer(template):
        parts.append(re.escape(squash(template[last : m.start()])).replace(r"\ ", r"\s*"))
        parts.append(r"(\S+?)")
        last = m.end()
    parts.append(re.escape(squash(template[last:])).replace(r"\ ", r"\s*"))
    return re.compile("".join(parts))


def console_blocks(readme: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, lines) of each ```console block, offsets into the README text."""
    out = []
    for m in re.finditer(r"^```console\n(.*?)^```", readme, re.MULTILINE | re.DOTALL):
        out.append((m.start(), m.end(), m.group(1).splitlines()))
    return out


def shown_output(readme: str, command: str) -> tuple[tuple[int, int], list[str]] | None:
    """The span of the console block where README runs `$ command`, and the lines it shows after it."""
    short = command.removeprefix("python -m explorer ").strip()
    for start, end, lines in console_blocks(readme):
        for i, line in enumerate(lines):
            ran = line[2:].split("  #")[0].strip() if line.startswith("$ ") else None
            if ran and ran.removeprefix("python -m explorer ").strip() == short:
                shown = []
                for after in lines[i + 1 :]:
                    if after.startswith("$ "):
                        break
                    shown.append(after)
                return (start, end), shown
    return None


def section_of(readme: str, offset: int) -> str:
    """The README section (from its heading to the next heading of any level) around `offset`."""
    heads = [m.start() for m in re.finditer(r"^#{2,4} ", readme, re.MULTILINE)]
    start = max([h for h in heads if h <= offset], default=0)
    end = min([h for h in heads if h > offset], default=len(readme))
    return readme[start:end]


# ---- checking -------------------------------------------------------------------------------------

@dataclass
class Result:
    entry: Entry
    problems: list[str]
    spans: list[tuple[int, int]]  # covered README spans (in the squashed text)


def check_entry(entry: Entry, readme: str, output: str | None = None) -> Result:
    """Compare one entry's figures with README.md's text; `output` defaults to running the command."""
    problems: list[str] = []
    spans: list[tuple[int, int]] = []
    flat = squash(readme)
    if output is None:
        output = output_of(entry)
    if entry.block:
        found = shown_output(readme, entry.command)
        if found is None:
            problems.append(f"README has no console block running `$ {entry.command}`")
        else:
            (start, end), shown = found
            lines = [line.rstrip() for line in output.splitlines()]
            at = 0
            for line in shown:
                if line.strip() in ("", "..."):
                    continue
                try:
                    at = lines.index(line.rstrip(), at) + 1
                except ValueError:
                    problems.append(f"README shows a line the command does not print: {line.strip()!r}")
            block = squash(readme[start:end])
            i = flat.find(block)
            spans.append((i, i + len(block)))
    ctx = context(entry, output)
    for template in entry.figures:
        try:
            want = squash(render(template, ctx))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            m = pattern_of(template).search(flat)
            spans.extend([m.span()] if m else [])
            problems.append(f"{template[:60]!r}: the output has no {exc}" if output else "not run")
            continue
        i = flat.find(want)
        if i >= 0:
            spans.append((i, i + len(want)))
            continue
        m = pattern_of(template).search(flat)
        if m:
            spans.append(m.span())
            problems.append(f"README says {m.group(0)!r}; the output gives {want!r}")
        else:
            problems.append(f"README has no text like {want!r}")
    if entry.file and entry.figures and spans:
        section = section_of(flat, spans[-1][0])
        folder = entry.file.rsplit("/", 1)[0] + "/"  # a link to the folder of records names them all
        if entry.file not in section and f"({folder})" not in section:
            problems.append(f"the README section with these figures names neither {entry.file!r} nor its folder")
        if entry.named_as and entry.named_as not in section:
            problems.append(f"the README section with these figures does not name {entry.named_as!r}")
    return Result(entry, problems, spans)


def uncovered(readme: str, results: list[Result], not_figures: list[str]) -> list[str]:
    """Figure-looking numbers in README.md that no entry's text and no `not_figures` pattern covers."""
    flat, where = squash_map(readme)
    covered = [span for r in results for span in r.spans]
    covered += [m.span() for t in not_figures for m in re.finditer(t, flat)]
    covered = [(where[a], where[b - 1] + 1) for a, b in covered if b > a]  # in README.md's own offsets
    # Not figures: fenced code that is not a console block (examples), and inline code (commands, settings).
    keep = blank_examples(readme)
    out = []
    for m in FIGURE.finditer(keep):
        if not any(a <= m.start() < b for a, b in covered):
            line = readme.count("\n", 0, m.start()) + 1
            out.append(f"README.md:{line}: {m.group(1)}  ({squash(readme[max(0, m.start() - 40) : m.end() + 20]).strip()})")
    return out


def blank_examples(readme: str) -> str:
    """README.md with fenced code other than console blocks, and inline code, blanked (same length)."""
    lines, out, fence = readme.splitlines(keepends=True), [], None
    for line in lines:
        if line.startswith("```"):
            fence = line[3:].strip() if fence is None else None
            out.append(" " * len(line))
        else:
            out.append(" " * len(line) if fence not in (None, "console") else line)
    return re.sub(r"`[^`\n]+`", lambda m: " " * len(m.group(0)), "".join(out))


def squash_map(text: str) -> tuple[str, list[int]]:
    """squash(text), and for each of its characters the offset in `text` it came from."""
    out, where = [], []
    for m in re.finditer(r"\s+|\S+", text):
        if m.group(0)[0].isspace():
            out.append(" ")
            where.append(m.start())
        else:
            out.append(m.group(0))
            where.extend(range(m.start(), m.end()))
    return "".join(out), where


def coverage(manifest: Manifest, readme: str) -> list[str]:
    """README figures no entry covers, found without running anything (each entry's text located by its
    template alone)."""
    located = [check_entry(e, readme, output="" if not e.file else None) for e in manifest.entries]
    return uncovered(readme, located, [*manifest.not_figures, *manifest.unchecked])


def run_checks(entries: list[Entry], readme: str | None = None, progress=print) -> list[Result]:
    readme = README.read_text(encoding="utf-8") if readme is None else readme
    results = []
    for entry in entries:
        try:
            result = check_entry(entry, readme)
        except (ExplorerError, OSError, subprocess.TimeoutExpired) as exc:
            result = Result(entry, [str(exc)], [])
        if progress:
            progress(f"[{'ok' if not result.problems else 'FAILED'}] {entry.label}")
            for p in result.problems:
                progress(f"    {p}")
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.readme_figures", description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="also the slow commands (training, large enumerations)")
    parser.add_argument("--only", help="only entries whose command contains this text")
    parser.add_argument("--coverage", action="store_true", help="list README figures no entry covers (exit 1 if any)")
    args = parser.parse_args(argv)
    try:
        manifest = load_manifest()
    except ExplorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    readme = README.read_text(encoding="utf-8")
    entries = [e for e in manifest.entries if (args.all or e.fast or e.file) and (not args.only or args.only in e.command)]
    if args.coverage:
        missing = coverage(manifest, readme)
        for line in missing:
            print(line)
        flat = squash(readme)
        for pattern, why in manifest.unchecked.items():
            print(f"unchecked{'' if re.search(pattern, flat) else ' (no longer in README)'}: {pattern!r}: {why}")
        print(f"{len(missing)} README figures without a check; {len(manifest.unchecked)} passages named as unchecked")
        return 1 if missing else 0
    results = run_checks(entries, readme)
    failed = sum(bool(r.problems) for r in results)
    print(f"{len(results) - failed} of {len(results)} commands agree with README.md"
          + ("" if args.all else " (fast ones; --all for every command)"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
