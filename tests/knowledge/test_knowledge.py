"""The knowledge base as agents use it beside a call: Chinese found by any two characters without
a word list, questions typed as spoken ("保留到几点") finding the rule, hotel fact sheets first for
a branch's name; supervisors edit (and the index follows), drafts stay with the editors."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotline.core.context import Context
from hotline.knowledge.search import needed, terms
from tests.conftest import Users, assert_problem

HANZI = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@given(st.text(alphabet=HANZI, min_size=2, max_size=40), st.data())
def test_every_two_characters_of_chinese_text_are_a_term(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(min_value=0, max_value=len(text) - 2))
    assert text[start : start + 2] in terms(text)
    assert set(terms(text[start : start + 2])) <= set(terms(text))


@given(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,20}", fullmatch=True))
def test_latin_words_are_found_whatever_their_case(word: str) -> None:
    assert terms(f"致电 {word.upper()}，谢谢") == ["致电", word.lower(), "谢谢"]


def test_half_of_a_questions_terms_are_enough() -> None:
    assert [needed(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 2, 3]


async def test_agents_find_answers_the_way_they_ask(seeded: Context, users: Users) -> None:
    agent = await users("agent1")

    async def first(q: str) -> str:
        hits = (await agent.get("/api/knowledge/articles", params={"q": q})).json()
        return str(hits[0]["title"]) if hits else ""

    assert await first("退款") == "取消政策与退款"
    assert await first("保留到几点") == "房间保留时间（保留到XX点）"
    assert await first("外滩店") == "英冠酒店上海外滩店 · 酒店信息"
    assert await first("宠物") == "可以带宠物吗？"
    assert await first("ＶＩＰ 金卡 折扣") == "会员等级与折扣"  # full-width letters are letters
    hit = (await agent.get("/api/knowledge/articles", params={"q": "加床"})).json()[0]
    assert "加床" in hit["snippet"] and hit["category"] == "faq"
    assert (await agent.get("/api/knowledge/articles", params={"q": "量子计算"})).json() == []
    assert_problem(
        await agent.get("/api/knowledge/articles", params={"q": "！？。"}), 422, "invalid-input", "q"
    )
    phrases = (await agent.get("/api/knowledge/articles", params={"category": "phrase"})).json()
    assert {p["category"] for p in phrases} == {"phrase"} and len(phrases) == 3
    categories = (await agent.get("/api/knowledge/categories")).json()
    assert categories["hotel"] == 20


async def test_supervisors_edit_articles_the_index_follows_and_drafts_stay_hidden(
    seeded: Context, users: Users
) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    article = {
        "title": "行李寄存",
        "category": "faq",
        "tags": ["行李"],
        "body": "前台可免费寄存行李，最长7天。",
    }
    assert (await agent.post("/api/knowledge/articles", json=article)).status_code == 403
    for change, field in (({"title": " "}, "body.title"), ({"category": "gossip"}, "body.category")):
        refused = await supervisor.post("/api/knowledge/articles", json={**article, **change})
        assert_problem(refused, 422, "validation-failed", field)
    made = (await supervisor.post("/api/knowledge/articles", json={**article, "published": False})).json()
    search = {"q": "寄存"}
    assert (await agent.get("/api/knowledge/articles", params=search)).json() == []  # a draft
    assert (await agent.get(f"/api/knowledge/articles/{made['id']}")).status_code == 404
    assert [h["id"] for h in (await supervisor.get("/api/knowledge/articles", params=search)).json()] == [
        made["id"]
    ]
    changed = {
        **article,
        "title": "行李保管",
        "body": "前台可免费保管行李，最长7天；贵重物品请使用客房保险箱。",
    }
    await supervisor.put(f"/api/knowledge/articles/{made['id']}", json=changed)
    assert (await agent.get("/api/knowledge/articles", params=search)).json() == []  # the old words are gone
    hits = (await agent.get("/api/knowledge/articles", params={"q": "保险箱"})).json()
    assert [h["title"] for h in hits] == ["行李保管"]


async def test_call_scripts_follow_seed_000_until_a_supervisor_edits_them(
    seeded: Context, users: Users
) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    unknown = (await agent.get("/api/knowledge/scripts/unknown")).json()
    assert unknown["shipped"] is True
    assert [s["title"] for s in unknown["stages"]][:3] == ["会员号", "姓名", "建立档案"]
    known = (await agent.get("/api/knowledge/scripts/known")).json()
    assert known["stages"][0]["lines"][0] == "{name}{title}，请问您要预订哪里的客房呢？"
    assert (await agent.get("/api/knowledge/scripts/robot")).status_code == 422
    edited = {
        "stages": [
            {"title": "问候", "lines": ["{name}{title}您好，英冠酒店很高兴为您服务！"]},
            *known["stages"],
        ]
    }
    assert (await agent.put("/api/knowledge/scripts/known", json=edited)).status_code == 403
    assert_problem(await supervisor.put("/api/knowledge/scripts/known", json={"stages": []}), 422,
                   "validation-failed", "body.stages")  # fmt: skip
    saved = (await supervisor.put("/api/knowledge/scripts/known", json=edited)).json()
    assert saved["shipped"] is False and saved["stages"][0]["title"] == "问候"
    assert (await agent.get("/api/knowledge/scripts/known")).json()["stages"][0]["title"] == "问候"
