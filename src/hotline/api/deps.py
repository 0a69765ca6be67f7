"""The app's state, above the domains; the access declarations live in `hotline.core.web`.

`AppState` holds what one process runs (database, bus, authenticator, scheduler, sender, SIP
server, call router); domain routes see only the `core.web.WebState` part of it. The names below
from core.web are re-exported for the modules of the app layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from hotline.admin.auth import Authenticator
from hotline.contact.node import CallRouter
from hotline.core.compute import ComputePool
from hotline.core.config import Settings
from hotline.core.db import Database
from hotline.core.events import EventBus
from hotline.core.jobs import JobScheduler
from hotline.core.live import Hub
from hotline.core.monitor import LoopLagMonitor
from hotline.core.ratelimit import Limiter
from hotline.core.web import (
    SESSION_COOKIE,
    IdPath,
    anonymous_context,
    public,
    public_as,
    requires,
    signed_in,
)
from hotline.exports.runner import ExportRunner
from hotline.notify.chat_waits import ChatWaits
from hotline.notify.outbox import Sender
from hotline.notify.wecom_channel import WeComPuller
from hotline.voice.sip.server import SipServer

__all__ = [
    "SESSION_COOKIE",
    "AppState",
    "IdPath",
    "anonymous_context",
    "app_state",
    "public",
    "public_as",
    "requires",
    "signed_in",
]


@dataclass
class AppState:
    settings: Settings
    db: Database
    bus: EventBus
    auth: Authenticator
    compute: ComputePool
    limiter: Limiter
    """Public routes' rate limits (core/ratelimit.py): in Redis when the node has it."""
    monitor: LoopLagMonitor = field(default_factory=LoopLagMonitor)
    scheduler: JobScheduler | None = None
    sender: Sender | None = None
    hub: Hub = field(default_factory=Hub)
    chat_waits: ChatWaits = field(default_factory=ChatWaits)
    wecom: WeComPuller = field(default_factory=WeComPuller)
    """WeCom's messages read after its callbacks (notify/wecom_channel.py)."""
    """Web chat visitors' windows held until their chat moves (notify/chat_waits.py)."""
    wallboard: Any = None
    """The wallboard feed (api/live.py) on API nodes."""
    desks: Any = None
    """Which agents have their desktop open on this node (api/live.py)."""
    phones: Any = None
    """The browser phones connected to this node (api/phone.py)."""
    recordings: Any = None
    """The recordings indexer's watcher (quality.recordings.indexer.Watcher) on voice nodes."""
    stats: Any = None
    dialer: Any = None
    """outbound.dialer.Dialer on a voice node: progressive and predictive campaigns."""
    """The call figures' rollup loop (contact.stats.rollup.Roller) on voice nodes."""
    sip: SipServer | None = None
    router: CallRouter | None = None
    """The contact layer, on a voice node (in a cluster: on the node holding the router's lease)."""
    cluster: Any = None
    router_link: Any = None
    """On cluster nodes: the way to the router's node (api/router_link.py)."""
    """This voice node's part in a cluster (api/voice_plane.py `Cluster`), when it is in one."""
    exports: ExportRunner = field(default_factory=ExportRunner)
    """The exports this node writes (exports/runner.py)."""


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.hotline
    return state
