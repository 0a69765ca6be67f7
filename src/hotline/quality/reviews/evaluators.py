"""Who may be named to score calls (the holders of qa.evaluate): the choices when an evaluation is
assigned or reassigned by hand and when a calibration session names its evaluators."""

from __future__ import annotations

from hotline.admin import directory
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.quality.reviews.evaluations import staff_labels
from hotline.quality.reviews.schemas import Evaluator


async def listing(ctx: Context) -> list[Evaluator]:
    """Active users who may score, by id, named as the call log names staff ("001 陈晓")."""
    ctx.require(Permission.QA_READ)
    async with ctx.read() as session:
        ids = await directory.holders_of(session, Permission.QA_EVALUATE)
        names = await staff_labels(session, ids)
    return [Evaluator(user_id=i, name=names.get(i, "")) for i in ids]
