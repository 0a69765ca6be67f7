"""Automatic checks of a recorded call's audio (talk, silence, overtalk), off the event loop."""
