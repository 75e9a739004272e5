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
