from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hotline.admin.models import User
from hotline.core.context import Context
from hotline.tickets import demo
from hotline.tickets.models import Unit


@pytest.fixture
async def seeded(seeded: Context) -> Context:
    """The demo organisation with the tickets demo's extra department staff (hotline demo-data)."""
    await demo.load_staff(seeded)
    return seeded


async def unit_ids(ctx: Context) -> dict[str, int]:
    async with ctx.read() as session:
        return {u.code: u.id for u in (await session.scalars(select(Unit))).all()}


async def user_ids(ctx: Context) -> dict[str, int]:
    async with ctx.read() as session:
        return {u.username: u.id for u in (await session.scalars(select(User))).all()}


def work_order(**more: Any) -> dict[str, Any]:
    """Seed 003's form: 设备类型 数字, 需求类型 测试, a 预约时间, 受理内容 测试."""
    return {
        "type_code": "work_order", "title": "测试", "content": "测试",
        "fields": {"device_type": "数字", "requirement_type": "测试", "appointment": "2026-12-01T10:00:00+08:00"},  # noqa: E501
    } | more  # fmt: skip


async def act(http: httpx.AsyncClient, ticket_id: int, action: str, **body: Any) -> httpx.Response:
    return await http.post(f"/api/tickets/{ticket_id}/transition", json={"action": action, **body})
