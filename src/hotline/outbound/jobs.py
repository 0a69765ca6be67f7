"""The outbound domain's scheduled work: attempts settled every minute (settling.py) and the
campaigns' morning feeds from their date sources (feeds.py)."""

from hotline.outbound import feeds, settling

__all__ = ["feeds", "settling"]
