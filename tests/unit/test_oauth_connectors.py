"""The OAuth connectors share one base and each is wired to its own marketplace's grant and client (pure:
the connect flows themselves run against the emulators in tests/marketplaces and tests/auth)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from services.auth.connections.connectors import OAUTH_CONNECTORS, EtsyConnector, PkceConnector
from shared.settings import Settings


async def _token(force_refresh: bool = False) -> str:
    return "token"


def test_no_oauth_connector_inherits_another_marketplaces() -> None:
    for name, factory in OAUTH_CONNECTORS.items():
        assert issubclass(factory, PkceConnector), name
        assert factory.__mro__[1] is PkceConnector, f"{name} connector inherits {factory.__mro__[1].__name__}"
    assert not issubclass(OAUTH_CONNECTORS["allegro"], EtsyConnector)


@pytest.mark.parametrize("marketplace", sorted(OAUTH_CONNECTORS))
async def test_each_connector_speaks_to_its_own_marketplace(marketplace: str) -> None:
    settings = Settings(etsy_client_id="etsy-app", allegro_client_id="allegro-app")
    connector = OAUTH_CONNECTORS[marketplace](settings)
    assert connector.marketplace == marketplace
    client = connector.client(settings, _token)
    try:
        assert client.marketplace == marketplace
    finally:
        await client.aclose()
    _, challenge = connector.new_pkce_pair()
    url = urlsplit(connector.authorization_url(state="s", code_challenge=challenge, redirect_uri="https://x.test/cb"))
    params = parse_qs(url.query)
    assert params["client_id"] == [getattr(settings, f"{marketplace}_client_id")]
    assert params["code_challenge_method"] == ["S256"] and params["code_challenge"] == [challenge]
    assert url.geturl().startswith(getattr(settings, f"{marketplace}_authorize_url"))


def test_only_allegro_asks_for_the_consent_page_every_time() -> None:
    settings = Settings()
    prompts = {name: parse_qs(urlsplit(factory(settings).authorization_url(
        state="s", code_challenge="c", redirect_uri="https://x.test/cb")).query).get("prompt")
        for name, factory in OAUTH_CONNECTORS.items()}
    assert prompts == {"etsy": None, "allegro": ["confirm"]}
