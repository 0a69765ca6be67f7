"""Routes for customers: search, files, phones, revealing personal data, caller identification."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, UploadFile
from fastapi.responses import Response

from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.core.schemas import Page
from hotline.core.web import COMPUTED, IdPath, requires
from hotline.crm import loyalty, merge, service, timeline, transfer
from hotline.crm.schemas import (
    AdjustIn,
    CallerIdentity,
    CustomerHit,
    CustomerIn,
    CustomerOut,
    CustomerUpdate,
    EarnIn,
    ImportReport,
    LoyaltyOut,
    MemberCard,
    MergeIn,
    PhoneIn,
    PointsEntryOut,
    RedeemIn,
    Revealed,
    RevealIn,
    TimelineEntryOut,
    VisitIn,
)

router = APIRouter(prefix="/api/customers", tags=["customers"])
READ = Annotated[Context, Depends(requires(Permission.CUSTOMERS_READ))]
WRITE = Annotated[Context, Depends(requires(Permission.CUSTOMERS_WRITE))]


@router.get("")
async def search(
    ctx: READ,
    q: Annotated[
        str,
        Query(
            min_length=1, max_length=60, description="Phone, name, pinyin, member number, ID number or e-mail"
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[CustomerHit]:
    """One search box; people of the same name come with hints (birth year, city, last digits)."""
    return await service.search(ctx, q, limit=limit)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/export", response_class=Response, responses={200: {"content": {"text/csv": {}, XLSX: {}}}, **COMPUTED}
)
async def export(
    ctx: Annotated[Context, Depends(requires(Permission.CUSTOMERS_EXPORT))],
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
    include_pii: Annotated[
        bool, Query(description="Unmasked personal data (needs customers.read_pii)")
    ] = False,
    tier: Annotated[Literal["standard", "silver", "gold", "platinum"] | None, Query()] = None,
    city: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Customers as CSV or XLSX; audited."""
    data, media_type = await transfer.export_customers(
        ctx, format, include_pii=include_pii, tier=tier, city=city
    )
    filename = f"customers.{format}"
    return Response(
        data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.post("/import", responses=COMPUTED)
async def import_file(
    file: UploadFile,
    ctx: WRITE,
    dry_run: Annotated[bool, Query(description="Check only: report problems, write nothing")] = True,
) -> ImportReport:
    """CSV or XLSX with a header row (English or Chinese column names). Every problem comes back as
    (row, field, message); a file with any problem writes nothing."""
    data = await file.read(8 * 1024 * 1024 + 1)
    if len(data) > 8 * 1024 * 1024:
        raise InvalidInput("Files of at most 8 MB", field="file", reason="files-most-8-mb")
    return await transfer.import_customers(ctx, data, file.filename or "customers.csv", dry_run=dry_run)


@router.get("/identify")
async def identify(
    ctx: READ, phone: Annotated[str, Query(min_length=1, max_length=32, description="The caller ID")]
) -> CallerIdentity:
    """Who is calling (R4): unknown, a known customer, or a number several customers share."""
    return await service.identify_caller(ctx, phone)


@router.post("", status_code=201)
async def create(body: CustomerIn, ctx: WRITE) -> CustomerOut:
    return await service.create(ctx, body)


@router.get("/members/{member_number}")
async def member(
    member_number: Annotated[str, Path(pattern=r"^[0-9]{1,8}$", description="会员号 / 用户证号")], ctx: READ
) -> MemberCard:
    """Who a member number belongs to (forms fill name and phone from it); the phone masked."""
    return await service.member(ctx, member_number)


@router.get("/{customer_id}")
async def get(customer_id: IdPath, ctx: READ) -> CustomerOut:
    """The file, with personal data masked (reveal a field with POST …/reveal)."""
    return await service.get(ctx, customer_id)


@router.patch("/{customer_id}")
async def update(customer_id: IdPath, body: CustomerUpdate, ctx: WRITE) -> CustomerOut:
    return await service.update(ctx, customer_id, body)


@router.post("/{customer_id}/phones")
async def add_phone(customer_id: IdPath, body: PhoneIn, ctx: WRITE) -> CustomerOut:
    """Add a number (also "register this new number" for a known customer on a new phone)."""
    return await service.add_phone(ctx, customer_id, body)


@router.delete("/{customer_id}/phones/{phone_id}")
async def remove_phone(customer_id: IdPath, phone_id: IdPath, ctx: WRITE) -> CustomerOut:
    return await service.remove_phone(ctx, customer_id, phone_id)


@router.post("/{customer_id}/reveal")
async def reveal(
    customer_id: IdPath,
    body: RevealIn,
    ctx: Annotated[Context, Depends(requires(Permission.CUSTOMERS_READ_PII))],
) -> Revealed:
    """One field unmasked, for roles with customers.read_pii; every reveal is audited."""
    return await service.reveal(ctx, customer_id, body.field)


@router.get("/{customer_id}/loyalty")
async def get_loyalty(customer_id: IdPath, ctx: READ) -> LoyaltyOut:
    """Points (the ledger's sum), tier, what the next tier needs, benefits, ledger, tier history."""
    return LoyaltyOut.model_validate(await loyalty.summary(ctx, customer_id))


@router.post("/{customer_id}/loyalty/earn", status_code=201)
async def earn(customer_id: IdPath, body: EarnIn, ctx: WRITE) -> PointsEntryOut:
    """Points for money spent, by the earning rule (a point per yuan times the tier's multiplier)."""
    entry = await loyalty.earn(ctx, customer_id, body.amount, reason=body.reason, ref=body.ref)
    return PointsEntryOut.model_validate(entry)


@router.post("/{customer_id}/loyalty/redeem", status_code=201)
async def redeem(customer_id: IdPath, body: RedeemIn, ctx: WRITE) -> PointsEntryOut:
    return PointsEntryOut.model_validate(
        await loyalty.redeem(ctx, customer_id, body.points, reason=body.reason)
    )


@router.post("/{customer_id}/loyalty/adjust", status_code=201)
async def adjust(
    customer_id: IdPath, body: AdjustIn, ctx: Annotated[Context, Depends(requires(Permission.LOYALTY_ADJUST))]
) -> PointsEntryOut:
    """A supervisor's correction, with its reason (audited)."""
    return PointsEntryOut.model_validate(
        await loyalty.adjust(ctx, customer_id, body.points, reason=body.reason)
    )


@router.get("/{customer_id}/timeline")
async def get_timeline(
    customer_id: IdPath,
    ctx: READ,
    limit: Annotated[int, Query(ge=1, le=200)] = 30,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    group: Annotated[timeline.TimelineGroup | None, Query(description="only entries of this kind")] = None,
) -> Page[TimelineEntryOut]:
    """Every contact across domains (calls, bookings, orders, tickets, messages, surveys, visits),
    newest first; `group` narrows it to one kind (calls, conversations, points …)."""
    rows, total = await timeline.page(ctx, customer_id, limit=limit, offset=offset, group=group)
    return Page[TimelineEntryOut](items=[TimelineEntryOut.model_validate(r) for r in rows], total=total)


@router.post("/{customer_id}/visits", status_code=201)
async def log_visit(customer_id: IdPath, body: VisitIn, ctx: WRITE) -> TimelineEntryOut:
    """A walk-in visit (C7), on the customer's timeline."""
    entry = await timeline.log_visit(ctx, customer_id, body.place, body.purpose, body.note)
    return TimelineEntryOut.model_validate(entry)


@router.get("/{customer_id}/duplicates")
async def duplicates(customer_id: IdPath, ctx: READ) -> list[CustomerHit]:
    """Files that may be the same person: a shared phone, ID number or e-mail, or the same name
    and birthday."""
    return await merge.candidates(ctx, customer_id)


@router.post("/{customer_id}/merge")
async def merge_into(
    customer_id: IdPath, body: MergeIn, ctx: Annotated[Context, Depends(requires(Permission.CUSTOMERS_MERGE))]
) -> CustomerOut:
    """Move everything of the duplicate (phones, points, timeline) onto this file; audited."""
    return await merge.merge(ctx, customer_id, body.merge_id)


@router.delete("/{customer_id}", status_code=204)
async def forget(
    customer_id: IdPath, ctx: Annotated[Context, Depends(requires(Permission.CUSTOMERS_DELETE))]
) -> None:
    """Anonymise the file: personal data goes, bookings and statistics stay; audited."""
    await merge.delete(ctx, customer_id)
