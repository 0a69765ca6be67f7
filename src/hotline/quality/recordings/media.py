"""Where a recording's files are, the signed URLs that serve them, and its waveform peaks.

A media URL needs no session, so a voice node on another machine (or a CDN in front of it) can
serve it: it carries the recording, the channel, the purpose and its expiry, signed with an HMAC
under a key every node shares (the setting HOTLINE_RECORDINGS_MEDIA_SECRET, else one made once and
kept in the database). Changing any part of it, or using it after its time, is refused with 403.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import wave
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import numpy as np

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.security import stored_key
from hotline.quality.recordings.errors import MediaLinkRefused
from hotline.quality.recordings.models import MediaKey
from hotline.quality.recordings.schemas import Channel, Purpose

LINK_MINUTES = 10
PEAK_RATES = ((600, 50), (3600, 10))
"""Points per second of the waveform by the call's length: fine for short calls, and a 4-hour
call still under 150,000 points per channel."""
MINIMUM_DAYS = 30


async def media_key(ctx: Context) -> bytes:
    """The signing key: the setting, else the database's (made by the first node that needs it)."""
    return await stored_key(ctx, MediaKey, ctx.settings.recordings_media_secret)


# ---------------------------------------------------------------- signed links


@dataclass(frozen=True)
class MediaGrant:
    recording_id: int
    channel: Channel
    purpose: Purpose
    expires: int
    """Unix seconds."""

    def payload(self) -> str:
        return f"{self.recording_id}.{self.channel}.{self.purpose}.{self.expires}"


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, grant: MediaGrant) -> str:
    return f"{grant.payload()}.{_mac(key, grant.payload())}"


def verify(key: bytes, token: str, *, now: datetime | None = None) -> MediaGrant:
    """The grant a token carries, or 403 when it was not signed with our key or has expired."""
    parts = token.split(".")
    refused = MediaLinkRefused("This media link is not valid", field="token", reason="media-link-invalid")
    if len(parts) != 5 or len(token) > 200:
        raise refused
    recording, channel, purpose, expires, mac = parts
    if not hmac.compare_digest(mac.encode(), _mac(key, ".".join(parts[:4])).encode()):
        raise refused
    if channel not in get_args(Channel) or purpose not in get_args(Purpose):
        raise refused
    if not (recording.isdigit() and expires.isdigit()):
        raise refused
    if int(expires) < int((now or utcnow()).timestamp()):
        raise MediaLinkRefused(
            "This media link has expired; open the recording again",
            field="token",
            reason="media-link-expired",
        )
    return MediaGrant(int(recording), channel, purpose, int(expires))  # type: ignore[arg-type]


def expiry(now: datetime | None = None) -> datetime:
    return ((now or utcnow()) + timedelta(minutes=LINK_MINUTES)).replace(microsecond=0)


def link(key: bytes, recording_id: int, channel: Channel, purpose: Purpose, until: datetime) -> str:
    grant = MediaGrant(recording_id, channel, purpose, int(until.timestamp()))
    return f"/api/quality/media/{sign(key, grant)}"


# ---------------------------------------------------------------- files


def stored_path(recordings_dir: Path, path: str) -> str:
    """How a logged path is kept: relative to the recordings folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(recordings_dir.resolve()))
    except ValueError:
        return path


def file_of(recordings_dir: Path, path: str, channel: Channel) -> Path:
    """The file of one channel: the mix as logged, a.wav (the caller: the bridge's first leg is
    the caller's) or b.wav (the agent) beside it, the peaks JSON beside the mix."""
    mix = recordings_dir / path
    if channel == "caller":
        return mix.with_name("a.wav")
    if channel == "agent":
        return mix.with_name("b.wav")
    if channel == "peaks":
        return peaks_file(mix)
    return mix


def peaks_file(audio: Path) -> Path:
    return audio.with_name(audio.stem + ".peaks.json")


def wav_seconds(path: Path) -> float | None:
    """A WAV file's length from its header (None when there is no readable file)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, EOFError, wave.Error):
        return None


def compute_peaks(audio: str) -> dict[str, Any]:
    """Min and max of each point of each channel, from -1 to 1, written beside the file as JSON
    (in a compute worker: a 60-minute call is 58 million samples)."""
    with wave.open(audio, "rb") as wav:
        channels, rate, frames = wav.getnchannels(), wav.getframerate(), wav.getnframes()
        if wav.getsampwidth() != 2:
            raise ValueError(f"{audio}: only 16-bit WAV is recorded here")
        samples = np.frombuffer(wav.readframes(frames), dtype="<i2").reshape(-1, channels)
    duration = frames / rate if rate else 0.0
    points = next((r for limit, r in PEAK_RATES if duration <= limit), 2)
    step = max(1, rate // points)
    whole = len(samples) // step * step
    out: list[list[float]] = []
    for channel in range(channels):
        own = samples[:, channel]
        blocks = own[:whole].reshape(-1, step)
        lows, highs = list(blocks.min(axis=1)), list(blocks.max(axis=1))
        if whole < len(own):  # the last, shorter point
            lows.append(own[whole:].min())
            highs.append(own[whole:].max())
        pairs = np.column_stack((lows, highs)).ravel() / 32768 if lows else np.zeros(0)
        out.append([round(float(v), 3) for v in pairs])
    data = {"duration": round(duration, 3), "rate": points, "channels": out}
    target = peaks_file(Path(audio))
    partial = target.with_suffix(".tmp")
    partial.write_text(json.dumps(data, separators=(",", ":")))
    partial.replace(target)  # readers never see half a file
    return {"duration": data["duration"], "rate": points}
