from __future__ import annotations

from typing import ClassVar

from hotline.core.events import Event


class TelephonyChanged(Event):
    """Extensions, trunks or numbers changed: every voice node reloads its configuration."""

    name: ClassVar[str] = "telephony.changed"
    what: str
