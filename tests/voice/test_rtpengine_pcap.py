"""Reading rtpengine's captures (voice/rtpengine/pcap.py): what was written is read back, and no
input makes the reader fail with anything but PcapError."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.voice.rtpengine.pcap import Captured, PcapError, rtp_packets

HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)  # raw IPv4, as rtpengine writes


def record(packet: Captured, source_port: int = 40000) -> bytes:
    rtp = struct.pack("!BBHII", 0x80, packet.payload_type, 7, packet.timestamp, packet.ssrc) + packet.payload
    udp = struct.pack("!HHHH", source_port, packet.destination_port, 8 + len(rtp), 0) + rtp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                     bytes([127, 0, 0, 1])) + udp  # fmt: skip
    seconds, micro = divmod(round(packet.at * 1_000_000), 1_000_000)
    return struct.pack("<IIII", seconds, micro, len(ip), len(ip)) + ip


captured = st.builds(
    Captured,
    at=st.integers(1_700_000_000_000_000, 1_900_000_000_000_000).map(lambda us: us / 1_000_000),
    destination_port=st.integers(1, 65535),
    payload_type=st.sampled_from([0, 8, 101]),
    timestamp=st.integers(0, 2**32 - 1),
    ssrc=st.integers(0, 2**32 - 1),
    payload=st.binary(min_size=1, max_size=320),
)


@given(st.lists(captured, max_size=20))
@settings(max_examples=60, deadline=None)
def test_given_packets_written_as_rtpengine_does_then_they_are_read_back_in_order(
    tmp_path_factory: pytest.TempPathFactory, packets: list[Captured]
) -> None:
    path = tmp_path_factory.mktemp("pcap") / "call.pcap"
    path.write_bytes(HEADER + b"".join(record(packet) for packet in packets))
    read = list(rtp_packets(path))
    assert [(p.destination_port, p.payload_type, p.timestamp, p.ssrc, p.payload) for p in read] == [
        (p.destination_port, p.payload_type, p.timestamp, p.ssrc, p.payload) for p in packets
    ]
    assert all(abs(a.at - b.at) < 1e-5 for a, b in zip(read, packets, strict=True))


@given(st.lists(captured, min_size=1, max_size=5), st.integers(0, 400))
@settings(max_examples=60, deadline=None)
def test_given_a_capture_cut_short_then_the_whole_records_are_read(
    tmp_path_factory: pytest.TempPathFactory, packets: list[Captured], cut: int
) -> None:
    whole = HEADER + b"".join(record(packet) for packet in packets)
    path = tmp_path_factory.mktemp("pcap") / "call.pcap"
    path.write_bytes(whole[: max(24, len(whole) - cut)])
    read = list(rtp_packets(path))
    assert [p.payload for p in read] == [p.payload for p in packets[: len(read)]]


@given(st.binary(max_size=600))
@settings(max_examples=300, deadline=None)
def test_given_any_bytes_then_the_reader_yields_packets_or_raises_pcap_error(
    tmp_path_factory: pytest.TempPathFactory, body: bytes
) -> None:
    path = tmp_path_factory.mktemp("pcap") / "call.pcap"
    for data in (body, HEADER + body):
        path.write_bytes(data)
        try:
            for packet in rtp_packets(path):
                assert isinstance(packet.payload, bytes) and packet.payload
        except PcapError:
            pass


def test_given_a_file_that_is_not_a_capture_then_pcap_error_names_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.pcap"
    path.write_bytes(b"hello, this is not a pcap file at all")
    with pytest.raises(PcapError, match=r"notes\.pcap"):
        list(rtp_packets(path))
