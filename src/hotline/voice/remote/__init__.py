"""Voice nodes driven over Redis: one contact layer for the site steers the calls of every voice
node (docs/deployment.md, "One ACD for the site").

- `server.VoiceNodeServer` runs on each voice node beside its SIP server: it announces inbound
  calls, carries out the commands it is sent on its legs, and reports what happens to them.
- `client.RemoteVoiceNode` is the contact layer's `contact.ports.VoiceNode` on the router's node:
  legs, bridges and conferences of every voice node, as if they were local.
- `wire` is what travels between them.
"""
