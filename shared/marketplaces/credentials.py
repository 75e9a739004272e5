"""Kept only for `services/fulfilment/cancellation.py` until cancellation moves to orders: use
`shared.auth_client.AuthClient.token_provider` instead (it keeps tokens until shortly before they expire).
"""

from __future__ import annotations

import uuid

from shared.auth_client import AuthClient
from shared.marketplaces.base import TokenProvider
from shared.web.internal import InternalClient


def access_token_provider(auth: InternalClient, connection_id: uuid.UUID) -> TokenProvider:
    """A `TokenProvider` for one connection, with a token cache of its own (shared with nothing)."""
    return AuthClient(auth).token_provider(connection_id)
