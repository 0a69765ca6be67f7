"""The customer's documents (O5): the travel contract and the itinerary as PDF, generated from
the order, with a Chinese font embedded (WenQuanYi Micro Hei from Debian's fonts-wqy-microhei,
subset into the file) so they print and open the same everywhere. Without that font the PDF
falls back to the reader's built-in STSong (not embedded) rather than failing."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select

from hotline.admin import directory
from hotline.core import privacy
from hotline.core.context import Actor, Context
from hotline.core.errors import InvalidTransition, NotFound
from hotline.core.i18n import yuan
from hotline.core.permissions import Permission
from hotline.core.privacy import Kind
from hotline.travel.models import Departure, Order, OrderItem, PlannerDesk, Route
from hotline.travel.state import CONTRACTABLE, State

AGENCY = "英冠国际旅行社"
AGENCY_PHONE = "4008002000"
FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
KINDS = {"domestic": "国内游", "international": "出境游"}
TERMS = (
    "一、旅游者应确保所提供的身份信息真实有效，出境游需持有效期六个月以上的护照及相应签证。",
    "二、旅游者出发前解除合同的，旅行社扣除已实际发生且不可退还的费用后，将余款退还旅游者。",
    "三、因不可抗力或旅行社已尽合理注意义务仍不能避免的事件影响行程的，双方按《旅游法》相关规定处理。",
    "四、行程中如遇紧急情况，请拨打旅行社24小时服务热线，我们将第一时间为您提供救援与协助。",
    "五、本合同未尽事宜，按《中华人民共和国旅游法》及国家旅游主管部门发布的合同示范文本执行。",
)


@functools.cache
def font() -> tuple[str, bool]:
    """The font's name for the styles and whether it is embedded."""
    for path in FONTS:
        if path.is_file():
            pdfmetrics.registerFont(TTFont("HotlineCJK", str(path), subfontIndex=0))
            return "HotlineCJK", True
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light", False


def _styles() -> dict[str, ParagraphStyle]:
    name, _ = font()
    body = ParagraphStyle("body", fontName=name, fontSize=10, leading=15, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", parent=body, fontSize=12, leading=20, spaceBefore=8),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=12, textColor=colors.grey),
    }


def _table(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
    name, _ = font()
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), name),
        ("FONTSIZE", (0, 0), (-1, -1), 9.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa7b5")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")))
    table.setStyle(TableStyle(style))
    return table


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _cn(day: date | None) -> str:
    return f"{day:%Y年%m月%d日}" if day else "待定"


@dataclass(frozen=True)
class _Item:
    title: str
    kind: str
    adults: int
    children: int
    singles: int
    amount: Decimal


@dataclass(frozen=True)
class _Papers:
    """What the documents print, read from the order on the loop and handed to a compute worker."""

    number: str
    contract_no: str | None
    kind: str
    contact_name: str
    departs_on: date | None
    returns_on: date | None
    adults: int
    children: int
    receivable: Decimal
    received: Decimal
    items: tuple[_Item, ...]
    route_name: str | None
    destination: str
    days: int
    itinerary: tuple[dict[str, Any], ...]
    inclusions: str
    exclusions: str
    planner: str
    planner_phone: str
    parties: tuple[str, ...] = ()
    """The contract's parties, as `parties()` words them for whoever prints it."""


async def _gather(ctx: Context, order_id: int) -> tuple[Order, _Papers]:
    async with ctx.read() as session:
        order = await session.get(Order, order_id)
        if order is None:
            raise NotFound(
                f"No order {order_id}", field="order_id", reason="no-order", params={"order_id": order_id}
            )
        items = list(
            (
                await session.scalars(
                    select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.id)
                )
            ).all()
        )
        tour = next((i for i in items if i.kind == "tour"), None)
        departure = await session.get(Departure, tour.departure_id) if tour and tour.departure_id else None
        route = await session.get(Route, departure.route_id) if departure else None
        planner = (await directory.names(session, [order.planner_id])).get(order.planner_id or 0, "")
        desk = await session.get(PlannerDesk, order.planner_id) if order.planner_id else None
    papers = _Papers(
        number=order.number, contract_no=order.contract_no, kind=order.kind, contact_name=order.contact_name,
        departs_on=order.departs_on, returns_on=order.returns_on,
        adults=order.adults, children=order.children, receivable=order.receivable, received=order.received,
        items=tuple(_Item(i.title, i.kind, i.adults, i.children, i.singles, i.amount) for i in items),
        route_name=route.name if route else None, destination=route.destination if route else "",
        days=route.days if route else 0, itinerary=tuple(route.itinerary) if route else (),
        inclusions=route.inclusions if route else "", exclusions=route.exclusions if route else "",
        planner=planner, planner_phone=desk.phone if desk else AGENCY_PHONE,
    )  # fmt: skip
    return order, papers


def parties(actor: Actor, order: Order) -> list[str]:
    """The contract's parties. The traveller's phone is real on the contract they sign; printed by
    a role that may not reveal personal data it is a copy with the phone masked, and says so."""
    phone = privacy.for_document(actor, Kind.PHONE, order.contact_phone)
    lines = [
        f"甲方（旅游者）：{order.contact_name}　　联系电话：{phone}",
        f"乙方（旅行社）：{AGENCY}　　服务热线：{AGENCY_PHONE}",
    ]
    if not privacy.may_reveal(actor):
        lines.append("（副本：旅游者个人信息已隐去，签约请由前台或计调打印）")
    return lines


def _build(story: list[Any], title: str) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=AGENCY,
    )
    doc.build(story)
    return buffer.getvalue()


async def contract(ctx: Context, order_id: int) -> tuple[str, bytes]:
    """The travel contract: parties, trip, travellers, the priced items, payment and terms."""
    ctx.require(Permission.ORDERS_READ)
    order, papers = await _gather(ctx, order_id)
    if State(order.state) not in CONTRACTABLE:
        raise InvalidTransition(
            "The contract is drawn up once the planner hands the order over for signing",
            rule="contract-not-ready",
            reason="contract-drawn-up-once-planner",
        )
    pdf = await ctx.compute(render_contract, replace(papers, parties=tuple(parties(ctx.actor, order))))
    async with ctx.write() as tx:
        tx.audit("travel.contract_printed", "travel_order", order.id,
                 after={"personal_data": privacy.may_reveal(ctx.actor)})  # fmt: skip
    return f"contract-{order.number}.pdf", pdf


def render_contract(order: _Papers) -> bytes:
    """The contract as PDF (in the compute pool: laying out a document takes a CPU for a while)."""
    s = _styles()
    contract_no = order.contract_no or f"HT{order.number}（待签）"
    story: list[Any] = [
        _p(f"{AGENCY} 旅游合同", s["title"]),
        Spacer(1, 4 * mm),
        _p(
            f"合同编号：{contract_no}　　订单号：{order.number}　　类型：{KINDS.get(order.kind, order.kind)}",
            s["body"],
        ),
        *[_p(line, s["body"]) for line in order.parties],
        _p("一、旅游行程", s["h2"]),
        _p(
            f"线路：{order.route_name or '（见下列项目）'}　出发：{_cn(order.departs_on)}　返回：{_cn(order.returns_on)}"  # noqa: E501
            f"　人数：成人{order.adults}人，儿童{order.children}人",
            s["body"],
        ),
        _p("二、旅游项目及费用", s["h2"]),
    ]
    rows: list[list[Any]] = [["项目", "明细", "金额"]]
    for item in order.items:
        what = f"成人{item.adults} 儿童{item.children} 单房差{item.singles}" if item.kind == "tour" else ""
        rows.append([_p(item.title, s["body"]), _p(what, s["body"]), yuan(item.amount)])
    rows.append(["合计应收", "", yuan(order.receivable)])
    story += [
        _table(rows, [95 * mm, 45 * mm, 34 * mm]),
        _p(
            f"已付：{yuan(order.received)}　　未付：{yuan(order.receivable - order.received)}。"
            "余款请于出发前付清，可分期支付，每笔付款均出具收据。",
            s["body"],
        ),
        _p("三、双方约定", s["h2"]),
        *[_p(term, s["body"]) for term in TERMS],
        Spacer(1, 10 * mm),
        _table([["甲方签字：", "乙方（盖章）：" + AGENCY], ["日期：", "经办人：" + (order.planner or "")]],
               [87 * mm, 87 * mm], header=False),
        Spacer(1, 4 * mm),
        _p("本合同一式两份，甲乙双方各执一份，具有同等法律效力。", s["small"]),
    ]  # fmt: skip
    return _build(story, f"旅游合同 {order.number}")


async def itinerary(ctx: Context, order_id: int) -> tuple[str, bytes]:
    """The itinerary for the customer: day by day, what is included and whom to call."""
    ctx.require(Permission.ORDERS_READ)
    order, papers = await _gather(ctx, order_id)
    if papers.route_name is None:
        raise InvalidTransition(
            "The order has no tour yet: add a departure first", rule="no-tour", reason="order-no-tour-yet-add"
        )
    pdf = await ctx.compute(render_itinerary, papers)
    async with ctx.write() as tx:
        tx.audit("travel.itinerary_printed", "travel_order", order.id)
    return f"itinerary-{order.number}.pdf", pdf


def render_itinerary(order: _Papers) -> bytes:
    """The itinerary as PDF (in the compute pool)."""
    s = _styles()
    story: list[Any] = [
        _p(f"{order.route_name} 行程单", s["title"]),
        Spacer(1, 3 * mm),
        _p(
            f"订单号：{order.number}　游客：{order.contact_name}（成人{order.adults}人，儿童{order.children}人）",  # noqa: E501
            s["body"],
        ),
        _p(
            f"出发：{_cn(order.departs_on)}　返回：{_cn(order.returns_on)}　目的地：{order.destination}　共{order.days}天",  # noqa: E501
            s["body"],
        ),
        _p("每日行程", s["h2"]),
    ]
    rows: list[list[Any]] = [["日期", "行程", "用餐", "住宿"]]
    for entry in order.itinerary:
        day = entry.get("day", 1)
        when = order.departs_on.toordinal() + int(day) - 1 if order.departs_on else None
        label = f"第{day}天" + (f"\n{date.fromordinal(when):%m月%d日}" if when else "")
        text = f"{entry.get('title', '')}\n{entry.get('detail', '')}".strip()
        rows.append(
            [
                _p(label, s["body"]),
                _p(text, s["body"]),
                _p(str(entry.get("meals", "")), s["body"]),
                _p(str(entry.get("stay", "")), s["body"]),
            ]
        )
    story += [
        _table(rows, [22 * mm, 100 * mm, 20 * mm, 32 * mm]),
        _p("费用包含", s["h2"]), _p(order.inclusions or "—", s["body"]),
        _p("费用不含", s["h2"]), _p(order.exclusions or "—", s["body"]),
        _p("联系我们", s["h2"]),
        _p(f"您的计调：{order.planner or '—'}，电话 {order.planner_phone}；{AGENCY}24小时服务热线 {AGENCY_PHONE}。"  # noqa: E501
           "出发前一天17:00我们会短信提醒集合时间与注意事项。", s["body"]),
    ]  # fmt: skip
    return _build(story, f"行程单 {order.number}")
