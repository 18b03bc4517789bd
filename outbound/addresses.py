"""Which IP addresses a server-side request may reach: global unicast only.

Hosts are parsed here rather than by the C library, so that every numeric
spelling of an address (127.1, 2130706433, 0x7f.0.0.1, 017700000001) is
judged as the address it stands for and never leaks into a DNS query.
"""

import enum
import ipaddress
import re
from collections.abc import Iterable

from outbound.errors import ForbiddenAddress
from outbound.errors import ForbiddenUrl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressKind(enum.StrEnum):
    GLOBAL = "global"
    UNSPECIFIED = "unspecified"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    SHARED = "shared (carrier-grade NAT)"
    LINK_LOCAL = "link-local"
    MULTICAST = "multicast"
    BROADCAST = "broadcast"
    RESERVED = "reserved"
    DOCUMENTATION = "documentation"
    BENCHMARKING = "benchmarking"
    UNIQUE_LOCAL = "unique local"
    SITE_LOCAL = "site-local"
    IPV4_MAPPED = "IPv4-mapped"
    IPV4_COMPATIBLE = "IPv4-compatible"
    IPV4_TRANSLATED = "IPv4-translated"
    TUNNEL = "tunnel embedding a non-global address"


def _table(rows: list[tuple[str, AddressKind]]) -> list[tuple[IPNetwork, AddressKind]]:
    return [(ipaddress.ip_network(network), kind) for network, kind in rows]


# Order matters: the first match wins, so narrower entries come first.
_IPV4_SPECIAL = _table(
    [
        ("0.0.0.0/8", AddressKind.UNSPECIFIED),
        ("10.0.0.0/8", AddressKind.PRIVATE),
        ("100.64.0.0/10", AddressKind.SHARED),
        ("127.0.0.0/8", AddressKind.LOOPBACK),
        ("169.254.0.0/16", AddressKind.LINK_LOCAL),
        ("172.16.0.0/12", AddressKind.PRIVATE),
        ("192.0.0.0/24", AddressKind.RESERVED),
        ("192.0.2.0/24", AddressKind.DOCUMENTATION),
        ("192.88.99.0/24", AddressKind.RESERVED),
        ("192.168.0.0/16", AddressKind.PRIVATE),
        ("198.18.0.0/15", AddressKind.BENCHMARKING),
        ("198.51.100.0/24", AddressKind.DOCUMENTATION),
        ("203.0.113.0/24", AddressKind.DOCUMENTATION),
        ("224.0.0.0/4", AddressKind.MULTICAST),
        ("255.255.255.255/32", AddressKind.BROADCAST),
        ("240.0.0.0/4", AddressKind.RESERVED),
    ]
)

_IPV6_SPECIAL = _table(
    [
        ("::/128", AddressKind.UNSPECIFIED),
        ("::1/128", AddressKind.LOOPBACK),
        ("::ffff:0:0/96", AddressKind.IPV4_MAPPED),
        ("::/96", AddressKind.IPV4_COMPATIBLE),
        ("::ffff:0:0:0/96", AddressKind.IPV4_TRANSLATED),
        ("64:ff9b:1::/48", AddressKind.IPV4_TRANSLATED),
        ("100::/64", AddressKind.RESERVED),
        ("2001:2::/48", AddressKind.BENCHMARKING),
        ("2001:db8::/32", AddressKind.DOCUMENTATION),
        ("3fff::/20", AddressKind.DOCUMENTATION),
        ("5f00::/16", AddressKind.RESERVED),
        ("fc00::/7", AddressKind.UNIQUE_LOCAL),
        ("fe80::/10", AddressKind.LINK_LOCAL),
        ("fec0::/10", AddressKind.SITE_LOCAL),
        ("ff00::/8", AddressKind.MULTICAST),
    ]
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_TEREDO = ipaddress.ip_network("2001::/32")
_IETF_PROTOCOLS = ipaddress.ip_network("2001::/23")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")

_NUMBER = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


def classify_address(address: str | IPAddress) -> AddressKind:
    """The kind of `address`; only AddressKind.GLOBAL may be reached from a server."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if ip.version == 4:
        return _classify_v4(ip)
    return _classify_v6(ip)


def is_global_unicast(address: str | IPAddress) -> bool:
    """True when `address` is a global unicast address."""
    return classify_address(address) is AddressKind.GLOBAL


def _classify_v4(ip: ipaddress.IPv4Address) -> AddressKind:
    for network, kind in _IPV4_SPECIAL:
        if ip in network:
            return kind
    return AddressKind.GLOBAL


def _classify_v6(ip: ipaddress.IPv6Address) -> AddressKind:
    ip = ipaddress.IPv6Address(int(ip))  # drops a %scope, which changes nothing here
    for network, kind in _IPV6_SPECIAL:
        if ip in network:
            return kind
    value = int(ip)
    if ip in _NAT64:
        return _embedded(value & 0xFFFFFFFF, AddressKind.IPV4_TRANSLATED)
    if ip in _TEREDO:
        server = (value >> 64) & 0xFFFFFFFF
        client = ~value & 0xFFFFFFFF  # Teredo stores the client address inverted
        if _classify_v4(ipaddress.IPv4Address(server)) is not AddressKind.GLOBAL:
            return AddressKind.TUNNEL
        return _embedded(client, AddressKind.TUNNEL)
    if ip in _IETF_PROTOCOLS:
        return AddressKind.RESERVED
    if ip in _SIX_TO_FOUR:
        return _embedded((value >> 80) & 0xFFFFFFFF, AddressKind.TUNNEL)
    if ip not in _GLOBAL_UNICAST:
        return AddressKind.RESERVED
    return AddressKind.GLOBAL


def _embedded(value: int, kind: AddressKind) -> AddressKind:
    if _classify_v4(ipaddress.IPv4Address(value)) is AddressKind.GLOBAL:
        return AddressKind.GLOBAL
    return kind


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a numeric host spells (any inet_aton form, IPv6); None for a name."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise ForbiddenUrl(f"invalid IPv6 address {host!r}") from None
    labels = host.rstrip(".").split(".") if host not in ("", ".") else [host]
    # As in the WHATWG URL standard: a numeric last label makes the host an
    # IPv4 address, which must then parse, instead of a name to resolve.
    if not _NUMBER.fullmatch(labels[-1]):
        return None
    return _parse_ipv4(host, labels)


def _parse_ipv4(host: str, labels: list[str]) -> ipaddress.IPv4Address:
    if len(labels) > 4:
        raise ForbiddenUrl(f"invalid IPv4 address {host!r}")
    numbers = []
    for label in labels:
        if not _NUMBER.fullmatch(label):
            raise ForbiddenUrl(f"invalid IPv4 address {host!r}")
        numbers.append(_parse_number(label, host))
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        raise ForbiddenUrl(f"invalid IPv4 address {host!r}")
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _parse_number(label: str, host: str) -> int:
    try:
        if label[:2].lower() == "0x":
            return int(label[2:] or "0", 16)
        if len(label) > 1 and label.startswith("0"):
            return int(label, 8)
        return int(label, 10)
    except ValueError:
        raise ForbiddenUrl(f"invalid IPv4 address {host!r}") from None


def parse_networks(networks: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    """Networks from strings such as "127.0.0.0/8" (for the allowed-networks switch)."""
    return tuple(ipaddress.ip_network(network) for network in networks)


def check_address(
    address: str | IPAddress, *, allowed_networks: Iterable[str | IPNetwork] = ()
) -> None:
    """Raise ForbiddenAddress unless `address` is global unicast or in an allowed network.

    `allowed_networks` exists for tests that reach their own local servers;
    production code leaves it empty.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if any(
        ip.version == net.version and ip in net
        for net in parse_networks(allowed_networks)
    ):
        return
    kind = classify_address(ip)
    if kind is not AddressKind.GLOBAL:
        raise ForbiddenAddress(
            f"{ip} is a {kind} address; only global unicast addresses are reached",
            address=str(ip),
            kind=kind.value,
        )
