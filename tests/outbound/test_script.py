"""A campaign's script as the agent reads it for one number: the list's values in its placeholders."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotline.outbound.work import fill_script


def test_placeholders_take_the_numbers_values_and_unknown_ones_stay_as_written() -> None:
    script = "{姓名}您好，感谢您入住{酒店}（{离店日期}离店）。{会员等级}会员专享……"
    filled = fill_script(script, "张伟", {"酒店": "杭州西湖店", "离店日期": "2026-12-05"})
    assert filled == "张伟您好，感谢您入住杭州西湖店（2026-12-05离店）。{会员等级}会员专享……"
    assert fill_script("{name}，您好", "Li Na", {}) == "Li Na，您好"


@given(
    st.text(max_size=200), st.text(max_size=20), st.dictionaries(st.text(max_size=10), st.text(max_size=20))
)
def test_a_script_without_braces_is_shown_as_written(script: str, name: str, fields: dict[str, str]) -> None:
    plain = script.replace("{", "").replace("}", "")
    assert fill_script(plain, name, fields) == plain
