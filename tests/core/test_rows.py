"""Finding a row or saying which id was wrong; changing only the fields a client sent."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from hotline.admin.models import Department
from hotline.core.context import Context
from hotline.core.errors import NotFound
from hotline.core.rows import apply_partial, get_or_404


class DepartmentPatch(BaseModel):
    name: str | None = None
    active: bool | None = None


async def test_given_a_missing_or_foreign_row_then_not_found_names_the_field(ctx: Context) -> None:
    async with ctx.write() as tx:
        tx.session.add(Department(code="cs", name="客服部", kind="department"))
    async with ctx.read() as session:
        found = await get_or_404(session, Department, 1, "department")
        assert found.name == "客服部"
        with pytest.raises(NotFound) as missing:
            await get_or_404(session, Department, 99, "department")
        assert (missing.value.field, missing.value.detail) == ("department_id", "No department 99")
        with pytest.raises(NotFound):
            await get_or_404(session, Department, 1, "department", where=Department.name == "财务部")


def test_given_a_patch_then_only_sent_fields_change_and_the_changes_are_told() -> None:
    row = DepartmentPatch(name="客服部", active=True)
    changed = apply_partial(row, DepartmentPatch.model_validate({"active": False}))
    assert changed == {"active": (True, False)}
    assert (row.name, row.active) == ("客服部", False)
    assert apply_partial(row, DepartmentPatch.model_validate({"active": False})) == {}
