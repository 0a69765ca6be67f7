"""Real gateways on loopback: an SMTP server (aiosmtpd) that keeps what it receives, and Kannel
(bearerbox + smsbox from Debian) with its fake SMSC, whose received messages are read back; fakes
of WeChat's and WeCom's HTTP APIs served by uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request

from tests.conftest import free_port
from tests.notify.media_fake import FakeMedia
from tests.notify.wecom_fake import FakeWeCom

FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")


@dataclass
class Inbox:
    """What the SMTP server received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@dataclass
class Kannel:
    sendsms_url: str
    output: Path
    mo_port: int = 0
    """The second fake SMSC's port: customers' SMS come in through it (`inject`)"""

    def inject(self, sender: str, text: str) -> None:
        """A customer's SMS to Kannel, as an SMSC delivers it (UCS-2): a fakesmsc sends it on
        the SMSC that takes no outgoing messages, then leaves (one client at a time is served)."""
        data = urllib.parse.quote(text.encode("utf-16-be"), safe="")
        command = [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.mo_port), "-i", "0.05", "-m", "1"]
        log = self.output.with_name(f"mo-{time.monotonic_ns()}.out")
        with log.open("w") as out:
            process = subprocess.Popen([*command, f"{sender} 10690000 ucs2 {data}"], stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 10
            while "sent message 1" not in log.read_text(errors="replace"):
                if time.monotonic() > deadline:
                    pytest.fail("the fake SMSC did not send the customer's SMS")
                time.sleep(0.05)
            time.sleep(0.3)  # bearerbox reads it before the client leaves
        finally:
            process.terminate()
            process.wait(timeout=5)

    def received(self) -> list[tuple[str, str]]:
        """(to, text) of every SMS the fake SMSC got: UCS-2 decoded, long ones put back together
        from their parts (UDH 05 00 03 ref total seq)."""
        found: list[tuple[str, str]] = []
        parts: dict[tuple[str, int], dict[int, bytes]] = {}
        for line in self.output.read_text(errors="replace").splitlines():
            if "Got message" not in line:
                continue
            fields = line.split("<", 1)[1].rstrip(">").split(" ")
            to, kind = fields[1], fields[2]
            data = urllib.parse.unquote_to_bytes(fields[-1].replace("+", "%20"))
            if kind == "udh":
                udh = urllib.parse.unquote_to_bytes(fields[3].replace("+", "%20"))
                ref, total, seq = udh[3], udh[4], udh[5]
                pieces = parts.setdefault((to, ref), {})
                pieces[seq] = data
                if len(pieces) == total:
                    text = b"".join(pieces[n] for n in sorted(pieces)).decode("utf-16-be")
                    found.append((to, text))
                    del parts[(to, ref)]
            else:
                found.append((to, data.decode("utf-16-be") if kind == "ucs-2" else data.decode()))
        return found


CONFIG = """
group = core
admin-port = {admin}
admin-password = test
smsbox-port = {smsbox}
log-level = 1
log-file = "{dir}/bearerbox.log"
box-allow-ip = 127.0.0.1
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {smsc}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {sendsms}
log-file = "{dir}/smsbox.log"
log-level = 1
http-request-retry = 3
http-queue-delay = 1

group = smsc
smsc = fake
smsc-id = mo
port = {mo}
connect-allow-ip = 127.0.0.1
allowed-smsc-id = mo

group = sendsms-user
username = hotline
password = kannel-secret
default-sender = 10690000
concatenation = true
max-messages = 10
"""


REPLIES = """
group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "{url}/api/notify/mo/kannel?from=%p&to=%P&text=%b&charset=%C&id=%I&token={token}"
"""
MO_TOKEN = "replies-token-0123456789"


@pytest.fixture
def kannel(tmp_path: Path) -> Iterator[Kannel]:
    yield from _kannel(tmp_path, "")


@pytest.fixture
def kannel_replies(tmp_path: Path, relay: Relay) -> Iterator[Kannel]:
    """Kannel whose smsbox hands customers' SMS to Hotline (through `relay`) with MO_TOKEN."""
    yield from _kannel(tmp_path, REPLIES.format(url=relay.url, token=MO_TOKEN))


@dataclass
class Relay:
    """Between smsbox and Hotline: passes each request on, and for the next `drop` requests
    hangs up on Kannel after Hotline answered — Kannel did not hear it and sends it again."""

    url: str
    target: str
    drop: int = 0
    seen: list[str] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


@pytest.fixture
async def relay(served: str) -> AsyncIterator[Relay]:
    import asyncio

    import httpx

    port = free_port()
    state = Relay(f"http://127.0.0.1:{port}", served)
    client = httpx.AsyncClient()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        target = head.split(b" ", 2)[1].decode()
        state.seen.append(target)
        answer = await client.get(state.target + target)
        state.answers.append(answer.status_code)
        if state.drop > 0:
            state.drop -= 1
            writer.close()
            return
        writer.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (
            answer.status_code, len(answer.content), answer.content))  # fmt: skip
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()
        await client.aclose()


def _kannel(tmp_path: Path, services: str) -> Iterator[Kannel]:
    if shutil.which("bearerbox") is None or not FAKESMSC.exists():
        pytest.fail("Kannel is not installed: run `make test` (it installs kannel and kannel-extras)")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # Five ports found free may be taken by another run before bearerbox binds them (the two
        # databases' runs share the machine): bearerbox then exits, and Kannel starts again on others.
        for attempt in range(3):
            ports = {"admin": free_port(), "smsbox": free_port(), "smsc": free_port(), "sendsms": free_port(),
                     "mo": free_port()}  # fmt: skip
            conf = tmp_path / "kannel.conf"
            conf.write_text(CONFIG.format(dir=tmp_path, **ports) + services)
            bearerbox = subprocess.Popen(
                ["bearerbox", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            processes = [bearerbox]
            if _listening(ports["smsbox"], timeout=20, unless_dead=bearerbox):
                break
            _stop(processes)
            if attempt == 2:
                log = (tmp_path / "bearerbox.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"bearerbox did not start three times; its log ends:\n{log}")
        output = tmp_path / "fakesmsc.out"
        processes.append(
            subprocess.Popen(["smsbox", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        with output.open("w") as out:
            command = [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(ports["smsc"]), "-i", "3600", "-m", "0"]
            processes.append(subprocess.Popen([*command, "1 2 text x"], stdout=out, stderr=subprocess.STDOUT))
        _wait_port(ports["sendsms"], timeout=20)
        deadline = time.monotonic() + 20
        while "Fakesmsc client connected" not in (tmp_path / "bearerbox.log").read_text(errors="replace"):
            if time.monotonic() > deadline:
                pytest.fail("the fake SMSC did not connect to bearerbox")
            time.sleep(0.1)
        yield Kannel(f"http://127.0.0.1:{ports['sendsms']}/cgi-bin/sendsms", output, ports["mo"])
    finally:
        _stop(processes)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


def _listening(port: int, timeout: float, unless_dead: subprocess.Popen[bytes]) -> bool:
    """Whether something listens on the port within `timeout`; False at once if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and unless_dead.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def _wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nothing listens on port {port}")


@dataclass
class TlsMail:
    port: int
    inbox: Inbox
    ca_file: str


@pytest.fixture
def smtp_starttls(tmp_path: Path) -> Iterator[TlsMail]:
    """An SMTP server that insists on STARTTLS and a login (hotline / mail-secret), with a
    certificate of its own for 127.0.0.1."""
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (b"hotline", b"mail-secret")
        return AuthResult(success=good, handled=False)

    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=authenticate, auth_required=True,
    )  # fmt: skip
    controller.start()
    try:
        yield TlsMail(port, inbox, str(cert))
    finally:
        controller.stop()


# ---------------------------------------------------------------- WeChat

WECHAT_APP_ID = "wx5823bf96d3bd56c7"


@dataclass
class FakeWeChat:
    """WeChat's token, customer-service and temporary-media endpoints as the spec describes them."""

    app_id: str = WECHAT_APP_ID
    secret: str = "the-app-secret"
    expires_in: int = 7200
    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)
    last_seen: dict[str, float] = field(default_factory=dict)
    media: FakeMedia = field(default_factory=FakeMedia)

    def refused(self, access_token: str) -> dict[str, Any] | None:
        if access_token not in self.issued:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        if access_token in self.revoked:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def app(self) -> FastAPI:
        api = FastAPI()
        self.media.route(api, self.refused)

        @api.get("/cgi-bin/token")
        async def token(grant_type: str, appid: str, secret: str) -> dict[str, Any]:
            if grant_type != "client_credential":
                return {"errcode": 40002, "errmsg": "invalid grant_type"}
            if (appid, secret) != (self.app_id, self.secret):
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            await asyncio.sleep(0.05)  # the network: concurrent callers overlap
            issued = f"ACCESS_TOKEN_{len(self.issued) + 1}"
            self.issued.append(issued)
            return {"access_token": issued, "expires_in": self.expires_in}

        @api.post("/cgi-bin/message/custom/send")
        async def send(access_token: str, request: Request) -> dict[str, Any]:
            if (error := self.refused(access_token)) is not None:
                return error
            payload = await request.json()
            if time.time() - self.last_seen.get(payload.get("touser", ""), 0) > 48 * 3600:
                return {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            self.sent.append(payload)
            return {"errcode": 0, "errmsg": "ok"}

        return api


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """A fake's HTTP API served by uvicorn on loopback; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def wechat() -> AsyncIterator[tuple[FakeWeChat, str]]:
    fake = FakeWeChat()
    async with serving(fake.app()) as url:
        yield fake, url


@pytest.fixture
async def wecom() -> AsyncIterator[tuple[FakeWeCom, str]]:
    fake = FakeWeCom()
    async with serving(fake.app()) as url:
        yield fake, url
