"""The address classifier, on addresses it only ever parses: nothing here connects."""

import ipaddress

import pytest

from outbound import AddressKind
from outbound import ForbiddenAddress
from outbound import ForbiddenUrl
from outbound import check_address
from outbound import classify_address
from outbound import is_global_unicast
from outbound import parse_ip_literal

K = AddressKind


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", K.LOOPBACK),
        ("127.255.255.254", K.LOOPBACK),
        ("::1", K.LOOPBACK),
        ("10.0.0.1", K.PRIVATE),
        ("172.16.0.1", K.PRIVATE),
        ("172.31.255.255", K.PRIVATE),
        ("192.168.1.1", K.PRIVATE),
        ("100.64.0.1", K.SHARED),
        ("100.127.255.254", K.SHARED),
        ("169.254.169.254", K.LINK_LOCAL),
        ("fe80::1", K.LINK_LOCAL),
        ("fe80::1%eth0", K.LINK_LOCAL),
        ("224.0.0.1", K.MULTICAST),
        ("239.255.255.250", K.MULTICAST),
        ("ff02::1", K.MULTICAST),
        ("240.0.0.1", K.RESERVED),
        ("192.0.0.8", K.RESERVED),
        ("192.88.99.1", K.RESERVED),
        ("100::1", K.RESERVED),
        ("2001:10::1", K.RESERVED),
        ("4000::1", K.RESERVED),
        ("255.255.255.255", K.BROADCAST),
        ("0.0.0.0", K.UNSPECIFIED),
        ("0.1.2.3", K.UNSPECIFIED),
        ("::", K.UNSPECIFIED),
        ("192.0.2.1", K.DOCUMENTATION),
        ("198.51.100.7", K.DOCUMENTATION),
        ("203.0.113.9", K.DOCUMENTATION),
        ("2001:db8::1", K.DOCUMENTATION),
        ("198.18.0.1", K.BENCHMARKING),
        ("198.19.255.255", K.BENCHMARKING),
        ("fc00::1", K.UNIQUE_LOCAL),
        ("fd12:3456::1", K.UNIQUE_LOCAL),
        ("fec0::1", K.SITE_LOCAL),
        ("::ffff:127.0.0.1", K.IPV4_MAPPED),
        ("::ffff:10.0.0.1", K.IPV4_MAPPED),
        ("::ffff:8.8.8.8", K.IPV4_MAPPED),
        ("::127.0.0.1", K.IPV4_COMPATIBLE),
        ("::10.0.0.1", K.IPV4_COMPATIBLE),
        ("::ffff:0:a00:1", K.IPV4_TRANSLATED),
        ("64:ff9b::7f00:1", K.IPV4_TRANSLATED),
        ("64:ff9b::a9fe:a9fe", K.IPV4_TRANSLATED),
        ("64:ff9b:1::1", K.IPV4_TRANSLATED),
        ("2002:7f00:1::1", K.TUNNEL),
        ("2002:c0a8:101::1", K.TUNNEL),
        ("2002:a9fe:a9fe::1", K.TUNNEL),
        # Teredo: server 65.54.227.120, client 10.0.0.1 stored inverted.
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", K.TUNNEL),
        # Teredo with a private server address.
        ("2001:0:a00:1:8000:63bf:f7f7:f7f7", K.TUNNEL),
        ("8.8.8.8", K.GLOBAL),
        ("1.1.1.1", K.GLOBAL),
        ("93.184.216.34", K.GLOBAL),
        ("100.63.255.255", K.GLOBAL),
        ("100.128.0.1", K.GLOBAL),
        ("172.32.0.1", K.GLOBAL),
        ("2606:4700:4700::1111", K.GLOBAL),
        ("2a00:1450:4001::1", K.GLOBAL),
        ("2002:808:808::1", K.GLOBAL),
        ("64:ff9b::808:808", K.GLOBAL),
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", K.GLOBAL),
    ],
)
def test_classify_address_names_the_range(address, kind):
    """Every special-purpose range gets its kind; only ordinary unicast is global."""
    assert classify_address(address) is kind
    assert is_global_unicast(address) is (kind is K.GLOBAL)


@pytest.mark.parametrize(
    "spelling",
    [
        "127.0.0.1",
        "127.1",
        "127.0.1",
        "2130706433",
        "0x7f000001",
        "0x7f.0.0.1",
        "0x7F.0x0.0x0.0x1",
        "017700000001",
        "0177.0.0.01",
        "127.0.0.1.",
    ],
)
def test_parse_ip_literal_reads_every_ipv4_spelling_of_loopback(spelling):
    """Numeric spellings that inet_aton accepts are read as the address they mean."""
    assert parse_ip_literal(spelling) == ipaddress.IPv4Address("127.0.0.1")
    assert classify_address(parse_ip_literal(spelling)) is K.LOOPBACK


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("0", "0.0.0.0"),
        ("0x0a.0.0.1", "10.0.0.1"),
        ("3232235777", "192.168.1.1"),
    ],
)
def test_parse_ip_literal_reads_other_spellings(spelling, address):
    """IPv6 literals (bracketed or not) and bare integers parse too."""
    assert parse_ip_literal(spelling) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "name", ["example.org", "localhost", "1e100.net", "0x.example"]
)
def test_parse_ip_literal_leaves_names_alone(name):
    """A host whose last label is not a number is a name, not an address."""
    assert parse_ip_literal(name) is None


@pytest.mark.parametrize(
    "spelling",
    ["256.1.1.1", "1.2.3.4.5", "08.1.1.1", "1.2.3.256", "4294967296", "::g", "a.0x"],
)
def test_parse_ip_literal_refuses_malformed_numbers(spelling):
    """A numeric-looking host that is no valid address is refused, never resolved."""
    with pytest.raises(ForbiddenUrl, match="invalid"):
        parse_ip_literal(spelling)


def test_check_address_refuses_with_kind_in_message():
    """The refusal names the address and its kind."""
    with pytest.raises(ForbiddenAddress, match=r"169\.254\.169\.254 is a link-local"):
        check_address("169.254.169.254")


def test_check_address_allows_only_the_allowed_networks():
    """The test switch opens exactly the listed networks and nothing else."""
    check_address("127.0.0.1", allowed_networks=["127.0.0.0/8"])
    with pytest.raises(ForbiddenAddress, match="private"):
        check_address("10.0.0.1", allowed_networks=["127.0.0.0/8"])
    with pytest.raises(ForbiddenAddress, match="IPv4-mapped"):
        check_address("::ffff:127.0.0.1", allowed_networks=["127.0.0.0/8"])


def test_check_address_accepts_global_unicast():
    """A public address passes without any switch."""
    assert check_address("8.8.8.8") is None
