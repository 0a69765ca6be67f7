"""rtpengine (Sipwise's media relay) controlled over its ng protocol: the optional media offload of
large sites (docs/voice.md, "rtpengine"). `bencode.py` is the wire format, `client.py` the commands."""
