"""Spoken prompts with espeak-ng (Mandarin) and sox, cached by text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hotline.voice.media.tts import PromptCache, TtsUnavailable

needs_tts = pytest.mark.skipif(
    not PromptCache.available(), reason="needs espeak-ng and sox (make test installs them)"
)


@needs_tts
async def test_a_mandarin_prompt_is_rendered_once_to_8khz_mu_law(tmp_path: Path) -> None:
    prompts = PromptCache(tmp_path)
    audio = await prompts.mulaw("下面由003号服务员为您服务")
    assert 1.0 < len(audio) / 8000 < 10.0  # seconds of 8 kHz, one byte a sample
    assert len(set(audio)) > 50  # speech, not silence
    cached = prompts.path_for("下面由003号服务员为您服务")
    stamp = cached.stat().st_mtime_ns
    assert await prompts.mulaw("下面由003号服务员为您服务") == audio
    assert cached.stat().st_mtime_ns == stamp and list(tmp_path.iterdir()) == [cached]


async def test_without_espeak_the_prompt_reports_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(TtsUnavailable):
        await PromptCache(tmp_path).mulaw("您好")


def _renderers(marker: str) -> list[int]:
    """Processes whose command line holds `marker` (the text being spoken)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def test_a_render_given_up_leaves_no_renderer_behind(tmp_path: Path) -> None:
    """A call that hangs up while its prompt renders cancels the render: espeak-ng is killed, not
    left blocked on a pipe nobody reads."""
    import asyncio

    cache = PromptCache(tmp_path)
    if not cache.available():
        pytest.skip("espeak-ng and sox are not installed")
    marker = f"第{tmp_path.name[-6:]}号"
    render = asyncio.ensure_future(cache.mulaw(marker + "请您对本次服务进行评价。" * 60))
    for _ in range(200):
        if _renderers(marker):
            break
        await asyncio.sleep(0.005)
    assert _renderers(marker), "espeak-ng never started"
    render.cancel()
    with pytest.raises(asyncio.CancelledError):
        await render
    assert _renderers(marker) == []


async def test_callers_asking_for_the_same_new_prompt_at_once_start_one_renderer(tmp_path: Path) -> None:
    """A burst of callers at a node whose cache is cold: one espeak-ng, every caller gets the
    prompt; one of them hanging up meanwhile does not stop it for the others."""
    import asyncio

    cache = PromptCache(tmp_path)
    if not cache.available():
        pytest.skip("espeak-ng and sox are not installed")
    marker = f"第{tmp_path.name[-6:]}位"
    text = marker + "您前面还有五位客人。"
    callers = [asyncio.ensure_future(cache.mulaw(text)) for _ in range(20)]
    renderers: set[int] = set()
    while not all(c.done() for c in callers[1:]):
        renderers |= set(_renderers(marker))
        if not callers[0].done():
            callers[0].cancel()  # the first caller hangs up while it renders
        await asyncio.sleep(0.002)
    heard = [await c for c in callers[1:]]
    assert len(renderers) <= 2  # espeak-ng, and at most its sox seen with the text (it is not)
    assert len({bytes(h) for h in heard}) == 1 and len(heard[0]) > 8000
    assert [p.name for p in tmp_path.iterdir()] == [cache.path_for(text).name]
