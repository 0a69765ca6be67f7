"""Duplicate files: finding candidates and merging two into one; forgetting a customer.

Candidates share a phone, the ID number or the e-mail, or have the same name and birthday.
Merging keeps the surviving file and moves everything of the other onto it — every phone, the
whole points ledger (the balance is re-summed), the timeline — fills the survivor's empty fields
from the other, and leaves the other anonymised with a pointer to the survivor, so references
from other domains can follow. The merge is audited with what moved. Un-merging is not offered.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.crm import loyalty
from hotline.crm.events import CustomerForgotten
from hotline.crm.models import Customer, CustomerPhone, PointsEntry, TimelineEntry
from hotline.crm.schemas import CustomerHit, CustomerOut
from hotline.crm.service import _hit, _out

FILLED = ("gender", "id_number", "birthday", "email", "address", "city")


async def candidates(ctx: Context, customer_id: int) -> list[CustomerHit]:
    ctx.require(Permission.CUSTOMERS_READ)
    async with ctx.read() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None or customer.anonymised:
            raise NotFound(
                f"No customer {customer_id}",
                field="customer_id",
                reason="no-customer",
                params={"customer_id": customer_id},
            )
        numbers = [p.number for p in customer.phones]
        same: list[object] = [
            Customer.id.in_(select(CustomerPhone.customer_id).where(CustomerPhone.number.in_(numbers)))
        ]
        if customer.id_number:
            same.append(Customer.id_number == customer.id_number)
        if customer.email:
            same.append(Customer.email == customer.email)
        if customer.birthday:
            same.append((Customer.name == customer.name) & (Customer.birthday == customer.birthday))
        rows = (
            await session.scalars(
                select(Customer)
                .where(or_(*same), Customer.id != customer.id, Customer.anonymised.is_(False))  # type: ignore[arg-type]
                .limit(20)
            )
        ).all()
    out = []
    for other in rows:
        why = "phone" if {p.number for p in other.phones} & set(numbers) else (
            "id_number" if customer.id_number and other.id_number == customer.id_number else
            "email" if customer.email and other.email == customer.email else "name"
        )  # fmt: skip
        out.append(_hit(other, why))
    return out


async def merge(ctx: Context, keep_id: int, merge_id: int) -> CustomerOut:
    ctx.require(Permission.CUSTOMERS_MERGE)
    if keep_id == merge_id:
        raise InvalidInput(
            "Choose two different customers", field="body.merge_id", reason="choose-two-different-customers"
        )
    async with ctx.write() as tx:
        keep = await tx.session.get(Customer, keep_id, with_for_update=True)
        gone = await tx.session.get(Customer, merge_id, with_for_update=True)
        if keep is None or keep.anonymised:
            raise NotFound(
                f"No customer {keep_id}",
                field="customer_id",
                reason="no-customer-to-keep",
                params={"keep_id": keep_id},
            )
        if gone is None or gone.anonymised:
            raise NotFound(
                f"No customer {merge_id}",
                field="body.merge_id",
                reason="no-customer-to-merge",
                params={"merge_id": merge_id},
            )
        moved_phones = []
        have = {p.number for p in keep.phones}
        for phone in list(gone.phones):
            gone.phones.remove(phone)
            if phone.number not in have:
                moved_phones.append(phone.number)
                keep.phones.append(CustomerPhone(number=phone.number, label=phone.label, preferred=False,
                                                 recognise=phone.recognise))  # fmt: skip
        filled = []
        taken_id = gone.id_number
        for field in FILLED:
            if not getattr(keep, field) and getattr(gone, field):
                filled.append(field)
                if field != "id_number":
                    setattr(keep, field, getattr(gone, field))
        gone.id_number = None  # unique: free it before the survivor takes it
        await tx.session.flush()
        if "id_number" in filled:
            keep.id_number, keep.id_type = taken_id, gone.id_type
        keep.tags = sorted(set(keep.tags) | set(gone.tags))
        keep.preferences = {**gone.preferences, **keep.preferences}
        if gone.notes:
            keep.notes = (
                keep.notes + "\n" if keep.notes else ""
            ) + f"[合并自 {gone.member_number}] {gone.notes}"
        if gone.last_contact_at and (
            keep.last_contact_at is None or gone.last_contact_at > keep.last_contact_at
        ):
            keep.last_agent_id, keep.last_contact_at = gone.last_agent_id, gone.last_contact_at
        moved = {}
        for model in (PointsEntry, TimelineEntry):
            result = await tx.session.execute(
                update(model).where(model.customer_id == gone.id).values(customer_id=keep.id)
            )
            moved[model.__tablename__] = result.rowcount  # type: ignore[attr-defined]
        member_number = gone.member_number
        _anonymise(gone)
        gone.merged_into_id = keep.id
        keep.updated_by = ctx.actor.user_id
        await tx.session.flush()
        await loyalty.settle(tx.session, keep, utcnow(), f"merged {member_number}")
        tx.audit(
            "customer.merged", "customer", keep.id,
            after={"merged": member_number, "phones": len(moved_phones), "filled": filled, **moved},
        )  # fmt: skip
        await tx.session.flush()
        await tx.session.refresh(keep, ["phones"])
        return _out(keep)


def _anonymise(customer: Customer) -> None:
    """Personal data out; the row stays for the bookings and statistics that point at it."""
    customer.name, customer.name_pinyin, customer.name_initials = "已删除", "", ""
    customer.id_number, customer.email, customer.birthday, customer.gender = None, None, None, None
    customer.address, customer.notes, customer.tags, customer.preferences = "", "", [], {}
    customer.phones.clear()
    customer.anonymised = True


async def delete(ctx: Context, customer_id: int) -> None:
    """The customer asked to be forgotten: personal data is removed for good; bookings, orders
    and statistics keep pointing at the (now nameless) file. Audited."""
    ctx.require(Permission.CUSTOMERS_DELETE)
    async with ctx.write() as tx:
        customer = await tx.session.get(Customer, customer_id)
        if customer is None or customer.anonymised:
            raise NotFound(
                f"No customer {customer_id}",
                field="customer_id",
                reason="no-customer",
                params={"customer_id": customer_id},
            )
        member_number = customer.member_number
        phones = [p.number for p in customer.phones]
        _anonymise(customer)
        await tx.session.execute(
            update(TimelineEntry).where(TimelineEntry.customer_id == customer_id).values(detail="")
        )
        tx.audit("customer.anonymised", "customer", customer_id, after={"member_number": member_number})
        tx.publish(CustomerForgotten(customer_id=customer_id, phones=phones))
