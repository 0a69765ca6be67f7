"""Reading rtpengine's call captures (`--recording-method=pcap`): classic pcap files, link type raw
IPv4 (101) or Ethernet (1), one record per RTP packet rtpengine received, with the sender's
address as the IP/UDP source and rtpengine's own port as the destination, wall-clock stamped."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_MAGIC = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
          b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}  # fmt: skip
_RAW, _ETHERNET = 101, 1


class PcapError(ValueError):
    """Not a capture this reader understands."""


@dataclass(frozen=True)
class Captured:
    at: float  # wall clock (seconds since the epoch)
    destination_port: int  # rtpengine's port the packet arrived on
    payload_type: int
    timestamp: int
    ssrc: int
    payload: bytes


def rtp_packets(path: Path) -> Iterator[Captured]:
    """The RTP packets (version 2, UDP over IPv4) of one capture; anything else is skipped, and a
    capture cut short (rtpengine still writing) ends at its last whole record."""
    data = path.read_bytes()
    if len(data) < 24 or data[:4] not in _MAGIC:
        raise PcapError(f"{path.name} is not a pcap file")
    order, unit = _MAGIC[data[:4]]
    link = struct.unpack(f"{order}I", data[20:24])[0]
    if link not in (_RAW, _ETHERNET):
        raise PcapError(f"{path.name}: link type {link} is not raw IP or Ethernet")
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, length, _ = struct.unpack(f"{order}IIII", data[offset : offset + 16])
        frame = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        if len(frame) < length:
            return
        if link == _ETHERNET:
            if frame[12:14] != b"\x08\x00":
                continue
            frame = frame[14:]
        packet = _rtp(frame, seconds + fraction * unit)
        if packet is not None:
            yield packet


def _rtp(ip: bytes, at: float) -> Captured | None:
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:  # IPv4 carrying UDP
        return None
    udp = ip[(ip[0] & 0x0F) * 4 :]
    if len(udp) < 8 + 12:
        return None
    port = struct.unpack("!H", udp[2:4])[0]
    rtp = udp[8:]
    if rtp[0] >> 6 != 2:
        return None
    header = 12 + 4 * (rtp[0] & 0x0F)
    if rtp[0] & 0x10 and len(rtp) >= header + 4:  # a header extension
        header += 4 + 4 * struct.unpack("!H", rtp[header + 2 : header + 4])[0]
    end = len(rtp)
    if rtp[0] & 0x20 and end > header:  # padding
        end -= rtp[-1]
    if end <= header:
        return None
    timestamp, ssrc = struct.unpack("!II", rtp[4:12])
    return Captured(at, port, rtp[1] & 0x7F, timestamp, ssrc, rtp[header:end])
