"""Teams (班组): a leader, members in at most one team, the service other domains ask."""

from __future__ import annotations

from sqlalchemy import select

from hotline.admin import teams
from hotline.core.audit import AuditEntry
from hotline.core.context import Actor, Context
from hotline.core.permissions import permissions_for
from tests.conftest import Users, assert_problem


async def _ids(client: object) -> dict[str, int]:
    response = await client.get("/api/users", params={"limit": 100})  # type: ignore[attr-defined]
    return {u["username"]: u["id"] for u in response.json()["items"]}


async def test_the_demo_has_two_teams_with_their_leader_and_members(users: Users) -> None:
    supervisor = await users("supervisor")
    listed = (await supervisor.get("/api/teams")).json()
    by_name = {t["name"]: t for t in listed}
    assert set(by_name) == {"预订一组", "旅游一组"}
    booking = by_name["预订一组"]
    assert booking["leader"]["name"] == "李组长"
    assert [m["work_number"] for m in booking["members"]] == ["001", "002", "003"]
    assert [m["work_number"] for m in by_name["旅游一组"]["members"]] == ["004", "005"]

    lead = await users("teamlead")
    mine = [t["name"] for t in (await lead.get("/api/teams")).json() if t["mine"]]
    assert mine == ["预订一组"]

    offered = {c["work_number"]: c for c in (await supervisor.get("/api/teams/candidates")).json()}
    assert set(offered) == {"100", "001", "002", "003", "004", "005"}  # agents and the team lead
    assert offered["004"]["team_id"] == by_name["旅游一组"]["id"] and offered["100"]["team_id"] is None


async def test_given_a_supervisor_when_creating_and_staffing_a_team_then_each_change_is_audited(
    users: Users, seeded: Context
) -> None:
    admin = await users("admin")
    ids = await _ids(admin)
    supervisor = await users("supervisor")
    booking = next(t for t in (await supervisor.get("/api/teams")).json() if t["name"] == "预订一组")
    await supervisor.delete(f"/api/teams/{booking['id']}/members/{ids['agent3']}")

    created = await supervisor.post(
        "/api/teams", json={"name": "夜班组", "leader_id": ids["teamlead"], "member_ids": [ids["agent3"]]}
    )
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["leader"]["id"] == ids["teamlead"] and [m["id"] for m in team["members"]] == [ids["agent3"]]

    renamed = await supervisor.patch(f"/api/teams/{team['id']}", json={"name": "夜班一组", "leader_id": None})
    assert renamed.json()["name"] == "夜班一组" and renamed.json()["leader"] is None

    assert await teams.member_ids(seeded, team["id"]) == {ids["agent3"]}
    of = await teams.teams_of(seeded, [ids["agent1"], ids["agent3"], ids["planner"]])
    assert {k: v.name for k, v in of.items()} == {ids["agent1"]: "预订一组", ids["agent3"]: "夜班一组"}
    led = await teams.led_by(seeded, ids["teamlead"])
    assert led is not None and led.name == "预订一组"

    async with seeded.read() as session:
        entries = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.actor_name == "supervisor").order_by(AuditEntry.seq)
            )
        ).all()
    actions = [(e.action, e.entity_type) for e in entries]
    assert ("teams.create", "teams") in actions and ("teams.update", "teams") in actions
    moves = [e for e in entries if e.action == "users.update" and e.entity_id == str(ids["agent3"])]
    assert [(m.before or {}).get("team_id") for m in moves] == [booking["id"], None]
    assert [(m.after or {}).get("team_id") for m in moves] == [None, team["id"]]


async def test_bad_team_input_is_refused_naming_the_field(users: Users) -> None:
    supervisor = await users("supervisor")
    ids = await _ids(await users("admin"))
    booking = next(t for t in (await supervisor.get("/api/teams")).json() if t["name"] == "预订一组")

    assert_problem(
        await supervisor.post("/api/teams", json={"name": "  "}), 422, "validation-failed", "body.name"
    )
    assert_problem(
        await supervisor.post("/api/teams", json={"name": "预订一组"}), 409, "team-name-taken", "body.name"
    )
    assert_problem(
        await supervisor.post("/api/teams", json={"name": "新组", "leader_id": 999999}),
        404,
        "user-not-found",
        "body.leader_id",
    )
    taken = assert_problem(
        await supervisor.post("/api/teams", json={"name": "新组", "member_ids": [ids["agent4"]]}),
        409,
        "already-in-team",
        "body.member_ids",
    )
    assert "旅游一组" in str(taken["detail"])
    assert_problem(
        await supervisor.post(f"/api/teams/{booking['id']}/members", json={"user_ids": []}),
        422,
        "validation-failed",
        "body.user_ids",
    )
    assert_problem(
        await supervisor.patch("/api/teams/424242", json={"name": "x"}), 404, "team-not-found", "team_id"
    )
    assert_problem(
        await supervisor.delete(f"/api/teams/{booking['id']}/members/{ids['agent5']}"),
        404,
        "user-not-found",
        "user_id",
    )
    # nothing of the refused requests was made
    names = [t["name"] for t in (await supervisor.get("/api/teams")).json()]
    assert sorted(names) == sorted(["预订一组", "旅游一组"])


async def test_team_leads_and_agents_may_not_redraw_teams(users: Users) -> None:
    lead = await users("teamlead")
    assert_problem(await lead.post("/api/teams", json={"name": "我的组"}), 403, "permission-denied")
    agent = await users("agent1")
    assert_problem(await agent.get("/api/teams"), 403, "permission-denied")


async def test_a_team_lead_filter_defaults_to_their_own_team(seeded: Context, users: Users) -> None:
    ids = await _ids(await users("admin"))
    lead = seeded.as_actor(
        Actor(ids["teamlead"], "teamlead", frozenset({"team_lead"}), permissions_for({"team_lead"}))
    )
    team, members = await teams.scope(lead, None)
    assert team is not None and team.name == "预订一组"
    assert members == {ids["agent1"], ids["agent2"], ids["agent3"]}
    supervisor = seeded.as_actor(
        Actor(ids["supervisor"], "supervisor", frozenset({"supervisor"}), permissions_for({"supervisor"}))
    )
    assert await teams.scope(supervisor, None) == (None, None)
