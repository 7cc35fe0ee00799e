"""The machine's reference interpreter and the program space: semantics as the issue states them."""

import math

import pytest

from explorer.errors import ExplorerError
from explorer.worlds.enumerated.machine import ALL_INSTRUCTIONS, INSTRUCTIONS, LONG_FROM, parse, run
from explorer.worlds.enumerated.spaces import BITS_PER_INSTRUCTION, enumerate_programs, valid_mask
from explorer.worlds.enumerated.tasks import correct, parse_bits


@pytest.mark.parametrize("program, x, f, expected", [
    ("LOOP XORX END", [1, 0, 1, 1], 0, (1, 9)),         # LOOP once, then XORX + END per pass
    ("LOOP ADDX END", [1, 1, 0], 0, (2, 7)),
    ("INC DEC DEC", [1], 0, (-1, 3)),
    ("DEC XORX", [1], 0, (-2, 2)),                       # two's complement: -1 ^ 1 == -2
    ("NEXT ADDX", [0, 1], 0, (1, 2)),
    ("NEXT NEXT ADDX", [1, 1], 0, (0, 3)),               # x[j] for j >= n reads 0
    ("IFX INC INC", [0], 0, (1, 2)),                     # skipped instruction is no step
    ("IFX INC INC", [1], 0, (2, 3)),
    ("IFDEP INC", [1], 0, (0, 1)),                       # reading the flag is a step
    ("IFDEP INC", [1], 1, (1, 2)),
    ("IFX LOOP INC END INC", [0, 1], 0, (1, 2)),         # a skipped LOOP skips the whole loop
    ("LOOP NEXT END ADDX", [0, 0, 1], 0, (0, 8)),        # after the loop i keeps its last value (2 + 1)
    ("LOOP INC HALT END INC", [1, 1], 0, (1, 3)),
    ("NOP NOP", [1], 0, (0, 2)),
])
def test_reference_semantics(program, x, f, expected):
    assert run(program, x, f) == expected


def test_step_limit_fails_the_run():
    assert run("LOOP INC END", [1] * 5, step_limit=4) == (None, 4)
    assert run("LOOP INC END", [1] * 5, step_limit=11) == (5, 11)
    assert not correct("count", None, [1])


def test_trace_records_each_step():
    trace = []
    run("LOOP XORX END", [1, 1], trace=trace)
    assert [name for _, name, _, _ in trace] == ["LOOP", "XORX", "END", "XORX", "END"]


@pytest.mark.parametrize("text, word", [
    ("LOOP XORX FOO", "FOO"), ("LOOP LOOP END END", "nested"), ("END", "no LOOP"),
    ("LOOP IFX END", "IFX directly before END"), ("LOOP INC", "without a matching END")])
def test_bad_programs_name_the_problem(text, word):
    with pytest.raises(ExplorerError, match=word):
        parse(text)


def test_bad_input_bits():
    with pytest.raises(ExplorerError, match="bit string"):
        parse_bits("10a1")


def test_space_counts_and_rules():
    space = enumerate_programs(4)
    assert [int((space.lengths == k).sum()) for k in range(1, 5)] == [9, 82, 754, 6994]
    assert valid_mask(space.codes[space.lengths == 4][:, :4]).all()
    assert math.isclose(space.bits[0], BITS_PER_INSTRUCTION) and BITS_PER_INSTRUCTION == math.log2(len(INSTRUCTIONS))
    for row in range(0, len(space), 97):  # every listed program parses back to itself
        assert parse(space.listing(row)) == space.program(row)
    with pytest.raises(ExplorerError, match="max_length"):
        enumerate_programs(9)


@pytest.mark.parametrize("program, x, expected", [
    ("IFSHORT INC INC", [1, 0], (2, 3)),                 # n = 2 < 3: short, the next instruction runs
    ("IFSHORT INC INC", [1, 0, 1], (1, 2)),              # n = 3: long, skipped (the test is still a step)
    ("IFSHORT NOP LOOP XORX END", [1], (1, 5)),          # wastes a step only on a short input
    ("IFSHORT NOP LOOP XORX END", [1, 1, 1], (1, 8)),
    ("LOOP IFSHORT INC ADDX END", [1, 1], (4, 9)),
    ("IFSHORT LOOP INC END", [1, 1, 1, 1], (0, 1)),      # a skipped LOOP skips its whole loop
])
def test_ifshort_runs_the_next_instruction_only_on_short_inputs(program, x, expected):
    assert LONG_FROM == 3
    assert run(program, x) == expected


def test_ifshort_threshold_is_a_parameter():
    assert run("IFSHORT INC", [1]) == (1, 2)
    assert run("IFSHORT INC", [1], long_from=1) == (0, 1)
    assert run("IFSHORT INC", [1, 1, 1, 1], long_from=5) == (1, 2)


def test_ifshort_is_only_in_the_slack_set():
    assert ALL_INSTRUCTIONS[:len(INSTRUCTIONS)] == INSTRUCTIONS and ALL_INSTRUCTIONS[-1] == "IFSHORT"
    with pytest.raises(ExplorerError, match="slack"):
        parse("IFSHORT NOP", instructions="basic")
    with pytest.raises(ExplorerError, match="IFSHORT directly before END"):
        parse("LOOP IFSHORT END")
    with pytest.raises(ExplorerError, match="instruction_set"):
        parse("NOP", instructions="fancy")


def test_default_space_is_unchanged_and_slack_space_adds_ifshort():
    basic, slack = enumerate_programs(5), enumerate_programs(5, "slack")
    assert len(basic) == 73_247 and basic.instructions == "basic"
    assert math.isclose(basic.bits[0], math.log2(11)) and math.isclose(slack.bits[0], math.log2(12))
    assert len(slack) == 119_893
    # the slack space is the basic one plus the programs that use IFSHORT
    assert int((slack.codes == len(INSTRUCTIONS)).any(axis=1).sum()) == len(slack) - len(basic)
