"""Users and roles administration (SPEC X1) and the permission matrix."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from hotline.admin.models import User
from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from hotline.core.permissions import ROLE_PERMISSIONS, Permission, Role
from tests.conftest import Users, assert_problem


async def count(ctx: Context, model: type) -> int:
    async with ctx.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_admin_creates_user_with_several_roles_and_the_change_is_audited(
    users: Users, seeded: Context
) -> None:
    admin = await users("admin")
    response = await admin.post(
        "/api/users",
        json={
            "username": "Agent6",
            "display_name": "许静",
            "password": "Orchid-lane-42",
            "roles": ["agent", "qa"],
            "work_number": "006",
        },
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["username"] == "agent6" and user["roles"] == ["agent", "qa"]

    async with seeded.read() as session:
        entries = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "users", AuditEntry.entity_id == str(user["id"]))
                .order_by(AuditEntry.seq)
            )
        ).all()
    created = next(e for e in entries if e.action == "users.create")
    assert created.actor_name == "admin" and created.after is not None
    assert created.after["password_hash"] == "***" and created.after["display_name"] == "许静"

    renamed = await admin.patch(f"/api/users/{user['id']}", json={"display_name": "许静怡"})
    assert renamed.json()["display_name"] == "许静怡"
    async with seeded.read() as session:
        update = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "users.update").order_by(AuditEntry.seq.desc())
        )
    assert update is not None and update.before is not None and update.after is not None
    assert (update.before["display_name"], update.after["display_name"]) == ("许静", "许静怡")

    roles = await admin.put(f"/api/users/{user['id']}/roles", json={"roles": ["team_lead"]})
    assert roles.json()["roles"] == ["team_lead"]
    signed_in = await users("agent6", "Orchid-lane-42")
    assert "orders.assign" in (await signed_in.get("/api/auth/me")).json()["permissions"]


async def test_given_agent_when_creating_user_then_403_and_nothing_changes(
    users: Users, seeded: Context
) -> None:
    agent = await users("agent1")
    before_users, before_audit = await count(seeded, User), await count(seeded, AuditEntry)
    response = await agent.post(
        "/api/users",
        json={
            "username": "mole",
            "display_name": "x",
            "password": "Orchid-lane-42",
            "roles": ["admin"],
        },
    )
    assert_problem(response, 403, "permission-denied")
    assert (await count(seeded, User), await count(seeded, AuditEntry)) == (
        before_users,
        before_audit,
    )


async def test_bad_user_input_names_the_field_and_changes_nothing(users: Users, seeded: Context) -> None:
    admin = await users("admin")
    before = await count(seeded, User)
    cases = [
        (
            {
                "username": "x1",
                "display_name": "x",
                "password": "Orchid-lane-42",
                "roles": ["wizard"],
            },
            422,
            "unknown-role",
            "body.roles",
        ),
        (
            {"username": "agent1", "display_name": "x", "password": "Orchid-lane-42"},
            409,
            "username-taken",
            "body.username",
        ),
        (
            {
                "username": "x2",
                "display_name": "x",
                "password": "Orchid-lane-42",
                "work_number": "001",
            },
            409,
            "work-number-taken",
            "body.work_number",
        ),
        (
            {"username": "x3", "display_name": "x", "password": "short"},
            422,
            "password-policy",
            "body.password",
        ),
        (
            {"username": "x 4", "display_name": "x", "password": "Orchid-lane-42"},
            422,
            "validation-failed",
            "body.username",
        ),
        (
            {"username": "x5", "display_name": "x", "password": "Orchid-lane-42", "roles": "agent"},
            422,
            "validation-failed",
            "body.roles",
        ),
        (
            {"username": "x6", "display_name": "x", "password": "Orchid-lane-42", "is_admin": True},
            422,
            "validation-failed",
            "body.is_admin",
        ),
    ]
    for body, status, code, field in cases:
        assert_problem(await admin.post("/api/users", json=body), status, code, field=field)
    assert_problem(await admin.get("/api/users/99999"), 404, "user-not-found")
    assert_problem(await admin.get("/api/users/abc"), 422, "validation-failed", field="path.user_id")
    assert_problem(await admin.get("/api/users?limit=0"), 422, "validation-failed", field="query.limit")
    assert await count(seeded, User) == before


async def test_the_last_active_admin_cannot_be_disabled_or_demoted(users: Users) -> None:
    admin = await users("admin")
    admin_id = (await admin.get("/api/auth/me")).json()["id"]
    assert_problem(await admin.patch(f"/api/users/{admin_id}", json={"is_active": False}), 409, "last-admin")
    assert_problem(
        await admin.put(f"/api/users/{admin_id}/roles", json={"roles": ["agent"]}),
        409,
        "last-admin",
    )
    assert (await admin.get("/api/auth/me")).json()["roles"] == ["admin"]


async def test_user_list_filters_by_role_text_and_state(users: Users) -> None:
    admin = await users("admin")
    agents = (await admin.get("/api/users", params={"role": "agent"})).json()
    assert agents["total"] == 5 and {u["username"] for u in agents["items"]} == {
        f"agent{i}" for i in range(1, 6)
    }
    assert [u["username"] for u in (await admin.get("/api/users", params={"q": "003"})).json()["items"]] == [
        "agent3"
    ]
    page = (await admin.get("/api/users", params={"limit": 2, "offset": 2})).json()
    assert page["total"] == 13 and len(page["items"]) == 2


def test_permission_matrix_matches_spec_roles() -> None:
    assert {r.value for r in Role} == {
        "agent",
        "team_lead",
        "planner",
        "front_desk",
        "finance",
        "qa",
        "supervisor",
        "admin",
        "dept_staff",
    }
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    assert Permission.CUSTOMERS_READ_PII not in ROLE_PERMISSIONS[Role.AGENT]
    assert Permission.FINANCE_REVIEW in ROLE_PERMISSIONS[Role.FINANCE]
    assert Permission.ORDERS_SIGN in ROLE_PERMISSIONS[Role.FRONT_DESK]
    assert Permission.TICKETS_PROCESS in ROLE_PERMISSIONS[Role.DEPT_STAFF]
    assert all(ROLE_PERMISSIONS[r] for r in Role)


async def test_each_demo_login_signs_in_and_sees_only_its_roles(users: Users) -> None:
    from hotline.demo import USERS

    for demo_user in USERS:
        me = (await (await users(demo_user.username)).get("/api/auth/me")).json()
        assert me["roles"] == list(demo_user.roles)
        granted = set(me["permissions"])
        assert granted == {p.value for r in demo_user.roles for p in ROLE_PERMISSIONS[Role(r)]}


async def test_client_error_changes_nothing_in_audit(client: httpx.AsyncClient, seeded: Context) -> None:
    before = await count(seeded, AuditEntry)
    assert_problem(await client.post("/api/users", json={}), 401, "not-authenticated")
    assert await count(seeded, AuditEntry) == before
