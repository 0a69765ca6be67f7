"""Call applications that run on the call-control interface before the IVR (issue 4) exists."""

from __future__ import annotations

import structlog

from hotline.voice.control import Application, Leg
from hotline.voice.media.g711 import tone, ulaw_encode
from hotline.voice.media.tts import PromptCache, TtsUnavailable

log = structlog.get_logger(__name__)

WELCOME = "您好，欢迎致电英冠酒店集团。请输入您的会员号，以井号键结束。"


def prompt_and_collect(prompts: PromptCache | None = None) -> Application:
    """Answer, say the Mandarin welcome, then collect up to 16 digits ending with #.

    Without espeak-ng and sox the welcome is a two-tone beep, so a call still works.
    """

    async def application(leg: Leg) -> None:
        try:
            audio = await prompts.mulaw(WELCOME) if prompts is not None else None
        except TtsUnavailable as exc:
            log.warning("spoken prompt unavailable; playing a tone", reason=str(exc))
            audio = None
        if audio is None:
            audio = ulaw_encode(tone(440, 400) + [0] * 800 + tone(660, 400))
        await leg.answer()
        await leg.play(audio, interrupt=leg.key_pressed)
        digits = await leg.collect(max_digits=16, first_timeout=10, next_timeout=5)
        leg.variables["digits"] = digits
        log.info("caller entered digits", leg=leg.id, number=leg.number, digits=digits)

    return application
