"""The answer parser on well-formed, malformed, hostile and huge responses."""

import time

import pytest

from g1bench.core.answer import (
    MAX_ANSWER_CHARS, ParseError, extract_tag, format_ok, parse_int_answer, parse_pair_answer,
    perception_exact, perception_substring,
)

GOOD = "<perception>\n x \n</perception><think>hmm</think><answer>(1, 2) (3, 4)</answer>"


def test_pair_answer_forms():
    assert parse_pair_answer(GOOD, 6, 6) == (1, 2, 3, 4)
    assert parse_pair_answer("<answer>(1,2)(3,4)</answer>", 6, 6) == (1, 2, 3, 4)
    assert parse_pair_answer("<answer> ( 10 , 11 ) and ( 9 ,11 ) </answer>", 12, 12) == (10, 11, 9, 11)


def test_last_answer_block_wins():
    text = "<think>format is <answer>(0, 0) (0, 0)</answer></think><answer>(1, 1) (2, 2)</answer>"
    assert parse_pair_answer(text, 6, 6) == (1, 1, 2, 2)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "no <answer>"),
        ("(1, 2) (3, 4)", "no <answer>"),
        ("<answer>(1, 2) (3, 4)", "no <answer>"),
        ("<answer></answer>", "empty <answer>"),
        ("<answer>(1, 2)</answer>", "expected two coordinates"),
        ("<answer>(1, 2) (3, 4) (5, 5)</answer>", "exactly two"),
        ("<answer>(6, 0) (0, 0)</answer>", "outside the 6x6 board"),
        ("<answer>(0, 7) (1, 2)</answer>", "outside the 6x6 board"),  # the original aliased this to (1, 1)
        ("<answer>(-1, 0) (0, 0)</answer>", "expected two coordinates"),
        ("<answer>" + "1" * 300 + "</answer>", "too long"),
        ("<answer>(99999, 1) (1, 1)</answer>", "expected two coordinates"),
    ],
)
def test_pair_answer_errors(text, reason):
    out = parse_pair_answer(text, 6, 6)
    assert isinstance(out, ParseError) and not out
    assert reason in out.reason


@pytest.mark.parametrize("bad", [None, 3, b"<answer>1</answer>", ["<answer>1</answer>"], {"a": 1}])
def test_non_text_never_raises(bad):
    assert isinstance(parse_pair_answer(bad, 6, 6), ParseError)
    assert isinstance(parse_int_answer(bad, 4), ParseError)
    assert format_ok(bad) is False
    assert perception_exact(bad, "x") is False


def test_int_answer():
    assert parse_int_answer("<answer>Action 3 (Left)</answer>", 4) == 3
    assert parse_int_answer("<answer>up</answer>", 4).reason.startswith("no action number")
    assert "out of range" in parse_int_answer("<answer>-1</answer>", 4).reason
    assert "out of range" in parse_int_answer("<answer>" + "9" * 40 + "</answer>", 4).reason


@pytest.mark.parametrize(
    "hostile",
    [
        "<answer>" * 200_000,
        "</answer>" * 200_000,
        "<answer>(" * 100_000 + "</answer>",
        "<answer>" + "(1," * 80 + "</answer>",
        "9" * 1_000_000,
        "<perception>" * 100_000 + "<answer>1</answer>",
        "\x00\udcff<answer>\u202e(1, 1) (1, 2)</answer>",
    ],
)
def test_hostile_inputs_are_fast_and_never_raise(hostile):
    t = time.perf_counter()
    parse_pair_answer(hostile, 12, 12)
    parse_int_answer(hostile, 4)
    format_ok(hostile)
    perception_exact(hostile, " 2 | - ")
    assert time.perf_counter() - t < 1.0


def test_huge_answer_is_rejected_not_scanned():
    out = parse_int_answer("<answer>" + "x" * (MAX_ANSWER_CHARS + 1) + "</answer>", 4)
    assert "too long" in out.reason


def test_format_reward_is_the_papers_six_tags_in_any_order():
    assert format_ok(GOOD)
    assert format_ok("<answer>1</answer><think></think><perception></perception>")
    assert not format_ok("<think></think><answer>1</answer>")


def test_perception_checks():
    truth = " 2 | - \n - | 4 "
    assert perception_exact("<perception>\n 2 | - \n - | 4 \n</perception>", truth)
    assert not perception_exact("<perception> 2 | - \n - | 8 </perception>", truth)
    assert not perception_exact("no block", truth)
    assert perception_substring("blah 2 | - \n - | 4 blah", truth)
    assert not perception_substring("2|-\n-|4", truth)


def test_extract_tag_first_and_last():
    text = "<a>1</a><a>2</a>"
    assert extract_tag(text, "a") == "2" and extract_tag(text, "a", last=False) == "1"
    assert extract_tag("<a>1", "a") is None
