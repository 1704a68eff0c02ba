"""Which IP addresses Signalpost never sends to, and how a host name becomes addresses.

An endpoint URL is chosen by a user; without these rules it could point the workers at the
operator's own network: loopback, private ranges, the cloud metadata service and the like.
"""

from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The first matching range names the kind of address in a refusal; order matters only where
# ranges nest (the metadata address lies inside link-local).
_IPV4_RANGES = [
    ("0.0.0.0/8", "an unspecified address"),
    ("127.0.0.0/8", "a loopback address"),
    ("10.0.0.0/8", "a private address"),
    ("172.16.0.0/12", "a private address"),
    ("192.168.0.0/16", "a private address"),
    ("169.254.169.254/32", "the cloud metadata address"),
    ("169.254.0.0/16", "a link-local address"),
    ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("240.0.0.0/4", "a reserved address"),
    ("192.0.2.0/24", "a documentation address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("192.0.0.0/24", "a reserved address"),
]
_IPV6_RANGES = [
    ("::/128", "an unspecified address"),
    ("::1/128", "a loopback address"),
    ("fc00::/7", "a private (unique local) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("100::/64", "a discard-only address"),
    ("2001::/32", "a Teredo tunnel address"),
    ("64:ff9b:1::/48", "a local NAT64 address"),
    # SIIT's IPv4-translated form (RFC 2765): routed to its IPv4 address by translators, and
    # never a public endpoint's own address, so refused whatever IPv4 address it carries.
    ("::ffff:0:0:0/96", "an IPv4-translated (SIIT) address"),
]
_RANGES = [(ipaddress.ip_network(network), kind) for network, kind in _IPV4_RANGES + _IPV6_RANGES]

# IPv6 forms that carry an IPv4 address and reach it: they are judged by that address.
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order, without repeats.

    Tests replace this function: there is no DNS where they run.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in _IPV4_MAPPED or address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return address.sixtofour


def address_problem(address: str | IPAddress) -> str | None:
    """What kind of forbidden address this is, e.g. "a private address", or None if public."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an address that can be checked"
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ipaddress.IPv6Address(int(ip))  # without any %zone suffix
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            kind = address_problem(embedded)
            return f"an IPv6 form of {embedded}, {kind}" if kind else None
    for network, kind in _RANGES:
        if ip.version == network.version and ip in network:
            return kind
    if not ip.is_global:
        return "a reserved address"
    return None
