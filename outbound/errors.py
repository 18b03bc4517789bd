"""Errors of outbound requests; `is_transient` tells a caller whether a retry may help."""


class OutboundError(Exception):
    """A request was refused before sending, or failed while under way."""

    is_transient = False


class ForbiddenUrl(OutboundError):
    """The URL is not one this service fetches (scheme, credentials, port, host)."""


class ForbiddenAddress(OutboundError):
    """The host is, or resolves to, an address outside the global unicast space."""

    def __init__(self, message: str, *, address: str = "", kind: str = "") -> None:
        super().__init__(message)
        self.address = address
        self.kind = kind


class ResolutionFailed(OutboundError):
    """The host name did not resolve (in time)."""

    is_transient = True


class FetchFailed(OutboundError):
    """The connection, TLS handshake or HTTP exchange failed."""

    is_transient = True


class FetchTimeout(FetchFailed):
    """The whole request took longer than its time limit."""


class ResponseTooLarge(OutboundError):
    """The response body is larger than the size limit."""


class ForbiddenContentType(OutboundError):
    """The response's content type (or encoding) is not an accepted one."""


class TooManyRedirects(OutboundError):
    """The redirect chain is longer than the limit."""
