"""Refuse outbound requests to private, loopback and link-local addresses (unless allowed).

Every address the host resolves to is checked, so a public name pointing inside is refused too.
"""

import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(Exception):
    pass


def check_target(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(f"not an http(s) URL: {url}")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(
            parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        )
    except socket.gaierror as exc:
        raise TargetRefused(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
        ):
            raise TargetRefused(
                f"{parts.hostname} resolves to {address}, a private or local address; "
                "set DROPWIRE_ALLOW_PRIVATE_TARGETS=true to allow it"
            )
