"""Demo data for `make run` and `hotline demo-data` (idempotent).

The conventions here are a contract (ARCHITECTURE.md, "Demo conventions"):
every login below has the password `hotline-demo`; agent1…agent5 have work
numbers 001…005 and extensions 1001…1005. Later domains extend this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from hotline.admin import service as accounts
from hotline.admin.models import Department, User
from hotline.admin.schemas import UserCreate
from hotline.core.context import Context
from hotline.voice.sip.trunk import Trunk

DEMO_PASSWORD = "hotline-demo"  # noqa: S105 - documented demo login (ARCHITECTURE.md)
SIP_EXTENSIONS = {str(number): f"sip{number}" for number in range(1001, 1011)}
"""Demo SIP extensions and their passwords (ARCHITECTURE.md); used only with HOTLINE_SIP_DEMO."""
SIP_TRUNK = Trunk("demo", "127.0.0.1", dids={"4008001000": "hotel", "4008002000": "travel"}, outbound=False)
"""The demo trunk: a local SIP peer may call the hotel and travel numbers without authentication."""


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str
    work_number: str | None = None


DEPARTMENTS = (
    # code, name, kind, parent
    ("group", "英冠酒店集团", "group", None),
    ("callcenter", "集团呼叫中心", "call_center", "group"),
    ("travel", "英冠国际旅行社", "travel_agency", "group"),
    ("planning", "计调部", "department", "travel"),
    ("store", "门市部", "department", "travel"),
    ("finance", "财务部", "department", "group"),
    ("it", "信息技术部", "department", "group"),
    ("workarea-a", "工区A（客房维修）", "work_area", "group"),
)

USERS = (
    DemoUser("admin", "系统管理员", ("admin",), "it"),
    DemoUser("supervisor", "王主管", ("supervisor",), "callcenter", "101"),
    DemoUser("teamlead", "李组长", ("team_lead",), "callcenter", "100"),
    DemoUser("agent1", "陈晓", ("agent",), "callcenter", "001"),
    DemoUser("agent2", "林芳", ("agent",), "callcenter", "002"),
    DemoUser("agent3", "赵磊", ("agent",), "callcenter", "003"),
    DemoUser("agent4", "周婷", ("agent",), "callcenter", "004"),
    DemoUser("agent5", "吴昊", ("agent",), "callcenter", "005"),
    DemoUser("planner", "孙计调", ("planner",), "planning"),
    DemoUser("frontdesk", "郑前台", ("front_desk",), "store"),
    DemoUser("finance", "钱会计", ("finance",), "finance"),
    DemoUser("qa", "冯质检", ("qa",), "callcenter"),
    DemoUser("dept1", "何师傅", ("dept_staff",), "workarea-a"),
)


async def load(ctx: Context) -> list[str]:
    """Create what is missing; return the usernames created."""
    async with ctx.write() as tx:
        existing = {d.code: d for d in (await tx.session.scalars(select(Department))).all()}
        for code, name, kind, parent in DEPARTMENTS:
            if code not in existing:
                department = Department(
                    code=code,
                    name=name,
                    kind=kind,
                    parent_id=existing[parent].id if parent else None,
                )
                tx.session.add(department)
                await tx.session.flush()
                existing[code] = department
    created: list[str] = []
    for demo in USERS:
        async with ctx.read() as session:
            if await session.scalar(select(User.id).where(User.username == demo.username)):
                continue
        user = await accounts.create_user(
            ctx,
            UserCreate(
                username=demo.username,
                display_name=demo.display_name,
                password=DEMO_PASSWORD,
                roles=list(demo.roles),
                work_number=demo.work_number,
            ),
        )
        async with ctx.write() as tx:
            row = await tx.session.get(User, user.id)
            if row is not None:
                row.department_id = existing[demo.department].id
        created.append(demo.username)
    return created
