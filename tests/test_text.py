"""Label matching: aliases match however a person types them (SPEC §2 text matching)."""

from __future__ import annotations

import opencc
from hypothesis import given
from hypothesis import strategies as st

from csat.config import Rules
from csat.intake.scales import BadRating, ValueMap, choose_scale, rating_word
from csat.text import normalize, normalize_label

_S2T = opencc.OpenCC("s2t")


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def random_case(text: str, flips: list[bool]) -> str:
    flips = flips + [False] * len(text)
    return "".join(c.upper() if f else c.lower() for c, f in zip(text, flips, strict=False))


decorations = st.fixed_dictionaries(
    {
        "wide": st.booleans(),
        "traditional": st.booleans(),
        "flips": st.lists(st.booleans(), max_size=40),
        "left": st.sampled_from(["", " ", "  ", "\t", "\u3000"]),
        "right": st.sampled_from(["", " ", "\u00a0", "\n"]),
        "colon": st.sampled_from(["", ":", "：", " :"]),
        "note": st.sampled_from(["", "(25%)", "（20%）", " (weight 5)", "【必填】"]),
    }
)


def decorate(alias: str, d: dict, header: bool) -> str:
    text = _S2T.convert(alias) if d["traditional"] else alias
    text = random_case(text, d["flips"])
    if d["wide"]:
        text = full_width(text)
    if header:
        text += d["note"]
    return d["left"] + text + d["colon"] + d["right"]


@given(data=st.data(), d=decorations)
def test_any_item_alias_matches_its_item_however_typed(
    rules: Rules, data: st.DataObject, d: dict
) -> None:
    key = data.draw(st.sampled_from(sorted(rules.items)))
    alias = data.draw(st.sampled_from(rules.items[key].aliases))
    assert rules.item_by_alias[normalize_label(decorate(alias, d, header=True))] == key


def read(rules: Rules, value: object, scale: str = "csat") -> str | None:
    """A value read on the given scale, as a sheet pinned to it reads it."""
    return ValueMap(rules, choose_scale((), rules, scale)).level(value, "产品质量")


@given(data=st.data(), d=decorations)
def test_any_word_of_a_scale_reads_as_its_level_however_typed(
    rules: Rules, data: st.DataObject, d: dict
) -> None:
    scale = data.draw(st.sampled_from(sorted(rules.scales)))
    key = data.draw(st.sampled_from(sorted(rules.scales[scale].words)))
    word = data.draw(st.sampled_from(rules.scales[scale].words[key]))
    typed = decorate(word, d, header=False)
    assert read(rules, typed, scale) == key
    # the same word decides the scale when it is the only one seen: never another level
    choice = choose_scale([rating_word(typed, rules.unanswered) or ""], rules)
    if not choice.ambiguous:
        assert rules.scale_words[choice.scale][rating_word(typed, rules.unanswered) or ""] == key


@given(
    number=st.integers(1, 5), form=st.sampled_from(["int", "float", "text", "wide", "textfloat"])
)
def test_plain_numbers_one_to_five_are_levels(rules: Rules, number: int, form: str) -> None:
    value = {
        "int": number,
        "float": float(number),
        "text": str(number),
        "wide": full_width(str(number)),
        "textfloat": f"{number}.0",
    }[form]
    for scale in ("csat", "platform", "quality_en"):
        assert rules.levels[read(rules, value, scale) or ""].number == number


@given(
    value=st.one_of(
        st.sampled_from([0, 6, 4.5, "0", "6", "4.5", "很好", "good!", "-1"]),
        st.floats(allow_nan=False).filter(lambda x: x not in (1, 2, 3, 4, 5)),
    )
)
def test_other_numbers_and_words_are_unknown(rules: Rules, value: object) -> None:
    try:
        read(rules, value)
    except BadRating:
        return
    raise AssertionError(f"{value!r} was accepted as a rating")


def test_unanswered_markers(rules: Rules) -> None:
    for value in [None, "", "  ", "-", "/", "N/A", "n/a", "NA", "无", "不适用", "不適用", "(跳过)"]:
        assert read(rules, value) is None, value


def test_whitespace_rules() -> None:
    assert normalize("  Very   Satisfied ") == "very satisfied"
    assert normalize("非常 满意") == "非常满意"
    assert normalize("客户 名称：") == "客户名称"
    assert normalize_label("产品质量(25%)") == "产品质量"
    assert normalize("Foo (Shenzhen) Co.") == "foo (shenzhen) co."  # names keep their brackets
    assert normalize("ＡＢＣ　Ｃｏ．") == "abc co."  # full-width letters, space and dot


def test_middle_column_of_the_procedure_is_neutral(rules: Rules) -> None:
    assert read(rules, "满意") == "neutral"
    assert read(rules, "滿意") == "neutral"
    assert read(rules, "Satisfied") == "satisfied"
    assert read(rules, "满意", "platform") == "satisfied"


def _normalize_step_by_step(text: str) -> str:
    """SPEC §2's steps done plainly, as normalize did them before its short ways."""
    import re
    import unicodedata

    from csat.text import _SPACE_BY_CJK, _to_simplified

    s = unicodedata.normalize("NFKC", text)
    if not s.isascii():
        s = _to_simplified(s)
    s = re.sub(r"\s+", " ", s.casefold()).strip()
    s = _SPACE_BY_CJK.sub("", s)
    if s.endswith(":"):
        s = s[:-1].rstrip()
    return s


_TRICKY = (
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
    "aZ9:：.,()（）【】-_ßİﬁ①Ⅻ㎏ＡＢｃ１２客户名稱測試满意滿意公司有限\u0301\ufeff"
)


@given(st.text(alphabet=st.sampled_from(_TRICKY), max_size=30) | st.text(max_size=20))
def test_normalize_gives_what_the_plain_steps_give(text: str) -> None:
    assert normalize.__wrapped__(text) == _normalize_step_by_step(text)


def test_normalize_of_names_and_codes_as_recorded() -> None:
    names = ["C0001234", " c 0001234: ", "ACME\tCo.\n", "测试客户0000001有限公司", "測試 公司 Ltd"]
    for text in names:
        assert normalize(text) == _normalize_step_by_step(text)
