"""Download a pull feed's file to disk: http(s) with httpx streaming, ftp(s) with ftplib.

Always a GET / RETR, with connect and read timeouts and a size limit, straight into a file (never
whole in memory). A compressed HTTP body (`Content-Encoding: gzip` or `deflate`) is decoded
here, 64 KiB of output at a time, so the size limit counts decoded bytes and one small reply
can't expand in memory; a body that decodes to more than `MAX_RATIO` times its compressed size
(past the first `RATIO_FROM` bytes) is refused as a decompression bomb. Credentials come from
the URL (RFC 1738, percent-decoded) or, for REST sources, the feed's bearer token. The outbound
guard applies to every host, including each redirect's, and the connection goes to the address
it checked (no DNS rebinding).
"""

import contextlib
import ftplib
import ssl
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx

from dropwire.apilog.redaction import masked_url
from dropwire.core.outbound import AddressPolicy, TargetRefused, guarded_client, resolve_checked

Progress = Callable[[int], None]  # called with the bytes downloaded so far
MAX_REDIRECTS = 5
CHUNK = 64 * 1024
MAX_RATIO = 100
"""Stock files compress 5 to 20 times; NULs or one repeated byte, a thousand times."""
RATIO_FROM = 16 * 1024 * 1024


class SourceError(Exception):
    """The file could not be fetched whole; the run fails and applies nothing from it."""


class TooLarge(SourceError):
    """The file grew past the byte limit (a preview reads up to it and stops)."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    connect_timeout: float
    read_timeout: float
    policy: AddressPolicy


class _Sink:
    """Writes chunks to the file, refusing to grow past the size limit."""

    def __init__(self, file: BinaryIO, max_bytes: int, progress: Progress | None) -> None:
        self.file = file
        self.max_bytes = max_bytes
        self.progress = progress
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise TooLarge(
                f"the file is larger than DROPWIRE_FEED_MAX_BYTES ({self.max_bytes} bytes)"
            )
        self.file.write(chunk)
        if self.progress is not None:
            self.progress(self.size)


class _Decoder:
    """Decodes a compressed HTTP body in bounded pieces, counting what comes in and out."""

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip() for c in content_encoding.lower().split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise SourceError(f"unsupported Content-Encoding '{content_encoding[:50]}'")
        self.coding = codings[0] if codings else None
        self.received = 0
        self.decoded = 0
        self._inflate = self._new()

    def _new(self) -> "zlib._Decompress | None":
        if self.coding is None:
            return None
        # gzip or zlib header for gzip (47 = auto-detect); deflate is zlib-wrapped (15)
        return zlib.decompressobj(47 if self.coding != "deflate" else 15)

    def decode(self, data: bytes) -> Iterator[bytes]:
        self.received += len(data)
        if self._inflate is None:
            self.decoded += len(data)
            yield data
            return
        pending = data
        while pending:
            try:
                piece = self._inflate.decompress(pending, CHUNK)
            except zlib.error as exc:
                raise SourceError(f"the {self.coding} body is corrupt: {exc}") from exc
            pending = self._inflate.unconsumed_tail
            if self._inflate.eof and self._inflate.unused_data:  # another gzip member
                pending = self._inflate.unused_data
                self._inflate = self._new()
                assert self._inflate is not None
            self.decoded += len(piece)
            if self.decoded > RATIO_FROM and self.decoded > MAX_RATIO * self.received:
                raise SourceError(
                    f"the {self.coding} body decodes to more than {MAX_RATIO} times its size "
                    f"({self.decoded} bytes from {self.received}): refused as a decompression bomb"
                )
            if piece:
                yield piece
            elif not pending:
                break

    def finish(self) -> bytes:
        return self._inflate.flush() if self._inflate is not None else b""


def _checked_address(host: str, port: int, limits: Limits) -> str:
    try:
        return resolve_checked(host, port, limits.policy)
    except (TargetRefused, httpx.HTTPError, OSError) as exc:
        raise SourceError(f"refused: {exc}") from exc


def download(
    url: str,
    destination: Path,
    limits: Limits,
    *,
    token: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Fetch `url` into `destination`; returns the bytes written or raises SourceError."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise SourceError(f"no host in {masked_url(url)}")
    with destination.open("wb") as file:
        sink = _Sink(file, limits.max_bytes, progress)
        if parts.scheme in ("http", "https"):
            _http(url, sink, limits, token)
        elif parts.scheme in ("ftp", "ftps"):
            _ftp(url, sink, limits)
        else:
            raise SourceError(f"unsupported scheme '{parts.scheme}'")
        return sink.size


def _http(url: str, sink: _Sink, limits: Limits, token: str | None) -> None:
    parts = urlsplit(url)
    auth = None
    if parts.username is not None:
        auth = httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
    headers = {
        "Accept": "*/*",
        "Accept-Encoding": "gzip, deflate",  # what _Decoder decodes, in bounded pieces
        "User-Agent": "Dropwire feed fetcher",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    timeout = httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout)
    current = _without_userinfo(url)
    with guarded_client(limits.policy, timeout=timeout, headers=headers) as client:
        for _ in range(MAX_REDIRECTS + 1):
            target = urlsplit(current)
            if target.scheme not in ("http", "https"):
                raise SourceError(f"redirected to a non-http URL: {masked_url(current)}")
            same_host = target.netloc == urlsplit(_without_userinfo(url)).netloc
            try:
                with client.stream("GET", current, auth=auth if same_host else None) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise SourceError(f"HTTP {response.status_code} from {masked_url(url)}")
                    length = response.headers.get("content-length")
                    if length and length.isdigit() and int(length) > sink.max_bytes:
                        raise SourceError(
                            f"the file is larger than DROPWIRE_FEED_MAX_BYTES "
                            f"({length} > {sink.max_bytes} bytes)"
                        )
                    decoder = _Decoder(response.headers.get("content-encoding", ""))
                    for chunk in response.iter_raw(CHUNK):
                        for piece in decoder.decode(chunk):
                            sink.write(piece)
                    sink.write(decoder.finish())
                    return
            except TargetRefused as exc:
                raise SourceError(f"refused: {exc}") from exc
            except httpx.HTTPError as exc:
                raise SourceError(
                    f"download from {masked_url(url)} broke off after {sink.size} bytes: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
    raise SourceError(f"more than {MAX_REDIRECTS} redirects from {masked_url(url)}")


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _ftp(url: str, sink: _Sink, limits: Limits) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 21
    address = _checked_address(host, port, limits)
    user = unquote(parts.username) if parts.username is not None else "anonymous"
    password = unquote(parts.password) if parts.password is not None else ""
    path = unquote(parts.path)
    # plain FTP is what many vendors offer; ftps is used whenever the URL asks for it
    ftp: ftplib.FTP = (
        ftplib.FTP_TLS(context=ssl.create_default_context(), timeout=limits.read_timeout)  # noqa: S321
        if parts.scheme == "ftps"
        else ftplib.FTP(timeout=limits.read_timeout)  # noqa: S321
    )
    try:
        ftp.connect(address, port, timeout=limits.connect_timeout)
        ftp.host = host  # TLS checks the certificate against the name, not the address
        ftp.login(user, password)
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.prot_p()
        ftp.voidcmd("TYPE I")
        try:
            size = ftp.size(path)
        except ftplib.error_perm:
            size = None
        if size is not None and size > sink.max_bytes:
            raise SourceError(
                f"the file is larger than DROPWIRE_FEED_MAX_BYTES ({size} > {sink.max_bytes} bytes)"
            )
        ftp.retrbinary(f"RETR {path}", sink.write, blocksize=CHUNK)
        if size is not None and sink.size != size:
            raise SourceError(f"the FTP transfer ended after {sink.size} of {size} bytes")
    except ftplib.all_errors as exc:
        raise SourceError(
            f"FTP {masked_url(url)} failed after {sink.size} bytes: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            ftp.close()
