"""The answer grammars (``g1`` and ``lenient``) on well-formed, malformed, hostile and huge responses."""

import re
import time

import pytest

import g1bench
from g1bench.core.answer import (
    GRAMMARS, MAX_ANSWER_CHARS, ParseError, extract_tag, format_ok, parse_int_answer, parse_pair_answer,
    perception_exact, perception_substring, tag_blocks,
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
        ("<answer>(99999, 1) (1, 1)</answer>", "outside the 6x6 board"),  # read whole, not capped at 4 digits
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


# -- the two grammars, case by case ---------------------------------------------------------------------
# Each row: an answer, what the `g1` grammar must read, what `lenient` must read, and (when `g1` departs from
# the original code on it) which of the README's departures applies. A move is an int (2048) or a tuple;
# a string is a substring of the ParseError's reason. Every row without a departure must also be read the
# same way by G1's own patterns (see `original_*` below).

LONG = "x" * 300  # makes an answer block longer than MAX_ANSWER_CHARS

INT_CASES = [
    # id, answer, g1, lenient, departure
    ("plain", "<answer>2</answer>", 2, 2, None),
    ("padding", "<answer> 2 </answer>", 2, 2, None),
    ("newlines", "<answer>\n2\n</answer>", 2, 2, None),
    ("words", "<answer>Move 0 (Up)</answer>", 0, 0, None),
    ("labelled-line", "<answer>\nAction: 3\n</answer>", 3, 3, None),
    ("trailing-period", "<answer>3.</answer>", 3, 3, None),
    ("zero-padded", "<answer>0000001</answer>", 1, 1, None),  # the old lenient parser read 0 (Up)
    ("zero-padded-long", "<answer>" + "0" * 50 + "2</answer>", 2, 2, None),
    ("other-script-digit", "<answer>\u0663</answer>", 3, 3, None),  # Arabic-Indic 3: \d and int() read it
    ("first-vs-last", "<answer>1</answer> or rather <answer>2</answer>", 1, 2, None),
    ("first-block-has-no-digit", "<answer>left</answer> I mean <answer>3</answer>", 3, 3, None),
    ("long-block", "<answer>" + LONG + " 2</answer>", 2, "too long", None),
    ("out-of-range", "<answer>4</answer>", "out of range 0-3", "out of range 0-3", None),
    ("huge-number", "<answer>" + "9" * 40 + "</answer>", "out of range", "out of range", None),
    ("no-number", "<answer>Up</answer>", "no action number", "no action number", None),
    ("digit-after-the-block", "<answer>up</answer> 2", "no action number", "no action number", None),
    ("no-block", "2", "no <answer>", "no <answer>", None),
    ("unclosed-only", "<answer>2", "no <answer>", "no <answer>", None),
    ("minus-zero", "<answer>-0</answer>", 0, 0, None),
    ("negative", "<answer>-1</answer>", "out of range", "out of range", "negative"),
    ("quoted-empty-block", "<think>I answer in <answer></answer>. Left (3) merges.</think><answer>1</answer>",
     1, 1, "outside-block"),
    ("unclosed-then-block", "<answer>3 no, wait\n<answer>1</answer>", 1, 1, "outside-block"),
]

PAIR_CASES = [
    ("plain", "<answer>(1, 2) (3, 4)</answer>", (1, 2, 3, 4), (1, 2, 3, 4), None),
    ("no-spaces", "<answer>(1,2)(3,4)</answer>", (1, 2, 3, 4), (1, 2, 3, 4), None),
    ("newline-after-comma-and-between", "<answer>(1,\n2)\n(3,\t4)</answer>", (1, 2, 3, 4), (1, 2, 3, 4), None),
    ("padding", "<answer> (1, 2) (3, 4) </answer>", "exactly '(row1, col1) (row2, col2)'", (1, 2, 3, 4), None),
    ("newline-padding", "<answer>\n(1, 2) (3, 4)\n</answer>", "exactly", (1, 2, 3, 4), None),
    ("spaces-inside-parentheses", "<answer>( 1, 2 ) ( 3, 4 )</answer>", "exactly", (1, 2, 3, 4), None),
    ("space-before-comma", "<answer>(1 , 2) (3, 4)</answer>", "exactly", (1, 2, 3, 4), None),
    ("word-between", "<answer>(1, 2) and (3, 4)</answer>", "exactly", (1, 2, 3, 4), None),
    ("comma-between", "<answer>(1, 2), (3, 4)</answer>", "exactly", (1, 2, 3, 4), None),
    ("trailing-period", "<answer>(1, 2) (3, 4).</answer>", "exactly", (1, 2, 3, 4), None),
    ("numbered-lines", "<answer>1. First coordinate: (1, 2)\n2. Second coordinate: (3, 4)</answer>", "exactly",
     (1, 2, 3, 4), None),
    ("labelled", "<answer>First: (1, 2) Second: (3, 4)</answer>", "exactly", (1, 2, 3, 4), None),
    ("first-vs-last", "<answer>(0, 1) (0, 2)</answer> no: <answer>(1, 2) (3, 4)</answer>", (0, 1, 0, 2),
     (1, 2, 3, 4), None),
    ("quoted-template", "<think>format <answer>(row1, col1) (row2, col2)</answer></think><answer>(1, 2) (3, 4)</answer>",
     (1, 2, 3, 4), (1, 2, 3, 4), None),
    ("quoted-example", "<think>e.g. <answer>(0, 1) (2, 3)</answer></think><answer>(1, 2) (3, 4)</answer>",
     (0, 1, 2, 3), (1, 2, 3, 4), None),
    ("unclosed-then-block", "<answer>(1, 2) hmm\n<answer>(3, 4) (5, 5)</answer>", (3, 4, 5, 5), (3, 4, 5, 5), None),
    ("zero-padded", "<answer>(01, 002) (0003, 00004)</answer>", (1, 2, 3, 4), (1, 2, 3, 4), None),
    ("long-block", "<answer>(1, 2)" + " " * 300 + "(3, 4)</answer>", (1, 2, 3, 4), "too long", None),
    ("one-pair", "<answer>(1, 2)</answer>", "exactly", "expected two coordinates", None),
    ("three-pairs", "<answer>(1, 2) (3, 4) (5, 5)</answer>", "exactly", "exactly two", None),
    ("empty-block", "<answer></answer>", "exactly", "empty <answer>", None),
    ("no-block", "(1, 2) (3, 4)", "no <answer>", "no <answer>", None),
    ("off-board-6x6", "<answer>(0, 7) (1, 2)</answer>", (0, 7, 1, 2), (0, 7, 1, 2), "off-board"),
    ("off-board-8x8", "<answer>(8, 0) (7, 0)</answer>", (8, 0, 7, 0), (8, 0, 7, 0), "off-board"),
    ("negative", "<answer>(-1, 0) (0, 0)</answer>", "exactly", "expected two coordinates", "fallback"),
    ("single-number", "<answer>3</answer>", "exactly", "expected two coordinates", "fallback"),
]

# the tile games and their boards (all the paper presets' sizes)
PAIR_GAMES = [("shisensho", 6, 6), ("shisensho-images", 6, 6), ("swap", 8, 8)]


def expected_pair(want, rows, cols):
    """A move off this board must be refused by either grammar, whatever the row says."""
    if isinstance(want, tuple) and any(v >= n for v, n in zip(want, (rows, cols, rows, cols))):
        return f"outside the {rows}x{cols} board"
    return want


def check(got, want):
    if isinstance(want, str):
        assert isinstance(got, ParseError), got
        assert want in got.reason
    else:
        assert got == want and not isinstance(got, ParseError)


# G1's own reading (vlmgym/sandbox/games/game2048.py and gamematch*.py at 716e666): its two patterns, and the
# number it then plays. 2048 at test time plays a random move for anything >= 4 or unmatched (None here).
ORIGINAL_INT = r"<answer>.*?(\d+).*?</answer>"
ORIGINAL_PAIR = r"<answer>\((\d+),\s*(\d+)\)\s*\((\d+),\s*(\d+)\)</answer>"


def original_int(text):
    m = re.search(ORIGINAL_INT, text, flags=re.DOTALL)
    return int(m.group(1)) if m and int(m.group(1)) < 4 else None


def original_pair(text):
    """The four numbers G1 encodes, or ("fallback", a) for its single-integer fallback, or None."""
    m = re.search(ORIGINAL_PAIR, text, flags=re.DOTALL)
    if m:
        return tuple(int(g) for g in m.groups())
    m = re.search(ORIGINAL_INT, text, flags=re.DOTALL)
    return ("fallback", int(m.group(1))) if m else None


@pytest.mark.parametrize("case", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_2048_answer_table(case):
    _, text, g1, lenient, departure = case
    check(parse_int_answer(text, 4, "g1"), g1)
    check(parse_int_answer(text, 4, "lenient"), lenient)
    check(parse_int_answer(text, 4), lenient)  # called directly, the default is lenient
    # the game reads with the grammar of its config: the paper preset is g1
    check(g1bench.make("2048", "paper", render_mode=None).game.parse_answer(text), g1)
    check(g1bench.make("2048", "paper", render_mode=None, answer_grammar="lenient").game.parse_answer(text), lenient)
    check(g1bench.make("2048", "base", render_mode=None).game.parse_answer(text), lenient)
    ours = parse_int_answer(text, 4, "g1")
    ours = None if isinstance(ours, ParseError) else ours
    if departure is None:
        assert ours == original_int(text)
    elif departure == "negative":
        assert original_int(text) == 1 and ours is None
    else:  # G1's pattern runs across the tags and reads a digit outside every block
        assert departure == "outside-block"
        assert original_int(text) not in (None, ours)


@pytest.mark.parametrize("game, rows, cols", PAIR_GAMES)
@pytest.mark.parametrize("case", PAIR_CASES, ids=[c[0] for c in PAIR_CASES])
def test_pair_answer_table(case, game, rows, cols):
    _, text, g1, lenient, departure = case
    extra = {"tile_source": "bundled"} if game == "shisensho-images" else {}
    paper = g1bench.make(game, "paper", render_mode=None, **extra).game
    assert paper.shape == (rows, cols) and paper.config.answer_grammar == "g1"
    relaxed = g1bench.make(game, "paper", render_mode=None, answer_grammar="lenient", **extra).game
    check(paper.parse_answer(text), expected_pair(g1, rows, cols))
    check(relaxed.parse_answer(text), expected_pair(lenient, rows, cols))
    check(parse_pair_answer(text, rows, cols, "g1"), expected_pair(g1, rows, cols))
    check(parse_pair_answer(text, rows, cols), expected_pair(lenient, rows, cols))
    ours = paper.parse_answer(text)
    ours = None if isinstance(ours, ParseError) else ours
    original = original_pair(text)
    if departure == "fallback":  # G1 plays (a, a, a, a): the same cell twice, a move that always fails
        assert ours is None and original[0] == "fallback"
    elif departure == "off-board" and expected_pair(g1, rows, cols) != g1:
        assert ours is None and original == g1  # G1 packs it in base 6 / 8: another cell
    elif original is not None and original[0] == "fallback":
        assert ours is None
    else:
        assert ours == original


@pytest.mark.parametrize("grammar", GRAMMARS)
def test_0000001_plays_right_in_2048(grammar):
    env = g1bench.make("2048", "paper", render_mode=None, answer_grammar=grammar)
    env.reset(seed=0)
    [j] = env.evaluate_group(["<answer>0000001</answer>"])
    assert j.action == 1 and j.parse_error is None  # Right; the old parser read 0 (Up)


def test_off_board_coordinates_alias_in_the_original_but_not_here():
    # G1 packs (r1, c1, r2, c2) into r1*216 + c1*36 + r2*6 + c2 on the 6x6 board and decodes the same way
    r1, c1, r2, c2 = 0, 7, 1, 2
    code = r1 * 216 + c1 * 36 + r2 * 6 + c2
    assert (code // 216, code // 36 % 6, code // 6 % 6, code % 6) == (1, 1, 1, 2)  # a different, on-board cell
    assert "outside the 6x6 board" in parse_pair_answer("<answer>(0, 7) (1, 2)</answer>", 6, 6, "g1").reason


@pytest.mark.parametrize("grammar", GRAMMARS)
def test_judge_and_groups_follow_the_configs_grammar(grammar):
    env = g1bench.make("shisensho", "paper", render_mode=None, answer_grammar=grammar)
    env.reset(seed=0)
    move = env.legal_actions()[0]
    tidy = env.answer_for(move)
    loose = "<answer> " + tidy.removeprefix("<answer>").removesuffix("</answer>") + ". </answer>"
    results = env.evaluate_group([tidy, loose])
    assert results[0].action == move and results[0].reward == 1.0
    if grammar == "g1":
        assert results[1].action is None and "exactly" in results[1].parse_error and results[1].reward == -1.0
    else:
        assert results[1].action == move and results[1].reward == 1.0
    assert env.versions()["answer_grammar"] == grammar


def test_unknown_grammar_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown answer grammar 'strict'"):
        parse_int_answer("<answer>1</answer>", 4, "strict")
    with pytest.raises(g1bench.ConfigError, match="answer_grammar must be one of"):
        g1bench.make("2048", answer_grammar="strict")


def test_tag_blocks_pairs_each_close_with_the_nearest_open():
    text = "</answer><answer>a<answer>b</answer>c</answer><answer>d</answer><answer>e"
    assert list(tag_blocks(text)) == ["b", "d"]


MB = 1_000_000


@pytest.mark.parametrize(
    "hostile",
    [
        "(" * MB,
        "<answer>" + "(" * MB + "</answer>",
        "<answer>" + "9" * MB + "</answer>",
        "<answer>" + "0" * MB + "1</answer>",
        "<answer>(" + "1" * MB + ", 1) (1, 1)</answer>",
        "<answer>" + "(1," * (MB // 3) + "</answer>",
        "<answer>" + "(1, 1) " * (MB // 7) + "</answer>",
        "<answer></answer>" * (MB // 17),
        "<answer>" * (MB // 8) + "</answer>",
        "<answer>x" * (MB // 9) + "1</answer>",
        "-" * MB + "<answer>-" + "1" * MB + "</answer>",
    ],
    ids=["parens", "parens-in-block", "digits", "zeros-then-1", "long-row", "open-pairs", "many-pairs",
         "many-empty-blocks", "many-opens", "many-unclosed", "minus-digits"],
)
@pytest.mark.parametrize("grammar", GRAMMARS)
def test_both_grammars_are_linear_on_megabyte_inputs(hostile, grammar):
    t = time.perf_counter()
    outs = [parse_int_answer(hostile, 4, grammar), parse_pair_answer(hostile, 8, 8, grammar)]
    elapsed = time.perf_counter() - t
    assert elapsed < 1.0, elapsed  # linear scans take milliseconds; a quadratic one takes minutes
    for out in outs:  # the reasons are recorded per step: they stay short
        assert isinstance(out, int | tuple) or len(out.reason) < 200


def test_no_length_cap_in_g1_only():
    text = "<answer>" + "0" * 5000 + "1</answer>"  # int() alone would refuse 5001 digits
    assert parse_int_answer(text, 4, "g1") == 1
    assert "too long" in parse_int_answer(text, 4, "lenient").reason
