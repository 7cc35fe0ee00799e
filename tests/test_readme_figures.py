"""README figures: the fast commands agree with README.md, and no figure in it goes unchecked."""

import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from explorer import readme_figures as rf

MANIFEST = rf.load_manifest()
README = rf.README.read_text(encoding="utf-8")
FAST = [e for e in MANIFEST.entries if e.fast or e.file]


@pytest.fixture(scope="module")
def outputs():
    """Every fast command's output, the commands run side by side (each is its own process)."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        futures = {e.command: pool.submit(rf.output_of, e) for e in FAST}
    return {command: f.result() for command, f in futures.items()}


@pytest.mark.parametrize("entry", FAST, ids=[e.command.removeprefix("python -m explorer ")[:60] for e in FAST])
def test_a_fast_command_gives_the_figures_readme_shows(entry, outputs):
    result = rf.check_entry(entry, README, outputs[entry.command])
    assert result.problems == [], "\n".join(result.problems)


def test_every_figure_in_the_readme_has_a_check():
    missing = rf.coverage(MANIFEST, README)
    assert missing == [], ("README figures that no entry of assets/readme-figures.yaml covers (add an entry, or name "
                           "them under not_figures or unchecked with a reason):\n" + "\n".join(missing))


def test_every_unchecked_passage_and_not_figure_is_still_in_the_readme():
    flat = rf.squash(README)
    stale = [p for p in [*MANIFEST.unchecked, *MANIFEST.not_figures] if not re.search(p, flat)]
    assert stale == [], f"patterns that match nothing in README.md: {stale}"


def test_a_changed_figure_is_caught_and_named():
    entry = rf.Entry(command="python -m explorer select --scenario parity-measured --json",
                     figures=["The combined prior puts {priors.combined.mass.honest:.2f} on honest programs."])
    output = '{"priors": {"combined": {"mass": {"honest": 0.5}}}}'
    result = rf.check_entry(entry, "Text. The combined prior puts 0.89 on honest\nprograms. More.", output)
    assert result.problems == ["README says 'The combined prior puts 0.89 on honest programs.'; the output gives "
                               "'The combined prior puts 0.50 on honest programs.'"]
    ok = rf.check_entry(entry, "The combined prior puts 0.50 on\nhonest programs.", output)
    assert ok.problems == [] and ok.spans


def test_a_console_block_must_show_lines_the_command_prints():
    readme = "```console\n$ python -m explorer x --y\na 1.0\n...\nc 3.0\n```\n"
    entry = rf.Entry(command="python -m explorer x --y", block=True)
    assert rf.check_entry(entry, readme, "a 1.0\nb 2.0\nc 3.0\n").problems == []
    assert rf.check_entry(entry, readme, "a 1.0\nb 2.0\nc 3.1\n").problems == [
        "README shows a line the command does not print: 'c 3.0'"]


def test_a_new_figure_without_an_entry_is_reported():
    readme = README + "\n\nA new measurement: `python -m explorer select` gives 0.4242 on honest programs.\n"
    assert any("0.4242" in line for line in rf.coverage(MANIFEST, readme))
    assert not any("0.4242" in line for line in rf.coverage(MANIFEST, readme.replace("0.4242", "`0.4242`")))


def test_a_recorded_figure_must_name_its_record():
    entry = rf.Entry(command="python -m explorer bench", file="assets/benchmarks/core-cpu.txt",
                     values={"bw": r"copy of a warmed .*: ([\d.]+) GB/s"}, figures=["bandwidth {bw:.1f} GB/s"])
    bw = float(re.search(r"copy of a warmed .*: ([\d.]+) GB/s", (rf.ROOT / entry.file).read_text()).group(1))
    named = f"## Bench\n\nFrom [`x`](assets/benchmarks/core-cpu.txt): bandwidth {bw:.1f} GB/s.\n"
    assert rf.check_entry(entry, named).problems == []
    unnamed = f"## Bench\n\nbandwidth {bw:.1f} GB/s.\n"
    assert "names neither" in rf.check_entry(entry, unnamed).problems[0]
