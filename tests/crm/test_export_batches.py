"""A large export is read a batch at a time and comes out whole: every customer once, in order."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from hotline import demo
from hotline.core.context import Context
from hotline.crm.models import Customer
from tests.conftest import Users


@pytest.fixture
async def crowd(seeded: Context) -> Context:
    await demo.load_customers(seeded, 1200)  # many batches
    return seeded


async def test_an_export_of_more_customers_than_a_batch_has_each_once_in_order(
    crowd: Context, users: Users
) -> None:
    supervisor = await users("supervisor")
    answer = await supervisor.get("/api/customers/export")
    assert answer.status_code == 200, answer.text
    numbers = [
        row["member_number"] for row in csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")))
    ]
    async with crowd.read() as session:
        total = await session.scalar(select(func.count()).where(Customer.anonymised.is_(False)))
    assert len(numbers) == total > 1000
    assert numbers == sorted(set(numbers))
