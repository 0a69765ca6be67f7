"""Custom reports' subject owned by travel (core/report_catalogue.py): orders by when they were
created; money as receivable and received (docs/reports.md)."""

from __future__ import annotations

from sqlalchemy import case

from hotline.admin import directory
from hotline.core.permissions import Permission
from hotline.core.report_catalogue import Dimension, Measure, Subject, register
from hotline.travel.models import Order

O = Order  # noqa: E741 - the table's initial, as the other subjects
STATES = {
    "enquiry": ("待分配", "To assign"),
    "following": ("计调跟单", "Planner follow-up"),
    "signing": ("待签约", "To sign"),
    "signed": ("已签约待审核", "Signed, to review"),
    "reviewed": ("财务已审核", "Reviewed"),
    "return_visit": ("待回访", "Return visit"),
    "closed": ("已关闭", "Closed"),
    "void": ("已作废", "Void"),
}
SOURCES = {"phone": ("来电", "Call"), "walk_in": ("门市", "Walk-in"), "web": ("网站", "Web")}
KINDS = {"domestic": ("国内游", "Domestic"), "international": ("出境游", "International")}


SIGNED = case((O.signed_at.is_not(None) & (O.state != "void"), 1), else_=0)

ORDERS = register(
    Subject(
        key="orders",
        label=("旅游订单", "Travel orders"),
        permission=Permission.ORDERS_READ,
        source=O.__table__,
        time=O.created_at,
        time_kind="instant",
        order=4,
        dimensions=(
            Dimension("kind", ("线路类型", "Kind"), O.kind, words=KINDS),
            Dimension("source", ("来源", "Source"), O.source, words=SOURCES),
            Dimension("state", ("状态", "State"), O.state, words=STATES),
            Dimension("agent", ("创建人", "Created by"), O.creator_id, lookup=directory.people_words),
            Dimension("planner", ("计调", "Planner"), O.planner_id, lookup=directory.people_words),
        ),
        measures=(
            Measure("orders", ("订单数", "Orders"), "count", None),
            Measure("void", ("作废数", "Void"), "count", case((O.state == "void", 1), else_=0)),
            Measure("signed", ("签约数", "Signed"), "count", SIGNED),
            Measure(
                "signed_rate",
                ("签约率", "Signed rate"),
                "rate",
                SIGNED,
                case((O.id.is_not(None), 1), else_=0),
            ),
            Measure(
                "receivable",
                ("应收", "Receivable"),
                "money",
                case((O.state != "void", O.receivable), else_=0),
            ),
            Measure(
                "received", ("已收", "Received"), "money", case((O.state != "void", O.received), else_=0)
            ),
            Measure("travellers", ("出行人数", "Travellers"), "number", O.adults + O.children),
        ),
    )
)
