"""Routes for outbound work: campaigns, their lists (import, assignment, progress) and the
do-not-call list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, UploadFile

from hotline.contact.api import node_router
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.core.ratelimit import RouteKind
from hotline.core.web import COMPUTED, IdPath, problem_doc, public_as, requires
from hotline.outbound import assignment, campaigns, dialing, dnc, feeds, lists, surveys, work
from hotline.outbound.dialer import Dialer
from hotline.outbound.schemas import (
    Assigned,
    AttemptResult,
    CampaignIn,
    CampaignOut,
    CampaignProgress,
    CurrentCall,
    DialerState,
    Dialled,
    DncIn,
    DncOut,
    DncPage,
    FromSourceIn,
    ListImportReport,
    ListSourceOut,
    NextOut,
    PublicSurvey,
    ResultIn,
    StatusIn,
    SurveyAnswerIn,
    SurveyResults,
    SurveySendIn,
    SurveySendOut,
    TakeBackIn,
    TargetAssignIn,
    TargetPage,
    TargetState,
    WorkItem,
)

router = APIRouter(prefix="/api/outbound", tags=["outbound"])
READ = Annotated[Context, Depends(requires(Permission.CAMPAIGNS_READ))]
WRITE = Annotated[Context, Depends(requires(Permission.CAMPAIGNS_WRITE))]
HANDLE = Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))]
PUBLIC = Annotated[Context, Depends(public_as(RouteKind.LINK))]
"""Survey links sent by SMS: public, rate-limited per address (HOTLINE_RATE_LIMIT_LINKS)."""
Token = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
MAX_FILE = 8 * 1024 * 1024


@router.get("/campaigns")
async def list_campaigns(ctx: READ, include_closed: bool = False) -> list[CampaignOut]:
    """Campaigns with their progress; an agent sees the campaigns they work."""
    return await campaigns.list_campaigns(ctx, include_closed=include_closed)


@router.post("/campaigns", status_code=201)
async def create_campaign(body: CampaignIn, ctx: WRITE) -> CampaignOut:
    """A new campaign (a draft until started). Its calling rules are checked against China's
    (docs/outbound.md); every broken one is named at once."""
    return await campaigns.save(ctx, body)


@router.get("/campaigns/{campaign_id}")
async def get_campaign(campaign_id: IdPath, ctx: READ) -> CampaignOut:
    return await campaigns.get(ctx, campaign_id)


@router.put("/campaigns/{campaign_id}")
async def update_campaign(campaign_id: IdPath, body: CampaignIn, ctx: WRITE) -> CampaignOut:
    return await campaigns.save(ctx, body, campaign_id)


@router.post("/campaigns/{campaign_id}/status")
async def set_campaign_status(campaign_id: IdPath, body: StatusIn, ctx: WRITE) -> CampaignOut:
    """Start, pause, resume or close a campaign (closed is final)."""
    return await campaigns.set_status(ctx, campaign_id, body)


@router.get("/campaigns/{campaign_id}/progress")
async def campaign_progress(campaign_id: IdPath, ctx: READ) -> CampaignProgress:
    """Where the numbers stand, in all and per agent (an agent sees their own row)."""
    return await campaigns.progress(ctx, campaign_id)


@router.get("/campaigns/{campaign_id}/targets")
async def campaign_targets(
    campaign_id: IdPath,
    ctx: READ,
    state: TargetState | None = None,
    assignee_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    unassigned: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TargetPage:
    """The campaign's numbers (masked); an agent sees only those handed to them."""
    return await lists.targets(
        ctx,
        campaign_id,
        state=state,
        assignee_id=assignee_id,
        unassigned=unassigned,
        limit=limit,
        offset=offset,
    )


@router.post("/campaigns/{campaign_id}/import", responses=COMPUTED)
async def import_targets(
    campaign_id: IdPath,
    file: UploadFile,
    ctx: WRITE,
    dry_run: Annotated[bool, Query(description="Check only: report every row, write nothing")] = True,
) -> ListImportReport:
    """CSV or XLSX with a phone column (电话) and optionally 姓名, 同意来源, 同意时间 and up to ten
    columns of the list's own. Bad rows are reported and, when written, left out."""
    data = await file.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise InvalidInput("Files of at most 8 MB", field="file", reason="files-most-8-mb")
    return await lists.import_list(ctx, campaign_id, data, file.filename or "list.csv", dry_run=dry_run)


@router.get("/sources")
async def list_sources(ctx: READ) -> list[ListSourceOut]:
    """Where lists can come from by rule: guests who checked out, travellers back from a trip,
    birthdays … (the date sources of the message rules)."""
    return feeds.sources()


@router.post("/campaigns/{campaign_id}/from-source")
async def add_from_source(campaign_id: IdPath, body: FromSourceIn, ctx: WRITE) -> ListImportReport:
    """The people a source names for a day, checked against the campaign (dry run, the default) or
    added to its list, like a file's rows."""
    return await feeds.add_from_source(ctx, campaign_id, body)


@router.post("/campaigns/{campaign_id}/assign")
async def assign_targets(campaign_id: IdPath, body: TargetAssignIn, ctx: WRITE) -> Assigned:
    """Hand numbers to agents: chosen ones to one agent, or the unassigned shared evenly or by skill."""
    return await assignment.assign(ctx, campaign_id, body)


@router.post("/campaigns/{campaign_id}/take-back")
async def take_back_targets(campaign_id: IdPath, body: TakeBackIn, ctx: WRITE) -> Assigned:
    """Open numbers back to the campaign's pool."""
    return await assignment.take_back(ctx, campaign_id, body)


@router.get("/dnc")
async def list_dnc(
    ctx: READ,
    number: Annotated[str, Query(max_length=32)] = "",
    current: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DncPage:
    """The do-not-call list, newest first (masked numbers)."""
    return await dnc.list_entries(ctx, number=number, current=current, limit=limit, offset=offset)


@router.post("/dnc", status_code=201)
async def add_dnc(body: DncIn, ctx: WRITE) -> DncOut:
    return await dnc.add(ctx, body)


@router.delete("/dnc/{entry_id}", status_code=204)
async def remove_dnc(entry_id: IdPath, ctx: WRITE) -> None:
    await dnc.remove(ctx, entry_id)


# ---------------------------------------------------------------- an agent working their list


@router.post("/campaigns/{campaign_id}/next")
async def next_target(campaign_id: IdPath, ctx: READ) -> NextOut:
    """The agent's next number that China's calling rules allow now (numbers held back are moved on
    to when they may be called); none: when the next one comes due."""
    return await work.next_item(ctx, campaign_id)


@router.get("/targets/{target_id}")
async def preview_target(target_id: IdPath, ctx: READ) -> WorkItem:
    """A number as its agent previews it: the list's columns, script, questions, the rules' answer
    now and earlier attempts."""
    return await work.preview(ctx, target_id)


@router.post("/targets/{target_id}/dial", status_code=202)
async def dial_target(target_id: IdPath, request: Request, ctx: HANDLE) -> Dialled:
    """Dial the number (never shown): the agent's phone rings, then the number with the campaign's
    caller ID. Refused with the rule's reason and `next_allowed_at` when the rules hold it back."""
    return await work.dial(ctx, node_router(request), target_id)


@router.post("/attempts/{attempt_id}/result")
async def attempt_result(attempt_id: IdPath, body: ResultIn, ctx: HANDLE) -> AttemptResult:
    """The call's result: for an answered call its disposition and the questionnaire's answers;
    the number is closed, retried or put on the do-not-call list accordingly."""
    return await work.record_result(ctx, attempt_id, body)


# ---------------------------------------------------------------- progressive and predictive dialing


def _dialer(request: Request) -> Dialer | None:
    dialer: Dialer | None = request.app.state.hotline.dialer
    return dialer


@router.get("/campaigns/{campaign_id}/dialer")
async def dialer_state(campaign_id: IdPath, request: Request, ctx: READ) -> DialerState:
    """A progressive or predictive campaign on the dialer: agents joined, numbers ringing, and
    whether an inbound queue's service level holds it back."""
    return await dialing.state(ctx, _dialer(request), campaign_id)


@router.post("/campaigns/{campaign_id}/join")
async def join_campaign(campaign_id: IdPath, request: Request, ctx: HANDLE) -> DialerState:
    """The agent takes the campaign's calls from now on, between inbound calls (inbound first):
    the dialer rings numbers and connects the answered ones to them."""
    return await dialing.join(ctx, _dialer(request), campaign_id)


@router.post("/campaigns/{campaign_id}/leave")
async def leave_campaign(campaign_id: IdPath, request: Request, ctx: HANDLE) -> DialerState:
    return await dialing.leave(ctx, _dialer(request), campaign_id)


@router.get("/my-call")
async def my_call(ctx: HANDLE) -> CurrentCall | None:
    """The dialer's (or the agent's own) latest call whose result is not written yet, with the
    number's file, script and questions."""
    return await dialing.current(ctx)


# ---------------------------------------------------------------- surveys


@router.post("/campaigns/{campaign_id}/survey-links")
async def send_survey_links(campaign_id: IdPath, body: SurveySendIn, ctx: WRITE) -> SurveySendOut:
    """Text the campaign's questionnaire to its numbers (or those chosen) as a one-time link to a
    mobile page; numbers with a link open or answered are skipped, so nothing is sent twice."""
    return await surveys.send_links(ctx, campaign_id, body)


@router.post("/targets/{target_id}/survey-link")
async def send_survey_link(target_id: IdPath, ctx: HANDLE) -> SurveySendOut:
    """The agent texts the questionnaire to the number they work, to answer later on the phone;
    nothing is sent while a link of it is open or answered (`skipped`)."""
    return await work.send_survey(ctx, target_id)


@router.get("/campaigns/{campaign_id}/survey-results")
async def survey_results(campaign_id: IdPath, ctx: READ) -> SurveyResults:
    """The campaign's answers per question, by phone and by SMS link, and its links' fate."""
    return await surveys.results(ctx, campaign_id)


SURVEY_LINK_ERRORS: dict[int | str, dict[str, Any]] = {
    404: problem_doc("No such survey (`survey-link-unknown`)"),
    409: problem_doc("Answered already (`survey-link-answered`)"),
    410: problem_doc("The link has expired (`survey-link-expired`)"),
}


@router.get("/surveys/{token}", responses=SURVEY_LINK_ERRORS)
async def open_survey(token: Token, ctx: PUBLIC) -> PublicSurvey:
    """The survey an SMS link opens, without sign-in: who asks and the questions."""
    return await surveys.open_link(ctx, token)


@router.post("/surveys/{token}/answers", status_code=204, responses=SURVEY_LINK_ERRORS)
async def answer_survey(token: Token, body: SurveyAnswerIn, ctx: PUBLIC) -> None:
    """The customer's answers from the mobile page: all checked at once, stored once."""
    await surveys.answer_link(ctx, token, body)
