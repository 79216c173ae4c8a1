"""Tests of search.query: the query language parser (pure Python, no index needed)."""

import ast
import pickle
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from indexer.errors import QuerySyntaxError
from search.query import (
    FIELDS,
    MAX_QUERY_CHARS,
    And,
    Not,
    Or,
    Phrase,
    Term,
    has_word_chars,
    parse,
    positive_texts,
    to_string,
)


def T(text, field=None):
    return Term(text, field)


def P(text, field=None):
    return Phrase(text, field)


def A(*nodes):
    return And(nodes)


def O(*nodes):
    return Or(nodes)


def error_of(q):
    with pytest.raises(QuerySyntaxError) as info:
        parse(q)
    return info.value


# --- operators ---------------------------------------------------------------------------


def test_single_word_is_a_term_with_its_position():
    assert parse("  卡塔尔 ") == T("卡塔尔")
    assert parse("  卡塔尔 ").pos == 2


def test_implicit_and():
    node = parse("卡塔尔 人质")
    assert node == A(T("卡塔尔"), T("人质"))
    assert [n.pos for n in node.nodes] == [0, 4]


def test_explicit_and_equals_implicit_and():
    assert parse("a AND b") == parse("a b") == A(T("a"), T("b"))


def test_or():
    assert parse("a OR b") == O(T("a"), T("b"))


def test_or_binds_tighter_than_a_space():
    assert parse("a b OR c") == A(T("a"), O(T("b"), T("c")))
    assert parse("a OR b c") == A(O(T("a"), T("b")), T("c"))


def test_explicit_and_binds_tighter_than_or():
    assert parse("a AND b OR c") == O(A(T("a"), T("b")), T("c"))
    assert parse("a OR b AND c") == O(T("a"), A(T("b"), T("c")))
    assert parse("x a AND b OR c y") == A(T("x"), O(A(T("a"), T("b")), T("c")), T("y"))


def test_parentheses_override_precedence():
    assert parse("(a b) OR c") == O(A(T("a"), T("b")), T("c"))


def test_keywords_are_ascii_uppercase_only():
    assert parse("a or b") == A(T("a"), T("or"), T("b"))
    assert parse("a Or b") == A(T("a"), T("Or"), T("b"))
    assert parse("a ＯＲ b") == A(T("a"), T("ＯＲ"), T("b"))
    assert parse("a not b") == A(T("a"), T("not"), T("b"))


def test_keyword_touching_a_parenthesis_is_still_a_keyword():
    assert parse("a OR(b c)") == O(T("a"), A(T("b"), T("c")))
    assert parse("a NOT(b)") == A(T("a"), Not(T("b")))


@pytest.mark.parametrize("q", ["a -b", "a NOT b"])
def test_negated_word(q):
    assert parse(q) == A(T("a"), Not(T("b")))


@pytest.mark.parametrize("q", ['a -"b c"', 'a NOT "b c"', "a -“b c”"])
def test_negated_phrase(q):
    assert parse(q) == A(T("a"), Not(P("b c")))


@pytest.mark.parametrize("q", ["a -(b OR c)", "a NOT (b OR c)", "a -（b OR c）"])
def test_negated_group(q):
    assert parse(q) == A(T("a"), Not(O(T("b"), T("c"))))


def test_hyphen_inside_a_word_is_not_negation():
    assert parse("COVID-19") == T("COVID-19")
    assert parse("a-b 卡塔尔-以色列") == A(T("a-b"), T("卡塔尔-以色列"))


def test_hyphen_negates_after_a_parenthesis():
    assert parse("a (b -c)") == A(T("a"), T("b"), Not(T("c")))


def test_apostrophes_dots_and_digit_commas_stay_in_the_word():
    assert parse("don't U.S. 1,000人 3.5%") == A(T("don't"), T("U.S."), T("1,000人"), T("3.5"))


def test_nested_and_or_are_flattened_and_single_children_collapse():
    assert parse("a (b (c d))") == A(T("a"), T("b"), T("c"), T("d"))
    assert parse("a OR (b OR (c OR d))") == O(T("a"), T("b"), T("c"), T("d"))
    assert parse("((a))") == T("a")


# --- fields ------------------------------------------------------------------------------


def test_field_on_a_word():
    assert parse("title:卡塔尔 人质") == A(T("卡塔尔", "title"), T("人质"))


def test_field_on_a_phrase():
    node = parse('title:"人道主义 休战"')
    assert node == P("人道主义 休战", "title")
    assert node.pos == 6


def test_field_on_a_group_reaches_every_leaf():
    assert parse('title:(a OR "b c" (d -e))') == A(
        O(T("a", "title"), P("b c", "title")), T("d", "title"), Not(T("e", "title")))


def test_field_names_are_case_insensitive_and_full_width_colon_works():
    assert parse("TITLE:a Lead:b body：c") == A(T("a", "title"), T("b", "lead"), T("c", "body"))


def test_each_field_is_accepted():
    for field in FIELDS:
        assert parse(f"{field}:x") == T("x", field)


def test_same_field_inside_a_field_group_is_allowed():
    assert parse("title:(a title:b)") == A(T("a", "title"), T("b", "title"))


def test_conflicting_field_inside_a_field_group_is_an_error():
    err = error_of("title:(a lead:b)")
    assert err.position == 9
    assert "lead" in str(err) and "title" in str(err)


def test_field_applies_to_one_word_only_punctuation_splits_like_a_space():
    assert parse("title:卡塔尔，人质") == parse("title:卡塔尔 人质") == A(T("卡塔尔", "title"), T("人质"))


def test_colon_after_non_ascii_letters_is_not_a_field():
    assert parse("卡塔尔:人质") == T("卡塔尔:人质")
    assert parse("10:30") == T("10:30")


def test_url_is_a_word_not_a_field():
    assert parse("http://example.com/a") == T("http://example.com/a")
    assert parse("title:https://x.org") == T("https://x.org", "title")


def test_unknown_field_is_an_error_at_its_position():
    err = error_of("卡塔尔 foo:bar")
    assert err.position == 4
    assert str(err).startswith("unknown field 'foo'; fields are title, lead, body")
    assert error_of("titel:卡塔尔").position == 0


@pytest.mark.parametrize("q", ["title: x", "title:", "title:-x", "title:OR x", "title:... x"])
def test_field_prefix_needs_an_operand_right_after_it(q):
    assert error_of(q).position == 0


# --- quotes, parentheses, punctuation ----------------------------------------------------


@pytest.mark.parametrize("q", ['"人道主义 休战"', "“人道主义 休战”", "「人道主义 休战」", "『人道主义 休战』"])
def test_phrase_delimiters(q):
    assert parse(q) == P("人道主义 休战")


def test_full_width_parentheses_group():
    assert parse("（a OR b） c") == parse("(a OR b) c") == A(O(T("a"), T("b")), T("c"))


def test_chinese_punctuation_splits_words():
    assert parse("卡塔尔，人质") == parse("卡塔尔 人质")
    assert parse("卡塔尔、人质。以色列！") == A(T("卡塔尔"), T("人质"), T("以色列"))
    assert parse("卡塔尔：人质") == A(T("卡塔尔"), T("人质"))
    assert parse("a,b") == A(T("a"), T("b"))


def test_punctuation_only_runs_are_dropped():
    assert parse("a ... b —— c") == A(T("a"), T("b"), T("c"))


def test_stray_closing_chinese_quote_is_punctuation():
    assert parse("卡塔尔”人质") == A(T("卡塔尔"), T("人质"))


@pytest.mark.parametrize("q", ["，。！？", "...", " ——；", "、 '"])
def test_query_of_only_punctuation_has_no_searchable_words(q):
    err = error_of(q)
    assert "no searchable words" in str(err)
    assert err.position == len(q) - len(q.lstrip())


def test_has_word_chars():
    assert has_word_chars("卡") and has_word_chars("a.") and has_word_chars("１")
    assert not has_word_chars("，。") and not has_word_chars("") and not has_word_chars("-'.")


# --- errors and their positions ----------------------------------------------------------


@pytest.mark.parametrize("q, pos", [
    ('a "b c', 2), ("a “b c", 2), ("「b c", 0), ('a "b" "c', 6), ("“b c\"", 0),
])
def test_unbalanced_quote_points_at_the_opening_quote(q, pos):
    err = error_of(q)
    assert "quote" in str(err) and err.position == pos


@pytest.mark.parametrize("q, pos", [
    ("a (b", 2), ("(a (b)", 0), ("a b)", 3), (")a", 0), ("（a", 0), ("a）", 1), ("(", 0),
])
def test_unbalanced_parenthesis_points_at_the_unmatched_one(q, pos):
    err = error_of(q)
    assert "parenthesis" in str(err) and err.position == pos


@pytest.mark.parametrize("q", ["", " ", "\u3000\t\n", "\x00\x01"])
def test_empty_query(q):
    err = error_of(q)
    assert "empty query" in str(err) and err.position == 0


@pytest.mark.parametrize("q, pos", [
    ("a OR", 2), ("OR a", 0), ("a OR OR b", 2), ("a AND", 2), ("AND a", 0), ("(OR a)", 1),
    ("NOT", 0), ("a NOT", 2), ("-", 0), ("a -", 2), ("a - b", 2), ("(a -)", 3), ("a -，b", 2),
])
def test_dangling_operator(q, pos):
    assert error_of(q).position == pos


@pytest.mark.parametrize("q, pos", [('""', 0), ('a ""', 2), ('a "  "', 2), ("a “，”", 2)])
def test_empty_phrase(q, pos):
    err = error_of(q)
    assert "empty phrase" in str(err) and err.position == pos


@pytest.mark.parametrize("q, pos", [("()", 0), ("a ()", 2), ("a (，)", 2), ("a （ ）", 2)])
def test_empty_group(q, pos):
    err = error_of(q)
    assert "empty group" in str(err) and err.position == pos


@pytest.mark.parametrize("q, pos", [("-foo", 0), ("  NOT foo", 2), ("-a -b", 0), ("(-a)", 0)])
def test_only_negative_query_is_an_error(q, pos):
    err = error_of(q)
    assert "at least one positive term" in str(err) and err.position == pos


@pytest.mark.parametrize("q, pos", [("a OR -b", 5), ("-a OR b", 0), ("x (a OR NOT b)", 8)])
def test_each_side_of_or_must_be_positive(q, pos):
    assert error_of(q).position == pos


def test_negative_part_of_an_and_is_fine_inside_or():
    assert parse("a OR (b -c)") == O(T("a"), A(T("b"), Not(T("c"))))


@pytest.mark.parametrize("q, pos", [("a --b", 3), ("a NOT -b", 6), ("a -(-b)", 3), ("a NOT NOT b", 6)])
def test_double_negation_is_an_error(q, pos):
    err = error_of(q)
    assert "double negation" in str(err) and err.position == pos


def test_deep_nesting_is_an_error_not_a_crash():
    q = "(" * 400 + "a" + ")" * 400
    assert len(q) <= MAX_QUERY_CHARS
    err = error_of(q)
    assert "nested" in str(err)
    assert parse("(" * 20 + "a" + ")" * 20) == T("a")


def test_long_chains_do_not_recurse_deeply():
    assert error_of("-" * 999 + "a").position == 1
    assert error_of("NOT " * 249 + "a").position == 4
    assert len(parse("a OR " * 199 + "a").nodes) == 200


def test_query_too_long():
    err = error_of("卡" * 10_000)
    assert str(err).startswith("query too long (10000 characters; at most 1000)")
    assert err.position == MAX_QUERY_CHARS
    assert error_of("a" * (MAX_QUERY_CHARS + 1)).position == MAX_QUERY_CHARS


def test_query_at_the_length_limit_parses():
    q = ("卡塔尔 " * 250)[:MAX_QUERY_CHARS]
    assert len(q) == MAX_QUERY_CHARS
    assert len(parse(q).nodes) == 250
    assert parse("a" * MAX_QUERY_CHARS) == T("a" * MAX_QUERY_CHARS)
    assert parse('"' + "卡 " * 499 + '"') == P("卡 " * 499)


def test_tokenizer_is_linear_on_adversarial_input():
    from search.query import _tokenize
    # every word is a field-looking prefix, a digit comma, or a quote: each char is looked at O(1) times
    q = ("ab1,2:cd " + '"x" ' + "a-b-c ") * 20_000
    assert len(_tokenize(q)) == 60_000


def test_control_characters_are_whitespace():
    assert parse("a\x00b\x1fc\x7fd") == A(T("a"), T("b"), T("c"), T("d"))
    assert parse('"a\tb"') == P("a b")
    assert parse("a\x00b").nodes[1].pos == 2


# --- positive_texts and to_string --------------------------------------------------------


def test_positive_texts_skip_negations_and_keep_order():
    node = parse('title:"卡塔尔 多哈" (人质 OR hostage) -美国 NOT "以色列 军方" 释放')
    assert positive_texts(node) == [
        ("卡塔尔 多哈", True), ("人质", False), ("hostage", False), ("释放", False)]


def test_to_string_examples():
    assert to_string(parse('title:卡塔尔 (人质 OR hostage) -美国')) == (
        "title:卡塔尔 AND (人质 OR hostage) AND NOT 美国")
    assert to_string(parse("(a b) OR c")) == "(a AND b) OR c"
    assert to_string(parse("-(a b) c")) == "NOT (a AND b) AND c"
    assert to_string(parse("title:(a OR b)")) == "title:a OR title:b"
    assert to_string(parse("「说 \"不\"」")) == "“说 \"不\"”"


@pytest.mark.parametrize("q", [
    'title:"卡塔尔" (人质 OR hostage) -美国', "a b OR c", "(a b) OR (c -d)", '「a "b" “c”」',
    "http://x.org title:https://y.org", "卡塔尔，人质", "-(a OR b) c", "1,000人 COVID-19",
])
def test_round_trip_examples(q):
    assert parse(to_string(parse(q))) == parse(q)


# --- node objects ------------------------------------------------------------------------


def test_nodes_are_immutable_hashable_and_ignore_pos_in_equality():
    node = parse("a b")
    with pytest.raises(AttributeError):
        node.nodes = ()
    with pytest.raises(AttributeError):
        node.nodes[0].text = "x"
    assert Term("a", None, 0) == Term("a", None, 7)
    assert Term("a") != Phrase("a") and Term("a") != Term("a", "title")
    assert hash(parse("x OR y")) == hash(O(T("x"), T("y")))
    assert pickle.loads(pickle.dumps(node)) == node
    assert repr(Term("a", "title", 3)) == "Term('a', 'title', 3)"


def test_nodes_support_structural_pattern_matching():
    match parse("title:a -b"):
        case And((Term(text, field), Not(Term(neg)))):
            assert (text, field, neg) == ("a", "title", "b")
        case other:
            pytest.fail(f"unexpected {other!r}")


def test_module_imports_nothing_heavy():
    # the CLI's cold start imports this module: no dataclasses (pulls inspect), typing, re, whoosh
    source = (Path(__file__).resolve().parents[1] / "search" / "query.py").read_text("utf-8")
    imported = set()
    for stmt in ast.walk(ast.parse(source)):
        if isinstance(stmt, ast.Import):
            imported.update(alias.name for alias in stmt.names)
        elif isinstance(stmt, ast.ImportFrom):
            imported.add(stmt.module)
    assert imported == {"unicodedata", "indexer.errors"}


# --- properties --------------------------------------------------------------------------

SYNTAX = ['"', "“", "”", "「", "」", "(", ")", "（", "）", "-", ":", "：", "，", "。", " ", " ",
          "\x00", "\t", ",", ".", "'", "/", "OR", "AND", "NOT", "title:", "lead:", "Body：",
          "foo:", "http://", "1", "a", "Z", "卡", "塔", "é", "\u0301", "ＯＲ", "_"]


@st.composite
def query_like(draw):
    return "".join(draw(st.lists(st.sampled_from(SYNTAX) | st.characters(), max_size=40)))


@given(st.one_of(st.text(max_size=60), query_like()))
@settings(max_examples=800)
def test_any_string_gives_an_ast_or_a_query_syntax_error(q):
    try:
        node = parse(q)
    except QuerySyntaxError as err:
        assert err.position is not None and 0 <= err.position <= len(q)
        return
    assert isinstance(node, (Term, Phrase, Not, And, Or))
    assert parse(to_string(node)) == node


WORDS = st.sampled_from(["卡塔尔", "人质", "hostage", "COVID-19", "U.S.", "1,000", "ab", "x",
                         "以色列", "don't", "http://a.b"])


def _leaf():
    phrase = st.builds(lambda quotes, words: quotes[0] + " ".join(words) + quotes[1],
                       st.sampled_from(['""', "“”", "「」"]), st.lists(WORDS, min_size=1, max_size=3))
    plain = WORDS | phrase
    fielded = st.builds(lambda f, x: f + x, st.sampled_from(["title:", "LEAD:", "body："]), plain)
    return plain | fielded


def _extend(inner):
    group = inner.map(lambda s: f"({s})") | inner.map(lambda s: f"（{s}）")
    fielded_group = st.builds(lambda f, g: f + g, st.sampled_from(["title:", "lead:"]), group)
    operand = inner | group | fielded_group
    negated = st.builds(lambda op, x: op + x, st.sampled_from(["-", "NOT "]), operand)
    return st.one_of(
        operand,
        st.lists(operand | negated, min_size=2, max_size=4).map(" ".join),
        st.lists(operand, min_size=2, max_size=3).map(" OR ".join),
        st.builds(lambda a, b: f"{a} AND {b}", operand, operand | negated),
        st.builds(lambda a, b: f"{a}，{b}", operand, operand),
        st.builds(lambda first, rest: first + "".join(op + x for op, x in rest), operand,
                  st.lists(st.tuples(st.sampled_from([" ", " OR ", " AND "]), operand | negated),
                           min_size=1, max_size=4)),
    )


VALID_QUERIES = st.recursive(_leaf(), _extend, max_leaves=12)


@given(VALID_QUERIES)
@settings(max_examples=400)
def test_round_trip_of_generated_queries(q):
    try:
        node = parse(q)
    except QuerySyntaxError:
        assume(False)  # e.g. a field group inside another field's group
        return
    text = to_string(node)
    assert parse(text) == node
    assert to_string(parse(text)) == text
    assert positive_texts(parse(text)) == positive_texts(node)
