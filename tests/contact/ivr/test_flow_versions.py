"""IVR flow versions through the API: drafts are checked node by node, publishing reaches the
running voice engine, rolling back brings an older version back, nothing is ever overwritten."""

from __future__ import annotations

import asyncio
import copy

import pytest

from hotline.contact.ivr.flow import load_shipped, to_data
from hotline.core.config import Settings
from hotline.core.context import Context
from tests.conftest import Users, assert_problem, free_port, make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, roles=["api", "voice"], sip_port=free_port())


def hotel_with_welcome(text: str) -> dict[str, object]:
    definition = copy.deepcopy(to_data(load_shipped("hotel")))
    definition["nodes"]["welcome"]["say"]["text"] = text  # type: ignore[index]
    return definition


async def test_a_supervisor_edits_publishes_and_rolls_back_the_hotel_flow(
    seeded: Context, users: Users, app: object
) -> None:
    supervisor = await users("supervisor")
    router = app.state.hotline.router  # type: ignore[attr-defined]
    listed = (await supervisor.get("/api/routing/flows")).json()
    assert {f["name"]: f["published_version"] for f in listed} == {"hotel": None, "travel": None}

    first = await supervisor.put(
        "/api/routing/flows/hotel/draft",
        json={"definition": hotel_with_welcome("圣诞快乐！查询订单请按1，人工服务请按2。")},
    )
    assert first.status_code == 200, first.text
    assert (first.json()["version"], first.json()["status"]) == (1, "draft")
    assert "圣诞快乐" not in (router.flows["hotel"].nodes["welcome"].say.text or "")  # a draft is not live
    assert (await supervisor.post("/api/routing/flows/hotel/publish")).json()["status"] == "published"
    for _ in range(40):
        if "圣诞快乐" in (router.flows["hotel"].nodes["welcome"].say.text or ""):
            break
        await asyncio.sleep(0.05)
    assert "圣诞快乐" in (router.flows["hotel"].nodes["welcome"].say.text or "")  # the engine took it

    await supervisor.put(
        "/api/routing/flows/hotel/draft", json={"definition": hotel_with_welcome("新年好！")}
    )
    await supervisor.post("/api/routing/flows/hotel/publish")
    back = await supervisor.post("/api/routing/flows/hotel/rollback", json={"version": 1})
    assert back.status_code == 200 and back.json()["version"] == 1
    versions = (await supervisor.get("/api/routing/flows/hotel/versions")).json()
    assert [(v["version"], v["status"]) for v in versions] == [(1, "published"), (2, "retired")]
    assert_problem(await supervisor.post("/api/routing/flows/hotel/publish"), 409, "nothing-to-publish")


async def test_a_flow_with_problems_is_refused_with_each_problem_at_its_node(
    seeded: Context, users: Users
) -> None:
    supervisor = await users("supervisor")
    broken = hotel_with_welcome("按1")
    broken["nodes"]["welcome"]["options"]["1"] = "nowhere"  # type: ignore[index]
    broken["nodes"]["find_order"]["function"] = "no.such.lookup"  # type: ignore[index]
    refused = await supervisor.put("/api/routing/flows/hotel/draft", json={"definition": broken})
    body = assert_problem(refused, 422, "flow-invalid")
    fields = {e["field"] for e in body["errors"]}  # type: ignore[union-attr]
    assert "body.definition.nodes.welcome.options.1" in fields
    assert "body.definition.nodes.find_order.function" in fields
    renamed = hotel_with_welcome("x")
    renamed["name"] = "travel"
    assert_problem(
        await supervisor.put("/api/routing/flows/hotel/draft", json={"definition": renamed}),
        422, "flow-name-mismatch", "body.definition.name",
    )  # fmt: skip
    assert (await supervisor.get("/api/routing/flows/hotel/versions")).json() == []  # nothing was stored
    agent, teamlead = await users("agent1"), await users("teamlead")
    assert_problem(await agent.get("/api/routing/flows"), 403, "permission-denied")
    assert (await teamlead.get("/api/routing/flows")).status_code == 200
    assert_problem(
        await teamlead.put("/api/routing/flows/hotel/draft", json={"definition": hotel_with_welcome("x")}),
        403, "permission-denied",
    )  # fmt: skip
