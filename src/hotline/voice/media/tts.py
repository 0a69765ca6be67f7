"""Spoken prompts: `espeak-ng -v cmn` rendered to 8 kHz μ-law and cached by a hash of the text.

Rendering runs in subprocesses (espeak-ng, then sox to resample), never on the event loop; the
cache file is written under a temporary name and renamed, so two calls asking for the same new
prompt at once both get a whole file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
from pathlib import Path


class TtsUnavailable(RuntimeError):
    """espeak-ng or sox is not installed, or rendering failed."""


class AudioUnreadable(ValueError):
    """The uploaded file is not audio sox can read."""


async def wav_to_mulaw(wav: bytes) -> bytes:
    """Any WAV file (any rate, width or channel count) → 8 kHz mono μ-law, with sox."""
    if shutil.which("sox") is None:
        raise TtsUnavailable("sox is needed to convert audio")
    convert = await asyncio.create_subprocess_exec(
        "sox", "-t", "wav", "-", "-r", "8000", "-c", "1", "-t", "raw", "-e", "mu-law", "-",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    audio, error = await _finish(convert, wav)
    if convert.returncode != 0 or not audio:
        reason = error.decode("utf-8", "replace").strip().splitlines()
        raise AudioUnreadable(reason[-1][:200] if reason else "sox could not read the audio")
    return audio


RENDER_SECONDS = 30.0
"""A prompt renders in well under a second; a renderer still busy after this is stuck."""


async def _finish(process: asyncio.subprocess.Process, data: bytes | None = None) -> tuple[bytes, bytes]:
    """The process's output; it is killed when it overruns or the caller gives up (a call hung
    up while its prompt rendered), so no renderer is left blocked on a pipe nobody reads."""
    try:
        return await asyncio.wait_for(process.communicate(data), RENDER_SECONDS)
    except BaseException as exc:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(BaseException):
            await asyncio.shield(process.wait())
        if isinstance(exc, TimeoutError):
            raise TtsUnavailable(f"rendering took over {RENDER_SECONDS:.0f} s") from exc
        raise


def _stored(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


class PromptCache:
    def __init__(self, directory: Path, *, voice: str = "cmn", speed: int = 150) -> None:
        self.directory, self.voice, self.speed = directory, voice, speed
        self._loaded: dict[Path, bytes] = {}  # prompts are small (8 KB a second) and reused all day
        self._rendering: dict[Path, asyncio.Task[bytes]] = {}
        self._waiting: dict[Path, int] = {}

    def path_for(self, text: str) -> Path:
        key = hashlib.sha256(f"{self.voice}:{self.speed}:{text}".encode()).hexdigest()[:24]
        return self.directory / f"{key}.ul"

    @staticmethod
    def available() -> bool:
        return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None

    async def mulaw(self, text: str) -> bytes:
        """The prompt as 8 kHz μ-law, rendered on first use — once, however many calls ask for it
        at the same moment (a burst of callers at a cold node would each start espeak-ng)."""
        path = self.path_for(text)
        if path in self._loaded:
            return self._loaded[path]
        rendering = self._rendering.get(path)
        if rendering is None:
            rendering = self._rendering[path] = asyncio.ensure_future(self._render(path, text))
            rendering.add_done_callback(lambda done: self._done(path, done))
        self._waiting[path] = self._waiting.get(path, 0) + 1
        try:
            return await asyncio.shield(rendering)  # one caller hanging up leaves it to the others
        except asyncio.CancelledError:
            if self._waiting[path] == 1:
                rendering.cancel()  # the last one: espeak-ng is stopped, not left on its pipe
                await asyncio.wait([rendering])
            raise
        finally:
            self._waiting[path] -= 1
            if not self._waiting[path]:
                del self._waiting[path]

    def _done(self, path: Path, task: asyncio.Task[bytes]) -> None:
        self._rendering.pop(path, None)
        if not task.cancelled():
            task.exception()  # retrieved: the callers waiting for it have theirs

    async def _render(self, path: Path, text: str) -> bytes:
        if (stored := _stored(path)) is not None:  # a few KB from the page cache: on the loop, as before
            self._loaded[path] = stored
            return stored
        if not self.available():
            raise TtsUnavailable("espeak-ng and sox are needed for spoken prompts")
        self.directory.mkdir(parents=True, exist_ok=True)
        speak = await asyncio.create_subprocess_exec(
            "espeak-ng", "-v", self.voice, "-s", str(self.speed), "--stdout", text,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        wav, _ = await _finish(speak)
        if speak.returncode != 0 or not wav:
            raise TtsUnavailable(f"espeak-ng failed for {text!r}")
        try:
            audio = await wav_to_mulaw(wav)
        except AudioUnreadable as exc:
            raise TtsUnavailable(f"sox could not convert the prompt to 8 kHz μ-law: {exc}") from exc
        partial = path.with_suffix(f".{os.getpid()}.{id(text)}.tmp")
        partial.write_bytes(audio)
        partial.replace(path)
        self._loaded[path] = audio
        return audio
