"""Hypothesis strategies for random valid programs of the enumerated world's machine (the interpreters'
tests draw from these)."""

from hypothesis import strategies as st

from explorer.errors import ExplorerError
from explorer.worlds.enumerated.machine import ALL_INSTRUCTIONS, IFSHORT, INSTRUCTIONS, check


def _valid(program):
    try:
        check(program)
        return True
    except ExplorerError:
        return False


#: Programs of the basic instruction set, up to eight instructions.
programs = st.lists(st.integers(0, len(INSTRUCTIONS) - 1), min_size=1, max_size=8).filter(_valid)
#: The slack set's programs, each with at least one IFSHORT (so the new instruction is always exercised).
slack_programs = (st.lists(st.integers(0, len(ALL_INSTRUCTIONS) - 1), min_size=1, max_size=8)
                  .map(lambda p: p if IFSHORT in p else [IFSHORT, *p]).filter(_valid))
