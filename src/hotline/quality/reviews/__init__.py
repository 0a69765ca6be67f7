"""Scorecards, sampling, evaluations, calibration and the call library (Q2–Q4)."""
