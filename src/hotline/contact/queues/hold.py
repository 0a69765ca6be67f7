"""A caller waiting in a queue (R2): music (or product ads) on hold, every so often their position
and the estimated wait, and "press 1 for a callback", which keeps their place."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from hotline.contact.ivr.flow import Speech
from hotline.contact.ivr.interpreter import Voice
from hotline.contact.queues.runner import QueueRunner
from hotline.contact.queues.settings import HoldSettings
from hotline.core.context import Context
from hotline.telephony import service as telephony
from hotline.voice.control import Leg

POSITION = Speech(text="您前面还有{position}位客户，预计等待{minutes}分钟。")
CALLBACK_OFFER = Speech(text="如需我们稍后回电，请按1。")
CALLBACK_TAKEN = Speech(text="好的，我们会保留您的排队位置，轮到您时给您回电。再见。")
SILENCE = bytes([0xFF]) * 8000
"""A second of silence: the music of a queue without a prompt."""


class HoldLine:
    """What callers hear while they wait, per queue (the settings a voice node loaded)."""

    def __init__(self, ctx: Context, speech: Voice) -> None:
        self.ctx, self.speech = ctx, speech
        self.settings: dict[str, HoldSettings] = {}
        self._music: dict[str | None, bytes] = {}

    def configure(self, settings: dict[str, HoldSettings]) -> None:
        """New queue settings: the music is loaded again when next played (a new prompt)."""
        self.settings = settings
        self._music.clear()

    async def music(self, queue: str) -> bytes:
        settings = self.settings.get(queue)
        prompt = settings.prompt if settings else None
        if prompt not in self._music:
            audio = await telephony.prompt_audio(self.ctx, prompt) if prompt else None
            self._music[prompt] = audio or SILENCE
        return self._music[prompt]

    async def keep(self, leg: Leg, queue: str, variables: dict[str, Any], runner: QueueRunner) -> None:
        """Music until cancelled (an agent answered, the caller gave up); every `announce_seconds`
        the caller's position and estimated wait, and the callback offer: a caller who presses 1
        keeps their place, hears that they will be called back, and is hung up on."""
        settings = self.settings.get(queue)
        music = await self.music(queue)
        every = settings.announce_seconds if settings else 0
        offer_callback = settings.offer_callback if settings else False
        leg.key_pressed.clear()
        while not leg.ended.is_set():
            if every > 0:
                place = runner.position(leg.id)
                if place is not None:
                    position, wait = place
                    words = {"position": position, "minutes": max(1, round(wait / 60))}
                    await leg.play(await self.speech.audio(POSITION, words))
                if offer_callback:
                    await leg.play(await self.speech.audio(CALLBACK_OFFER, variables))
            pressed = asyncio.Event()
            music_task = asyncio.ensure_future(leg.play(music, loop=True, interrupt=pressed))
            try:
                while True:
                    try:
                        key = await asyncio.wait_for(leg.digits.get(), every if every > 0 else None)
                    except TimeoutError:
                        break
                    if key == "1" and offer_callback and runner.request_callback(leg.id):
                        pressed.set()
                        await music_task
                        await leg.play(await self.speech.audio(CALLBACK_TAKEN, variables))
                        await leg.hang_up()
                        return
            finally:
                pressed.set()
                with contextlib.suppress(Exception):
                    await music_task
