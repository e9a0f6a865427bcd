"""Refuse to send webhooks into our own network: the SSRF guard.

Webhook URLs come from users, so a URL could point at the machine we run on, the private
network behind it or the cloud metadata service. The guard resolves the host once, refuses
the URL when *any* of its addresses is not publicly routable (loopback, private, link-local,
multicast, reserved, unspecified, shared address space, the metadata addresses), and returns
the address to connect to. The caller connects to that very address (keeping the name for the
Host header and TLS), so a DNS answer that changes between check and connect ("rebinding")
cannot lead the request elsewhere.

IPv6 forms that embed an IPv4 address (mapped, 6to4, NAT64) are judged by that address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

CLOUD_METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedDestinationError(ValueError):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def blocked_reason(address: IPAddress) -> str | None:
    """Why `address` may not be reached, or None when it is a public address."""
    if address in CLOUD_METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = blocked_reason(embedded)
            return f"{reason} (embedded in {address})" if reason else None
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    for blocked, reason in checks:
        if blocked:
            return reason
    return None


def pinned_address(
    host: str,
    port: int,
    *,
    allow_private: bool = False,
    resolver: Resolver = system_resolver,
) -> IPAddress:
    """The one address to connect to for host, after checking every address it resolves to.

    Raises `BlockedDestinationError` for a forbidden address and `OSError` (socket.gaierror)
    when the name does not resolve.
    """
    literal = host.strip("[]")
    try:
        addresses = [ipaddress.ip_address(literal)]
    except ValueError:
        addresses = [ipaddress.ip_address(raw.split("%", 1)[0]) for raw in resolver(host, port)]
    if not addresses:
        raise OSError(f"{host} resolved to no address")
    if not allow_private:
        for address in addresses:
            reason = blocked_reason(address)
            if reason:
                shown = host if literal == str(address) else f"{host} ({address})"
                raise BlockedDestinationError(f"refusing to send to {shown}: {reason}")
    return addresses[0]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
