"""Customers as an export job (exports/subjects.py): the columns of the import file
(crm/transfer.py), so a file exported here imports back; personal data masked unless asked for
with customers.read_pii."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.privacy import Kind
from hotline.crm.models import Customer, CustomerPhone
from hotline.exports.subjects import Column, Keyset, Row, Source, subject


class CustomerFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: Literal["standard", "silver", "gold", "platinum"] | None = None
    city: str | None = Field(default=None, min_length=1, max_length=40)


COLUMNS = (
    Column("member_number", "会员号", "member_number", width=10),
    Column("name", "姓名", "name", width=12),
    Column("title", "称呼", "title", width=8),
    Column("gender", "性别", "gender", width=6),
    Column("id_type", "证件类型", "id_type", width=10),
    Column("id_number", "证件号码", "id_number", personal=Kind.ID_NUMBER, width=20),
    Column("birthday", "生日", "birthday", "date", personal=Kind.BIRTHDAY, width=12),
    Column("phones", "电话", "phones", personal=Kind.PHONE, width=18),
    Column("email", "邮箱", "email", personal=Kind.EMAIL, width=22),
    Column("city", "城市", "city", width=10),
    Column("address", "地址", "address", personal=Kind.ADDRESS, width=30),
    Column("tier", "等级", "tier", width=10),
    Column("points", "积分", "points", "int", width=10),
    Column("tags", "标签", "tags", width=16),
    Column("source", "来源", "source", width=10),
    Column("notes", "备注", "notes", width=30),
)


@subject("customers", Permission.CUSTOMERS_EXPORT, CustomerFilters, ("客户", "Customers"), COLUMNS)
async def customers(ctx: Context, filters: CustomerFilters) -> Source:
    query = select(
        Customer.id, Customer.member_number, Customer.name, Customer.title, Customer.gender,
        Customer.id_type, Customer.id_number, Customer.birthday, Customer.id, Customer.email, Customer.city,
        Customer.address, Customer.tier, Customer.points, Customer.tags, Customer.source, Customer.notes,
    ).where(Customer.anonymised.is_(False))  # fmt: skip
    if filters.tier:
        query = query.where(Customer.tier == filters.tier)
    if filters.city:
        query = query.where(Customer.city == filters.city)

    async def with_phones(ctx: Context, rows: list[Row]) -> list[Row]:
        async with ctx.read() as session:
            found = await session.execute(
                select(CustomerPhone.customer_id, CustomerPhone.number)
                .where(CustomerPhone.customer_id.in_([r[7] for r in rows]))
                .order_by(CustomerPhone.id)
            )
            phones: dict[int, list[str]] = {}
            for customer_id, number in found.all():
                phones.setdefault(customer_id, []).append(number.removeprefix("+86"))
        return [
            (*r[:7], phones.get(r[7], []), *r[8:13], ",".join(map(str, r[13] or [])), *r[14:]) for r in rows
        ]

    return Keyset(query, Customer.id, with_phones)
