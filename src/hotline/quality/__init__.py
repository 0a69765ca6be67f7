"""Quality (质检): the recordings library, automatic checks of every recorded call, scorecards,
sampling, evaluations with acknowledgement and appeal, calibration and the call library
(SPEC Q1–Q4, docs/qa.md).

- `recordings/`: every recorded call part, leg and voicemail indexed from the contact event log,
  searched, played (signed, expiring URLs; waveform peaks computed once), downloaded with its own
  permission, kept by retention rules, every listen audited.
- `analysis/`: what a call's audio says without words — talk per side, silences, overtalk,
  monologues — from a voice activity detector, computed in a worker off the event loop.
- `speech/`: what each side said (a speech engine behind one adapter, run in a worker after the
  checks; none by default) and each queue's phrase rules — required greeting, 工号 and closing,
  forbidden phrases — matched on it, for the library's search and sampling.
- `reviews/`: scorecards (versioned), sampling plans, the evaluation flow (assigned → scored →
  acknowledged or appealed → reviewed → final), calibration and the call library.
"""
