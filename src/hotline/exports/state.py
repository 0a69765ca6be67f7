"""An export job's lifecycle (core/lifecycle.py), pure.

    queued ──start──▶ running ──finish──▶ done ──expire──▶ expired
      │                 │ fail ▶ failed ─────expire──────▲
      └────cancel───────┴─cancel ▶ cancelled ──expire────┘

Only the system starts, finishes, fails and expires a job; the person who asked for it cancels it.
`expire` removes the file: a job keeps its row (what was exported, by whom) after its file is gone.
"""

from __future__ import annotations

from hotline.core.errors import InvalidTransition
from hotline.core.lifecycle import Lifecycle, transition

STATUSES = ("queued", "running", "done", "failed", "cancelled", "expired")
ACTIVE = frozenset({"queued", "running"})


class ExportTransitionRefused(InvalidTransition):
    code = "export-transition-refused"
    status = 409
    title = "The export cannot take this step now"


EXPORT = Lifecycle(
    "export",
    STATUSES,
    [
        transition("start", ["queued"], "running", by="system"),
        transition("finish", ["running"], "done", by="system"),
        transition("fail", ["queued", "running"], "failed", by="system"),
        transition("cancel", ["queued", "running"], "cancelled"),
        transition("expire", ["done", "failed", "cancelled"], "expired", by="system"),
    ],
    refused=ExportTransitionRefused,
    labels={"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败",
            "cancelled": "已取消", "expired": "已过期"},
)  # fmt: skip
