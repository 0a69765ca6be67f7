"""The outbound domain's scheduled work: attempts settled every minute (settling.py) and the
campaigns' morning feeds from their date sources (feeds.py), and the IVR's survey keys collected
into the survey answers every minute (surveys.py)."""

from hotline.outbound import feeds, settling, surveys

__all__ = ["feeds", "settling", "surveys"]
