"""The voice plane of a node: its SIP server, and the contact layer that drives the calls.

On one node (`make run`) the contact layer drives the node's own SIP server. In a cluster
(`HOTLINE_CLUSTER=true`, with Redis) every voice node serves its SIP server's calls to the site's
one router over Redis (`voice.remote.server.VoiceNodeServer`) and stands for the router's lease
(`core.lease.Leadership`); the holder runs the contact layer for the whole site over
`voice.remote.client.RemoteVoiceNode`, and hands it over when it stops or loses the lease.
docs/deployment.md tells how to run it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from hotline.api.deps import AppState
from hotline.contact.events import DeskClosed, DeskOpened, FlowPublished, PhoneChosen, QueuesChanged
from hotline.contact.node import CallRouter
from hotline.contact.ports import VoiceNode
from hotline.contact.stats.rollup import Roller as StatsRoller
from hotline.core.context import Actor, Context
from hotline.core.events import Event
from hotline.core.lease import Leadership
from hotline.notify.events import ConversationChanged
from hotline.outbound.dialer import Dialer
from hotline.quality.recordings.indexer import Watcher as RecordingsWatcher
from hotline.telephony import service as telephony
from hotline.telephony.events import TelephonyChanged
from hotline.voice.media.tts import PromptCache
from hotline.voice.node import SipVoiceNode
from hotline.voice.remote import wire
from hotline.voice.remote.client import RemoteVoiceNode
from hotline.voice.remote.server import VoiceNodeServer
from hotline.voice.sip.digest import Algorithm
from hotline.voice.sip.limits import SourceLimits
from hotline.voice.sip.server import SipServer

log = structlog.get_logger(__name__)


def system_context(state: AppState, name: str = "system") -> Context:
    return Context(state.settings, state.db, state.bus, Actor.system(name), pool=state.compute)


@dataclass
class Cluster:
    """This node's part in a cluster: the server of its calls, and its stand for the lease."""

    redis: Any
    server: VoiceNodeServer
    leadership: Leadership
    voice: RemoteVoiceNode | None = None
    handover: asyncio.Lock = field(default_factory=asyncio.Lock)


async def start_voice(state: AppState) -> None:
    """The SIP/RTP engine, configured from the telephony tables and reloaded whenever they change,
    and the contact layer that drives it: here, or — in a cluster — wherever the lease is."""
    settings = state.settings
    ctx = system_context(state, "system:voice")
    sip = await _start_sip(state, ctx)
    state.sip = sip
    one_at_a_time = asyncio.Lock()

    async def reload(event: Event) -> None:
        # One reload at a time, each reading afresh: two overlapping ones could otherwise finish
        # in the wrong order and leave the older configuration in place.
        async with one_at_a_time:
            changed = await telephony.load_config(ctx)
            await sip.reconfigure(changed.extensions, changed.trunks)
            if state.cluster is not None:
                state.cluster.server.reconfigured()
            if state.router is not None:
                await state.router.reload()

    state.bus.subscribe(TelephonyChanged, reload)
    state.bus.subscribe(FlowPublished, reload)
    state.bus.subscribe(QueuesChanged, reload)
    _follow_router(state)
    if not settings.cluster:
        await _start_contact(state, SipVoiceNode(sip))
        return
    import redis.asyncio as redis

    connection = redis.from_url(str(settings.redis_url))
    leadership = Leadership(
        connection,
        f"{settings.cluster_name}:router",
        settings.node_id,
        elected=lambda epoch: _elected(state, epoch),
        deposed=lambda: _deposed(state),
    )
    server = VoiceNodeServer(
        SipVoiceNode(sip),
        connection,
        settings.node_id,
        site=settings.cluster_name,
        epoch_key=leadership.epoch_key,
    )
    cluster = Cluster(connection, server, leadership)
    state.cluster = cluster
    await server.start()
    cluster.leadership.start()


async def stop_voice(state: AppState) -> None:
    if state.cluster is not None:
        await state.cluster.leadership.stop()  # the contact layer goes first: its calls stay up
    else:
        await _stop_contact(state)
    if state.sip is not None:
        await state.sip.stop()
    if state.cluster is not None:
        await state.cluster.server.stop()
        await state.cluster.redis.aclose()


async def _start_sip(state: AppState, ctx: Context) -> SipServer:
    settings = state.settings
    config = await telephony.load_config(ctx)
    sip = SipServer(
        settings.sip_host,
        settings.sip_port,
        settings.sip_realm,
        config.extensions,
        trunks=config.trunks,
        max_calls=settings.sip_max_calls,
        rtp_ports=settings.rtp_ports,
        algorithms=tuple(Algorithm(name) for name in settings.sip_digest_algorithms),
        limits=SourceLimits(rate=settings.sip_source_rate, burst=settings.sip_source_burst),
        receive_buffer=settings.sip_udp_receive_buffer,
        phone_key=config.phone_key,
        media_address=settings.media_address,
        edge_proxies=tuple(settings.sip_edge_proxies),
        site_redis=settings.redis_url,
        node_id=settings.node_id,
        rtpengine_ng=settings.rtpengine_ng if settings.media_relay == "rtpengine" else None,
        rtpengine_recordings=settings.rtpengine_recordings,
    )
    try:
        await sip.start()
    except OSError as exc:
        where = f"{settings.sip_host}:{settings.sip_port}"
        raise SystemExit(f"error: cannot listen for SIP on {where} ({exc})") from exc
    return sip


async def _start_contact(state: AppState, voice: VoiceNode, *, handover_seconds: float = 0.0) -> None:
    """The contact layer on `voice`, with what runs beside it once per site: the recordings'
    indexer, the call figures' rollup and the campaigns' dialer."""
    settings = state.settings
    ctx = system_context(state, "system:voice")
    router = CallRouter(ctx, PromptCache(settings.prompt_cache), record_to=settings.recordings_dir)
    await router.start(voice, handover_seconds=handover_seconds)
    state.router = router
    state.recordings = RecordingsWatcher(system_context(state, "system:recordings"), state.bus)
    state.recordings.start()  # a recording is searchable a second after it is logged
    state.stats = StatsRoller(system_context(state, "system:stats"))
    state.stats.start()  # a call's figures are in the reports seconds after it ends
    state.dialer = Dialer(system_context(state, "system:dialer"), router)
    state.dialer.start()  # progressive and predictive campaigns' calls


async def _stop_contact(state: AppState) -> None:
    if state.dialer is not None:
        await state.dialer.stop()
    if state.router is not None:
        await state.router.stop()
    if state.recordings is not None:
        await state.recordings.stop()
    if state.stats is not None:
        await state.stats.stop()
    state.dialer = state.router = state.recordings = state.stats = None


def _follow_router(state: AppState) -> None:
    """Desks, phone choices and conversations reach the contact layer wherever it runs now."""

    def following(method: str) -> Callable[[Event], Awaitable[None]]:
        async def handle(event: Event) -> None:
            if state.router is not None:
                await getattr(state.router, method)(event)

        return handle

    state.bus.subscribe(DeskClosed, following("desk_closed"))
    state.bus.subscribe(DeskOpened, following("desk_opened"))
    state.bus.subscribe(PhoneChosen, following("phone_chosen"))
    state.bus.subscribe(ConversationChanged, following("conversation_changed"))


async def _elected(state: AppState, epoch: int) -> None:
    """This node took the router's lease: the site's contact layer starts here."""
    cluster = state.cluster
    assert cluster is not None  # noqa: S101 - only a cluster node stands for the lease
    async with cluster.handover:
        voice = RemoteVoiceNode(cluster.redis, epoch, site=state.settings.cluster_name)
        await voice.start()  # the nodes' phones are learnt from their heartbeats as the layer starts
        cluster.voice = voice
        await _start_contact(state, voice, handover_seconds=wire.HANDOVER_SECONDS)
        await state.router_link.announce(epoch)  # the other nodes' live-call requests come here
        log.info("router started", node=state.settings.node_id, epoch=epoch)


async def _deposed(state: AppState) -> None:
    cluster = state.cluster
    assert cluster is not None  # noqa: S101
    async with cluster.handover:
        if cluster.voice is not None:
            cluster.voice.silence()  # the calls are the next router's: wind down without a word
        await _stop_contact(state)
        if cluster.voice is not None:
            await cluster.voice.stop()
            cluster.voice = None
        log.info("router stopped", node=state.settings.node_id)
