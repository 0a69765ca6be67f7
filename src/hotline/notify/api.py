"""Routes for notifications: templates and their approval, rules, the
outbox, sending by hand, opt-outs, gateway settings, Kannel's delivery reports, customers' SMS
replies, messages to the WeChat official account and to WeCom's 微信客服, and the conversations
they thread into."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from hotline.core.context import Actor, Context
from hotline.core.permissions import Permission
from hotline.core.topics import SOURCES
from hotline.core.web import IdPath, public, requires, signed_in
from hotline.notify import (
    channels,
    conversation_views,
    conversations,
    inbox,
    rules,
    service,
    templates,
    webchat,
    wecom_channel,
)
from hotline.notify.canned_api import router as canned_router
from hotline.notify.chat_api import router as chat_router
from hotline.notify.chat_files_api import staff_router as chat_files_router
from hotline.notify.chat_files_api import visitor_router as chat_files_visitor_router
from hotline.notify.chat_identity_api import admins as chat_sites_router
from hotline.notify.chat_identity_api import visitors as chat_identity_router
from hotline.notify.schemas import (
    BulkIn,
    BulkOut,
    ConversationCustomerIn,
    ConversationMessageOut,
    ConversationOut,
    ConversationThread,
    DecisionIn,
    GatewayIn,
    GatewayOut,
    InboxOut,
    MessageOut,
    OptOutIn,
    Preview,
    PreviewIn,
    ReplyIn,
    ReportRow,
    RuleIn,
    RuleOut,
    SeenIn,
    SendIn,
    SourceOut,
    TemplateIn,
    TemplateOut,
    TopicOut,
)

router = APIRouter(prefix="/api/notify", tags=["notify"])
routers = [
    router,
    chat_router,
    chat_identity_router,
    chat_sites_router,
    chat_files_visitor_router,
    chat_files_router,
    canned_router,
]
SEND = Annotated[Context, Depends(requires(Permission.MESSAGES_SEND))]
EDIT = Annotated[Context, Depends(requires(Permission.TEMPLATES_WRITE))]
APPROVE = Annotated[Context, Depends(requires(Permission.TEMPLATES_APPROVE))]
OUTBOX = Annotated[Context, Depends(requires(Permission.MESSAGES_READ))]
GATEWAYS = Annotated[Context, Depends(requires(Permission.GATEWAYS_WRITE))]


@router.get("/topics")
async def list_topics(ctx: SEND) -> list[TopicOut]:
    """What messages can be about: each topic's variables and occasions."""
    return [TopicOut.model_validate(t) for t in service.topic_list()]


@router.get("/sources")
async def list_sources(ctx: SEND) -> list[SourceOut]:
    """The dates rules can be scheduled from (arrival day, birthday…)."""
    return [SourceOut(name=s.name, topic=s.topic, label=s.label) for s in SOURCES.values()]


@router.get("/templates")
async def list_templates(ctx: SEND) -> list[TemplateOut]:
    """Every version of every template, newest version first."""
    return await templates.listing(ctx)


@router.post("/templates", status_code=201)
async def save_template(body: TemplateIn, ctx: EDIT) -> TemplateOut:
    """A new version of a template, waiting for a supervisor's approval; 422 naming the field
    for an unknown variable, a missing SMS signature or an SMS longer than six parts."""
    return await templates.save(ctx, body)


@router.post("/templates/preview")
async def preview(body: PreviewIn, ctx: SEND) -> Preview:
    """The text with sample data, its SMS encoding, length and parts."""
    return templates.preview(body.topic, body.channel, body.subject, body.body, body.html)


@router.post("/templates/{template_id}/decision")
async def decide(template_id: IdPath, body: DecisionIn, ctx: APPROVE) -> TemplateOut:
    """Approve (it goes live, the live version retires) or reject a pending version; not by its
    author."""
    return await templates.decide(ctx, template_id, body.approve, body.note)


@router.get("/rules")
async def list_rules(ctx: SEND) -> list[RuleOut]:
    return await rules.listing(ctx)


@router.post("/rules", status_code=201)
async def create_rule(body: RuleIn, ctx: EDIT) -> RuleOut:
    return await rules.save(ctx, body)


@router.put("/rules/{rule_id}")
async def update_rule(rule_id: IdPath, body: RuleIn, ctx: EDIT) -> RuleOut:
    return await rules.save(ctx, body, rule_id)


@router.get("/messages")
async def list_messages(
    ctx: SEND,
    status: Annotated[
        Literal["queued", "sending", "sent", "delivered", "failed", "suppressed", "unknown"] | None, Query()
    ] = None,
    ref: Annotated[str | None, Query(max_length=80)] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> list[MessageOut]:
    """The outbox (messages.read), or the messages of one customer or object (messages.send)."""
    return await service.messages(ctx, status=status, ref=ref, customer_id=customer_id)


@router.post("/messages", status_code=201)
async def send(body: SendIn, ctx: SEND) -> MessageOut:
    """Send a live template about a customer to them now."""
    return await service.send(ctx, body)


@router.post("/messages/{message_id}/resend")
async def resend(message_id: IdPath, ctx: OUTBOX) -> MessageOut:
    """Queue a failed or interrupted message again, once someone has checked the gateway."""
    return await service.resend(ctx, message_id)


@router.post("/bulk")
async def bulk(
    body: BulkIn, ctx: Annotated[Context, Depends(requires(Permission.CAMPAIGNS_WRITE))]
) -> BulkOut:
    """A customer template to a segment (tier, city, tags, birthday month): `dry_run` counts
    recipients and who is left out; the real run queues each once per `batch`."""
    return await service.bulk(ctx, body)


@router.get("/report")
async def report(ctx: OUTBOX, days: Annotated[int, Query(ge=1, le=92)] = 30) -> list[ReportRow]:
    """Messages by day, channel, template, rule and gateway, counted by status."""
    return await service.report(ctx, days)


@router.get("/customers/{customer_id}/opt-outs")
async def get_opt_outs(
    customer_id: IdPath, ctx: Annotated[Context, Depends(requires(Permission.CUSTOMERS_READ))]
) -> list[str]:
    return await service.opt_outs(ctx, customer_id)


@router.put("/customers/{customer_id}/opt-outs")
async def put_opt_out(
    customer_id: IdPath,
    body: OptOutIn,
    ctx: Annotated[Context, Depends(requires(Permission.CUSTOMERS_WRITE))],
) -> list[str]:
    """No more marketing messages on a channel (or again); booking confirmations still go."""
    return await service.set_opt_out(ctx, customer_id, body)


@router.get("/gateways")
async def get_gateways(ctx: GATEWAYS) -> list[GatewayOut]:
    """How SMS and e-mail leave; passwords are never shown, only whether one is set."""
    return await service.get_gateways(ctx)


@router.put("/gateways/{channel}")
async def put_gateway(
    channel: Literal["sms", "email", "wechat", "wecom"], body: GatewayIn, ctx: GATEWAYS
) -> GatewayOut:
    return await service.set_gateway(ctx, channel, body)


@router.get("/dlr/kannel", response_class=PlainTextResponse)
async def kannel_dlr(
    ctx: Annotated[Context, Depends(public)],
    id: Annotated[int, Query(ge=1, le=2_147_483_647)],
    token: Annotated[str, Query(min_length=8, max_length=64)],
    type: Annotated[int, Query(ge=0, le=64)],
) -> PlainTextResponse:
    """Kannel's delivery report (dlr-url); believed only with the HMAC token of its message."""
    believed = await service.delivery_report(ctx.as_actor(Actor.system("notify:dlr")), id, token, type)
    return PlainTextResponse("ok" if believed else "refused", status_code=200 if believed else 403)


@router.get("/mo/kannel", response_class=PlainTextResponse)
async def kannel_mo(
    request: Request,
    ctx: Annotated[Context, Depends(public)],
    sender: Annotated[str, Query(alias="from", max_length=32, pattern=r"^\+?[0-9]{3,20}$")],
    id: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    token: Annotated[str, Query(min_length=1, max_length=128)],
    text: Annotated[str, Query(max_length=6400, description="%b: the SMS as sent, in `charset`")] = "",
    to: Annotated[str, Query(max_length=32, pattern=r"^[+0-9 \-]*$")] = "",
    charset: Annotated[str, Query(pattern=r"^[A-Za-z0-9-]{1,20}$")] = "UTF-8",
) -> PlainTextResponse:
    """A customer's SMS from Kannel's `sms-service` (get-url with %p, %P, %b, %C, %I and the
    token set in the SMS gateway's settings): threaded into their conversation, a TD/退订 obeyed.
    Kannel sends our empty answer to no one (`max-messages = 0`)."""
    text = channels.kannel_text(request.url.query, charset)
    incoming = conversations.Incoming(sender, text, f"kannel:{id}")
    await channels.receive_kannel(ctx.as_actor(Actor.system("notify:sms")), incoming, token)
    return PlainTextResponse("")


WECHAT_QUERY = {"signature", "timestamp", "nonce", "echostr", "encrypt_type", "msg_signature", "openid"}


def _wechat_query(request: Request) -> dict[str, str]:
    return {k: v[:200] for k, v in request.query_params.items() if k in WECHAT_QUERY}


@router.get("/wechat", response_class=PlainTextResponse)
async def wechat_check(request: Request, ctx: Annotated[Context, Depends(public)]) -> PlainTextResponse:
    """WeChat's check of this callback URL (signature, timestamp, nonce, echostr): the echostr
    back under the account's Token; 403 otherwise."""
    echo = await channels.wechat_echo(ctx, _wechat_query(request))
    return PlainTextResponse(echo)


XML_BODY = {"requestBody": {"content": {"text/xml": {"schema": {"type": "string", "maxLength": 65536}}}}}


@router.post("/wechat", response_class=PlainTextResponse, openapi_extra=XML_BODY)
async def wechat_message(request: Request, ctx: Annotated[Context, Depends(public)]) -> PlainTextResponse:
    """A message to the WeChat official account (its callback, plain or safe mode): threaded into
    the customer's WeChat conversation. Answers `success`; WeChat's retries of one MsgId change
    nothing; a forged signature is refused and nothing is kept."""
    body = await request.body()
    await channels.receive_wechat(ctx.as_actor(Actor.system("notify:wechat")), _wechat_query(request), body)
    return PlainTextResponse("success")


WECOM_QUERY = {"msg_signature", "timestamp", "nonce", "echostr"}


def _wecom_query(request: Request) -> dict[str, str]:
    return {k: v[:512] for k, v in request.query_params.items() if k in WECOM_QUERY}


@router.get("/wecom", response_class=PlainTextResponse)
async def wecom_check(request: Request, ctx: Annotated[Context, Depends(public)]) -> PlainTextResponse:
    """WeCom's check of this callback URL (msg_signature, timestamp, nonce, encrypted echostr):
    the echostr decrypted, under the configured Token; 403 otherwise."""
    return PlainTextResponse(await wecom_channel.wecom_echo(ctx, _wecom_query(request)))


@router.post("/wecom", response_class=PlainTextResponse, openapi_extra=XML_BODY)
async def wecom_event(request: Request, ctx: Annotated[Context, Depends(public)]) -> PlainTextResponse:
    """A WeCom 微信客服 callback: a `kf_msg_or_event` is answered at once (an empty 200, as WeCom
    asks) and its 客服账号's new messages are read in the background into WeCom conversations; a
    forged one is refused."""
    system = ctx.as_actor(Actor.system("notify:wecom"))
    event = await wecom_channel.receive_callback(system, _wecom_query(request), await request.body())
    if event is not None:
        request.app.state.hotline.wecom.pull_soon(system, event)
    return PlainTextResponse("")


@router.get("/conversations")
async def list_conversations(
    ctx: SEND,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    waiting: Annotated[bool | None, Query(description="Only those waiting for an answer (or not)")] = None,
    mine: Annotated[
        bool | None,
        Query(description="Only those the ACD gave me (true), or open ones with nobody yet (false)"),
    ] = None,
) -> list[ConversationOut]:
    """Conversations with customers (SMS, WeChat, web chat), open ones first, newest activity first."""
    return await conversation_views.listing(
        ctx, status=status, customer_id=customer_id, waiting=waiting, mine=mine
    )


@router.get("/conversations/{conversation_id}")
async def get_conversation(conversation_id: IdPath, ctx: SEND) -> ConversationThread:
    return await conversation_views.thread(ctx, conversation_id)


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def reply(conversation_id: IdPath, body: ReplyIn, ctx: SEND) -> ConversationMessageOut:
    """Answer the customer: an SMS with the signature, through the outbox."""
    return await conversations.reply(ctx, conversation_id, body.body)


@router.put("/conversations/{conversation_id}/customer")
async def link_conversation(
    conversation_id: IdPath, body: ConversationCustomerIn, ctx: SEND
) -> ConversationOut:
    """Whose conversation it is (a WeChat customer has no number to be found by); null: nobody's
    known. The customer's later conversations from the same address keep the link."""
    return await conversations.link_customer(ctx, conversation_id, body.customer_id)


@router.post("/conversations/{conversation_id}/typing", status_code=204)
async def agent_typing(conversation_id: IdPath, ctx: SEND) -> None:
    """The agent is typing an answer in a web chat: the visitor's window says so."""
    await webchat.agent_typing(ctx, conversation_id)


@router.post("/conversations/{conversation_id}/seen", status_code=204)
async def agent_seen(conversation_id: IdPath, body: SeenIn, ctx: SEND) -> None:
    """The thread showed the messages up to `up_to`: a web chat's visitor sees them read."""
    await webchat.agent_seen(ctx, conversation_id, body.up_to)


# closing a conversation (with its wrap-up) is contact's route, on this prefix: contact/chat_api.py


ME = Annotated[Context, Depends(signed_in)]


@router.get("/inbox")
async def my_inbox(ctx: ME) -> InboxOut:
    """My in-app notices, newest first, with the unread count (the bell)."""
    return await inbox.mine(ctx)


@router.post("/inbox/read")
async def read_all(ctx: ME) -> InboxOut:
    return await inbox.mark_read(ctx)


@router.post("/inbox/{notice_id}/read")
async def read_one(notice_id: IdPath, ctx: ME) -> InboxOut:
    return await inbox.mark_read(ctx, notice_id)
