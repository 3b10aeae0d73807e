"""Hands messages to the configured SMTP server with aiosmtplib, keeping one connection open.

The relay sends from worker threads; aiosmtplib is asynchronous, so each process runs one event
loop in a thread of its own and the senders wait for their message there. The connection is
kept between messages (probed with NOOP before reuse) and opened again after any failure.
"""

import asyncio
import ssl
import threading
from dataclasses import dataclass
from email.message import Message
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # smtps: TLS from the first byte
    start_tls: bool  # smtp with ?starttls=true: upgrade before authenticating
    verify: bool = True
    cafile: str | None = None

    def tls_context(self) -> ssl.SSLContext | None:
        if not (self.use_tls or self.start_tls):
            return None
        context = ssl.create_default_context(cafile=self.cafile)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://user:pass@host:587?starttls=true`, `smtps://user:pass@host:465`; `verify=false`
    or `cafile=/path` for a server with a private certificate."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("DROPWIRE_SMTP_URL must look like smtp://host:587 or smtps://host:465")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    use_tls = parts.scheme == "smtps"
    return SmtpTarget(
        hostname=parts.hostname,
        port=parts.port or (465 if use_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=not use_tls and query.get("starttls", "").lower() in _TRUE,
        verify=query.get("verify", "true").lower() in _TRUE,
        cafile=query.get("cafile") or None,
    )


class _Loop:
    """One event loop per process, in a daemon thread, for every SMTP exchange."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self.loop.run_forever, name="smtp", daemon=True)
        thread.start()


_LOOP: _Loop | None = None
_LOOP_LOCK = threading.Lock()


def _loop() -> asyncio.AbstractEventLoop:
    global _LOOP  # one loop per process, made on first use
    with _LOOP_LOCK:
        if _LOOP is None:
            _LOOP = _Loop()
        return _LOOP.loop


@dataclass
class Handed:
    """What became of one message of a batch: the server's reply, the error, or not tried."""

    reply: str | None = None
    error: BaseException | None = None
    connecting: bool = False  # the error came from reaching or greeting the server
    skipped: bool = False  # the batch ran out of time before this message


class SmtpSender:
    """Sends messages over a kept connection to one server, a batch at a time."""

    # A batch ends at most this many timeouts after its budget: the last message started
    # (MAIL, RCPT, DATA) or the connection it opens; what is still going then is given up.
    EXCHANGES = 3

    def __init__(self, target: SmtpTarget, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self._client: aiosmtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def _connected(self) -> aiosmtplib.SMTP:
        """The kept connection (probed with NOOP, as the server may have closed it while idle),
        else a new one."""
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.noop()
                return self._client
            except aiosmtplib.SMTPException:
                self._drop()
        target = self.target
        client = aiosmtplib.SMTP(
            hostname=target.hostname,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.use_tls,
            start_tls=target.start_tls,
            tls_context=target.tls_context(),
            timeout=self.timeout,
        )
        await client.connect()
        self._client = client
        return client

    async def _send_all(self, messages: list[Message], budget: float, handed: list[Handed]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        client: aiosmtplib.SMTP | None = None
        broken: Handed | None = None  # the connection failed: the rest of the batch waits
        for message in messages:
            if broken is not None:
                handed.append(Handed(error=broken.error, connecting=broken.connecting))
                continue
            if handed and loop.time() > deadline:
                handed.append(Handed(skipped=True))
                continue
            if client is None:
                try:
                    client = await self._connected()
                except BaseException as exc:
                    self._drop()
                    broken = Handed(error=exc, connecting=True)
                    handed.append(broken)
                    if not isinstance(exc, Exception):
                        raise
                    continue
            try:
                _refused, reply = await client.send_message(message)
            except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as exc:
                handed.append(Handed(error=exc))  # aiosmtplib reset the envelope; carry on
                if not client.is_connected:
                    self._drop()
                    client = None
            except (ValueError, aiosmtplib.SMTPNotSupported) as exc:
                handed.append(Handed(error=exc))  # this message's addresses; carry on
            except BaseException as exc:
                self._drop()
                broken = Handed(error=exc)
                handed.append(broken)
                if not isinstance(exc, Exception):
                    raise
            else:
                handed.append(Handed(reply=reply))

    def send_all(self, messages: list[Message], *, budget: float) -> list[Handed]:
        """Hand `messages` to the server in turn over one connection, one `Handed` each. A
        message is not started once `budget` seconds have passed (the first always is); after
        a connection failure the rest get the same error without being tried. It returns
        within `budget` and `EXCHANGES` timeouts: then the message being handed over has
        failed, those not started are skipped, and those handed keep their replies."""
        handed: list[Handed] = []
        with self._lock:
            work = self._send_all(messages, budget, handed)
            future = asyncio.run_coroutine_threadsafe(work, _loop())
            try:
                future.result(budget + self.timeout * self.EXCHANGES)
            except TimeoutError as exc:
                future.cancel()
                done = list(handed)
                late = [Handed(skipped=True) for _ in messages[len(done) + 1 :]]
                return [*done, Handed(error=exc), *late][: len(messages)]
            return handed

    def send(self, message: Message) -> str:
        """The server's reply to the accepted message; raises what refused it."""
        (handed,) = self.send_all([message], budget=self.timeout)
        if handed.error is not None:
            raise handed.error
        return handed.reply or ""


_SENDERS: dict[tuple[str, float], SmtpSender] = {}


def sender_for(url: str, timeout: float) -> SmtpSender:
    """The process's sender for this server (one kept connection each)."""
    key = (url, timeout)
    sender = _SENDERS.get(key)
    if sender is None:
        sender = _SENDERS[key] = SmtpSender(parse_smtp_url(url), timeout)
    return sender
