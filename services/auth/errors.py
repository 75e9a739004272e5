"""What the auth use cases refuse, in business terms; `api.py` turns each into an HTTP answer."""

from __future__ import annotations


class NotFound(Exception):
    """The thing does not exist, or the caller's tenant may not see it (the two look the same outside)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class InvalidField(Exception):
    """A well-formed request that names something unusable, e.g. an unknown merchant."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class OAuthError(Exception):
    """An RFC 6749 §5.2 error answer of the token endpoint."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


def invalid_request(description: str) -> OAuthError:
    return OAuthError(400, "invalid_request", description)


def invalid_client(description: str) -> OAuthError:
    return OAuthError(401, "invalid_client", description)


class BadCallback(Exception):
    """An OAuth callback we cannot complete: unknown, expired or used `state`, a refused or missing code."""

    def __init__(self, field: str, message: str, *, type_: str = "invalid-oauth-callback") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.type_ = type_


class ConnectionNotActive(Exception):
    """The connection exists but cannot provide tokens: it waits for, or lost, the merchant's authorization."""

    def __init__(self, status: str, reason: str | None = None) -> None:
        detail = f"the connection is {status}"
        super().__init__(f"{detail}: {reason}" if reason else detail)
        self.status = status


class MarketplaceUnavailable(Exception):
    """The marketplace failed in a passing way (5xx, timeout, rate limit): nothing changed, try again later."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class MarketplaceRefused(Exception):
    """The marketplace refused a request for good (a 4xx other than a lost grant), with its own reason."""
