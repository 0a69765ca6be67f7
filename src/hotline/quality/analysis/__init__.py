"""Automatic checks of a recorded call's audio (talk, silence, overtalk, ratio, monologue), computed in
a worker off the event loop: `ctx.compute(analyse_files, caller_wav, agent_wav, hold_seconds=...)`.

- `vad.py`: where each side speaks (WebRTC's voice activity detector, smoothed);
- `checks.py`: the rules on those spans and the result, `CallChecks`;
- `service.py`: files in, checks out; `analyse_files` is the compute pool's entry point.
"""

from hotline.quality.analysis.checks import CallChecks
from hotline.quality.analysis.service import analyse, analyse_files

__all__ = ["CallChecks", "analyse", "analyse_files"]
