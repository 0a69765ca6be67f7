"""SIPp scenarios of a caller pressing keys: call through the trunk, key DTMF, listen, hang up.

The keys go as SIP INFO (application/dtmf-relay), which the engine takes like RFC 4733 events: the
sip-tester RFC 4733 pcaps carry one fixed RTP timestamp per digit, so a digit pressed twice in a
row (the 88 and 0000 of 88000001) would be one event to any correct receiver.
"""

from __future__ import annotations

HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- {comment} -->
<scenario name="keyed call">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="1000"/>
"""
IN_DIALOG = """  <send retrans="500">
    <![CDATA[
      {method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Max-Forwards: 70
{body}
    ]]>
  </send>
  <recv response="200"/>
"""
KEY_BODY = """      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={key}
      Duration=160
"""
NO_BODY = """      Content-Length: 0
"""


def keyed_call(caller: str, keys: str, *, gap_ms: int = 300, listen_ms: int = 6000, comment: str = "") -> str:
    """A SIPp scenario: call from `caller`, press `keys` (0-9, *, #) `gap_ms` apart, listen for
    `listen_ms`, hang up."""
    parts = [HEAD.format(caller=caller, comment=comment or f"{caller} keys {keys}, then hangs up")]
    for cseq, key in enumerate(keys, start=2):
        body = KEY_BODY.format(key=key)
        parts.append(IN_DIALOG.format(method="INFO", caller=caller, cseq=cseq, body=body))
        parts.append(f'  <pause milliseconds="{gap_ms}"/>\n')
    parts.append(f'  <pause milliseconds="{listen_ms}"/>\n')
    parts.append(IN_DIALOG.format(method="BYE", caller=caller, cseq=len(keys) + 2, body=NO_BODY))
    parts.append("</scenario>\n")
    return "".join(parts)
