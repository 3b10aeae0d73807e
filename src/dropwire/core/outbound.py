"""The outbound address guard: Dropwire connects only to public addresses, checked once.

Vendors and stores choose the URLs Dropwire calls (a vendor's `orderEndpoint`, a feed's
`resourceLocation`, a channel's endpoints), so every outbound connection goes through here.
A host is resolved exactly once; every address it resolves to must be globally routable
(`ipaddress`'s `is_global`, and not multicast, 6to4 or an IPv4 address wrapped in IPv6 that
isn't); the connection is then made to the address that was checked, never to a second lookup
(which a rebinding name could point elsewhere). `DROPWIRE_ALLOW_PRIVATE_TARGETS` turns the
check off; `DROPWIRE_ALLOWED_TARGET_NETWORKS` lets chosen networks through.

`GuardedTransport` is the httpx transport every HTTP client that reaches a user-chosen URL uses
(webhook relay; pull feeds and the Elastic Path client when they call out). Other protocols (FTP)
call `resolve_checked` and connect to the address it returns.
"""

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpx

from dropwire.core.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
"""(host, port) -> the addresses it resolves to; tests pass a stub."""

_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ftps": 21}
_HOST = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]+")  # a DNS name, IPv4 or (unbracketed) IPv6


class TargetRefused(Exception):
    """The URL may not be called: its host is (or resolves to) an address the policy forbids."""


class Unresolvable(httpx.ConnectError):
    """The host has no address right now: a connection failure like any other (retried)."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve {host}: {exc}") from exc
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    return addresses


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one merely wraps (mapped, NAT64), judged on its own."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not private, shared (100.64/10), loopback, link-local,
    reserved, documentation, multicast, 6to4 or a wrapped IPv4 address that is any of those."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _SIX_TO_FOUR:
            return False  # relays to whatever IPv4 address it embeds: never a webhook host
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not address.is_multicast


def parse_networks(value: str | Iterable[str]) -> tuple[IPNetwork, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses outbound connections may reach."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def from_settings(cls, settings: Settings) -> "AddressPolicy":
        return cls(
            allow_private=settings.allow_private_targets,
            allowed_networks=parse_networks(settings.allowed_target_networks),
        )

    def permits(self, address: IPAddress) -> bool:
        if self.allow_private:
            return True
        if any(address.version == net.version and address in net for net in self.allowed_networks):
            return True
        return is_public(address)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def resolve_checked(
    host: str, port: int, policy: AddressPolicy, resolver: Resolver = system_resolver
) -> str:
    """The one address to connect to for `host`: resolved once, every answer checked."""
    if not host:
        raise TargetRefused("the URL names no host")
    literal = _literal(host)
    if literal is not None:
        candidates = [literal]
    else:
        answers = resolver(host, port)
        if not answers:
            raise Unresolvable(f"cannot resolve {host}: no address")
        candidates = [ipaddress.ip_address(a.split("%", 1)[0]) for a in answers]
    for address in candidates:
        if not policy.permits(address):
            named = str(address) if literal is not None else f"{host} resolves to {address}, which"
            raise TargetRefused(
                f"{named} is not a public address; set DROPWIRE_ALLOW_PRIVATE_TARGETS=true or "
                "DROPWIRE_ALLOWED_TARGET_NETWORKS to allow it"
            )
    return str(candidates[0])


class GuardedTransport(httpx.HTTPTransport):
    """Connects to the checked address while the request keeps its name (Host header, TLS SNI
    and certificate check), so what was checked is what is reached."""

    def __init__(
        self, policy: AddressPolicy, resolver: Resolver = system_resolver, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.policy = policy
        self.resolver = resolver

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise TargetRefused(f"not an http(s) URL: scheme {url.scheme!r}")
        host = url.host
        port = url.port or DEFAULT_PORTS[url.scheme]
        if not 1 <= port <= 65535 or not _HOST.fullmatch(host):
            raise httpx.InvalidURL(f"not a host and port one can connect to: {url.netloc!r}")
        address = resolve_checked(host, port, self.policy, self.resolver)
        if _literal(host) is None:
            request.headers.setdefault("host", url.netloc.decode("ascii").rsplit("@", 1)[-1])
            request.url = url.copy_with(host=address)
            if url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
        return super().handle_request(request)


def without_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """The URL without its userinfo, and that userinfo as basic auth: the same request, but no
    password in the URL that clients log (httpx logs every request line at INFO)."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return url, None
    auth = httpx.BasicAuth(parsed.username, parsed.password)
    return str(parsed.copy_with(username=None, password=None)), auth


def guarded_client(
    policy: AddressPolicy, resolver: Resolver = system_resolver, **kwargs: object
) -> httpx.Client:
    """An httpx client for user-chosen URLs: guarded, and never following redirects (a redirect
    is a second URL nobody checked)."""
    return httpx.Client(
        transport=GuardedTransport(policy, resolver),
        follow_redirects=False,
        **kwargs,  # type: ignore[arg-type]
    )
