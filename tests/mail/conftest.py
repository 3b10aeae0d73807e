"""A real SMTP server (aiosmtpd) on 127.0.0.1 whose behaviour the tests control: plain or
STARTTLS with a throwaway certificate, with or without a required login, and answers to DATA
that the test chooses (a refusal, then acceptance)."""

import asyncio
import datetime
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dropwire.core.settings import Settings
from tests.delivery.conftest import receiver, relay  # noqa: F401  (shared fixtures)

USER, PASSWORD = "mailer", "s3cret-pass"


@dataclass
class Inbox:
    """What the server accepted, and the answers it gives to the next DATA commands."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # e.g. "451 4.3.0 try later", in turn
    logins: list[str] = field(default_factory=list)
    refused_recipients: dict[str, str] = field(default_factory=dict)  # address -> the answer
    greetings: int = 0  # EHLO commands: one a connection (two with STARTTLS)
    delay: float = 0.0  # seconds the server takes to accept each message (a slow server)

    async def handle_EHLO(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refused_recipients:
            return self.refused_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(self.delay)
        if self.refusals:
            return self.refusals.pop(0)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 queued"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _certificate(directory: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@dataclass
class SmtpServer:
    inbox: Inbox
    url: str
    controller: Controller


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[Callable[..., SmtpServer]]:
    """Start servers: `smtp_server()` plain, `smtp_server(tls=True, login=True)` STARTTLS and
    a required login, `implicit_tls=True` TLS from the first byte (smtps); each is stopped after
    the test."""
    started: list[Controller] = []

    def start(*, tls: bool = False, login: bool = False, implicit_tls: bool = False) -> SmtpServer:
        inbox = Inbox()

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
                USER.encode(),
                PASSWORD.encode(),
            )
            if ok:
                inbox.logins.append(USER)
            return AuthResult(success=ok)

        port = free_port()
        options: dict[str, Any] = {}
        if tls:
            options |= {"tls_context": _certificate(tmp_path), "require_starttls": True}
        if implicit_tls:  # smtps: TLS from the first byte
            options["ssl_context"] = _certificate(tmp_path)
        if login:
            options |= {"authenticator": authenticate, "auth_required": True}
            options["auth_require_tls"] = tls  # (smtps: aiosmtpd sees no STARTTLS, yet all is TLS)
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        credentials = f"{USER}:{PASSWORD}@" if login else ""
        query = "?starttls=true&verify=false" if tls else "?verify=false" if implicit_tls else ""
        scheme = "smtps" if implicit_tls else "smtp"
        return SmtpServer(inbox, f"{scheme}://{credentials}127.0.0.1:{port}{query}", controller)

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def mail_to(configure: Callable[..., Settings]) -> Callable[[str], Settings]:
    """Point the server's email at an SMTP URL (as DROPWIRE_SMTP_URL would)."""

    def point(url: str) -> Settings:
        return configure(
            smtp_url=url,
            mail_from="Shop Orders <orders@shop.example>",
            merchant_name="Example Shop",
            merchant_address="1 Market Street\nSpringfield",
            public_url="https://hub.shop.example",
        )

    return point
