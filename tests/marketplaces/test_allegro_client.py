"""AllegroClient and the OAuth helpers against the Allegro emulator over real HTTP (no mocks).

The emulator runs as the sandbox suite's session server (`tests.sandbox.allegro_fixtures`); each test
gets a reset world, seeds it through the control API (`/_sandbox/allegro/...`) and records every
exchange our code makes, which is also checked against Allegro's OpenAPI file when it is present.
The fixtures here are shared with `test_allegro_contract.py`.
"""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from openapi_core import Config, OpenAPI
from pydantic import SecretStr

from sandbox.allegro.errors import MEDIA_TYPE
from sandbox.allegro.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from shared.marketplaces.allegro import client as allegro_client
from shared.marketplaces.allegro import oauth
from shared.marketplaces.allegro.client import AllegroClient, allegro_http
from shared.marketplaces.base import (
    AuthorizationLost,
    OrderPage,
    RejectedByMarketplace,
    SyncWindow,
    TrackingPush,
    TransientMarketplaceError,
)
from shared.settings import Settings
from tests.marketplaces.conftest import REDIRECT_URI, Exchanges, RecordingTransport, SandboxTokens, connect
from tests.openapi_exchange import OpenAPIRequest, path_matches
from tests.sandbox.allegro_contract import ALLEGRO_HOST, UNCHECKED_PREFIXES, load_spec
from tests.sandbox.allegro_fixtures import allegro_base_url as allegro_base_url  # the shared session server
from tests.sandbox_control import SandboxControl

# --------------------------------------------------------------------------- the world and our client


class AllegroWorld(SandboxControl):
    """The emulator's control API over real HTTP."""

    marketplace = "allegro"

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(client)

    def advance(self, seconds: float) -> None:
        self.control("POST", "/clock", json={"advance_s": seconds})

    def order(self, seller_id: str, **body: Any) -> dict[str, Any]:
        return self.orders(seller_id, **body)[0]

    def orders(self, seller_id: str, **body: Any) -> list[dict[str, Any]]:
        return self.control("POST", f"/users/{seller_id}/checkout-forms", json=body)["checkoutForms"]

    def form(self, form_id: str) -> dict[str, Any]:
        return self.control("GET", f"/checkout-forms/{form_id}")

    def act(self, form_id: str, action: str, **body: Any) -> dict[str, Any]:
        return self.control("POST", f"/checkout-forms/{form_id}/{action}", json=body)

    def events(self) -> list[dict[str, Any]]:
        return self.control("GET", "/events")["events"]

    def shipments(self, form_id: str) -> list[dict[str, Any]]:
        return self.control("GET", "/shipments", params={"checkout_form_id": form_id})["shipments"]

    def fulfillment_changes(self, form_id: str) -> list[dict[str, Any]]:
        return self.control("GET", "/fulfillment-changes", params={"checkout_form_id": form_id})["changes"]

    def fault(self, **body: Any) -> dict[str, Any]:
        return self.control("POST", "/faults", json=body)

    def requests_log(self, path_prefix: str = "/") -> list[dict[str, Any]]:
        return self.control("GET", "/requests", params={"path_prefix": path_prefix})["requests"]


class RequestContract:
    """Checks every REST request our code sends against Allegro's OpenAPI file (an httpx response hook).

    The operation must exist, and a request Allegro accepted (2xx) must match its parameters and body
    schema. Answers are the emulator's business (its own suite checks them); OAuth and the control API
    are not in the REST spec.
    """

    def __init__(self, openapi: OpenAPI, raw: dict[str, Any]) -> None:
        self.openapi = openapi
        self.raw = raw
        self.violations: list[str] = []
        self.operations: list[str] = []

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        if request.url.path.startswith(UNCHECKED_PREFIXES):
            return
        label = f"{request.method} {request.url.path}?{request.url.query.decode()} -> {response.status_code}"
        operation = operation_id(self.raw, request.method, request.url.path)
        if operation is None:
            self.violations.append(f"{label}: operation not in spec")
            return
        self.operations.append(operation)
        if 200 <= response.status_code < 300:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # openapi-core says it cannot check oauth2 itself
                    self.openapi.validate_request(OpenAPIRequest(request, ALLEGRO_HOST))
            except Exception as exc:
                self.violations.append(f"{label}: request invalid: {exc!r} {exc.__cause__!r}")


def operation_id(spec: dict[str, Any], method: str, path: str) -> str | None:
    """The spec operation a concrete request hit (literal path segments beat `{params}`)."""
    templates = [t for t in spec["paths"] if path_matches(t, path)]
    if not templates:
        return None
    template = max(templates, key=lambda t: sum(not seg.startswith("{") for seg in t.split("/")))
    operation = spec["paths"][template].get(method.lower())
    return None if operation is None else operation["operationId"]


@pytest.fixture(scope="session")
def allegro_contract_spec() -> tuple[OpenAPI, dict[str, Any]]:
    _, raw = load_spec()
    # Allegro's vendor media type is JSON; openapi-core must be told so to read request bodies.
    config = Config(spec_validator_cls=None, extra_media_type_deserializers={MEDIA_TYPE: json.loads})
    return OpenAPI.from_dict(raw, config=config), raw


@pytest.fixture
def exchanges(allegro_contract_spec: tuple[OpenAPI, dict[str, Any]]) -> Iterator[Exchanges]:
    contract = RequestContract(*allegro_contract_spec)
    recorded = Exchanges(contract)  # type: ignore[arg-type]  # same call shape as Etsy's recorder
    yield recorded
    assert not contract.violations, "OpenAPI contract violations:\n" + "\n".join(contract.violations)


@pytest.fixture
def world(allegro_base_url: str) -> Iterator[AllegroWorld]:
    with httpx.Client(base_url=allegro_base_url, timeout=30) as client:
        sandbox = AllegroWorld(client)
        sandbox.control("POST", "/reset")
        sandbox.settings(rate_per_minute=1_000_000)  # functional tests never trip the 9,000/min limit
        yield sandbox


@pytest.fixture
def allegro_settings(allegro_base_url: str) -> Settings:
    return Settings(
        allegro_api_url=allegro_base_url,
        allegro_authorize_url=f"{allegro_base_url}/auth/oauth/authorize",
        allegro_token_url=f"{allegro_base_url}/auth/oauth/token",
        allegro_client_id=DEFAULT_CLIENT_ID,
        allegro_client_secret=DEFAULT_CLIENT_SECRET,
        allegro_rate_per_second=500,
        marketplace_rate_storage="memory",  # these tests meet the client, not the shared budget
        marketplace_timeout_s=5,
        marketplace_max_retries=3,
    )


@pytest.fixture
def seller(world: AllegroWorld) -> dict[str, Any]:
    return world.control("POST", "/users", json={"login": "CeramikaZoe", "firstName": "Zofia", "lastName": "Nowak"})


@pytest.fixture
async def tokens(allegro_settings: Settings, seller: dict[str, Any], oauth_http: httpx.AsyncClient) -> SandboxTokens:
    return SandboxTokens(oauth, allegro_settings, await connect(oauth, allegro_settings, oauth_http), oauth_http)


@pytest.fixture
async def client(allegro_settings: Settings, tokens: SandboxTokens, exchanges: Exchanges) -> AsyncIterator[AllegroClient]:
    http = allegro_http(allegro_settings, transport=RecordingTransport(exchanges), backoff_initial_s=0.05, backoff_max_s=0.2)
    async with http, AllegroClient(allegro_settings, tokens, http=http) as allegro:
        yield allegro


async def sync(client: AllegroClient, cursor: str | None) -> list[OrderPage]:
    return [page async for page in client.paid_unshipped_orders(SyncWindow(cursor=cursor))]


async def connected_cursor(client: AllegroClient) -> str:
    """A first run: it imports nothing and hands back the journal position to store."""
    (start,) = await sync(client, None)
    assert start.orders == () and start.cursor is not None
    return start.cursor


def form_lists(world: AllegroWorld) -> list[dict[str, Any]]:
    """`GET /order/checkout-forms` reads (the bulk list), without the by-id reads under that path."""
    return [e for e in world.requests_log("/order/checkout-forms") if e["path"] == "/order/checkout-forms"]


def form_gets(world: AllegroWorld, form_id: str) -> list[dict[str, Any]]:
    return [
        e for e in world.requests_log(f"/order/checkout-forms/{form_id}") if e["method"] == "GET" and e["path"].endswith(form_id)
    ]


# --------------------------------------------------------------------------- OAuth


async def test_connect_flow_sends_pkce_and_basic_auth_and_returns_a_twelve_hour_token(
    allegro_settings: Settings, seller: dict[str, Any], oauth_http: httpx.AsyncClient, exchanges: Exchanges
) -> None:
    before = datetime.now(UTC)
    tokens = await connect(oauth, allegro_settings, oauth_http)

    assert before + timedelta(hours=12) - timedelta(seconds=5) <= tokens.expires_at <= datetime.now(UTC) + timedelta(hours=12)
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    assert tokens.previous_refresh_valid_until is None
    authorize, token_call = exchanges.sent[0][0], exchanges.sent[1][0]
    assert authorize.url.params["code_challenge_method"] == "S256"
    assert authorize.url.params["redirect_uri"] == REDIRECT_URI
    assert "allegro:api:orders:read" in authorize.url.params["scope"].split()
    basic = base64.b64encode(f"{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}".encode()).decode()
    assert token_call.headers["authorization"] == f"Basic {basic}"
    form = parse_qs(token_call.content.decode())
    assert form["grant_type"] == ["authorization_code"] and form["code_verifier"]
    assert "refresh_token" not in str(token_call.url)  # nothing secret in the URL


async def test_a_wrong_code_verifier_is_authorization_lost(
    allegro_settings: Settings, seller: dict[str, Any], oauth_http: httpx.AsyncClient
) -> None:
    _, challenge = oauth.new_pkce_pair()
    url = oauth.authorization_url(allegro_settings, state="s", code_challenge=challenge, redirect_uri=REDIRECT_URI)
    code = parse_qs(urlsplit((await oauth_http.get(url)).headers["location"]).query)["code"][0]
    other_verifier, _ = oauth.new_pkce_pair()
    with pytest.raises(AuthorizationLost, match="code_verifier"):
        await oauth.exchange_code(
            allegro_settings, code=code, code_verifier=other_verifier, redirect_uri=REDIRECT_URI, http=oauth_http
        )


async def test_wrong_client_credentials_are_a_rejection_not_a_lost_grant(
    allegro_settings: Settings, tokens: SandboxTokens, oauth_http: httpx.AsyncClient
) -> None:
    wrong = allegro_settings.model_copy(update={"allegro_client_secret": SecretStr("not-the-secret")})
    with pytest.raises(RejectedByMarketplace, match="Unauthorized"):
        await oauth.refresh(wrong, tokens.tokens.refresh_token, http=oauth_http)


async def test_refresh_rotates_the_pair_and_the_old_refresh_token_works_only_within_its_grace(
    allegro_settings: Settings, tokens: SandboxTokens, oauth_http: httpx.AsyncClient, world: AllegroWorld
) -> None:
    first = tokens.tokens
    before = datetime.now(UTC)
    renewed = await oauth.refresh(allegro_settings, first.refresh_token, http=oauth_http)
    assert renewed.refresh_token != first.refresh_token and renewed.access_token != first.access_token
    assert renewed.previous_refresh_valid_until is not None
    assert before < renewed.previous_refresh_valid_until <= datetime.now(UTC) + timedelta(seconds=60)

    # A crash before storing `renewed`: the old refresh token still gets a pair, once more, within the minute.
    again = await oauth.refresh(allegro_settings, first.refresh_token, http=oauth_http)
    assert again.refresh_token not in (first.refresh_token, renewed.refresh_token)

    world.advance(61)
    with pytest.raises(AuthorizationLost, match="invalid_grant"):
        await oauth.refresh(allegro_settings, first.refresh_token, http=oauth_http)
    assert (await oauth.refresh(allegro_settings, again.refresh_token, http=oauth_http)).access_token


async def test_a_token_endpoint_outage_is_transient(
    allegro_settings: Settings, tokens: SandboxTokens, oauth_http: httpx.AsyncClient, world: AllegroWorld
) -> None:
    world.fault(kind="token_server_error")
    with pytest.raises(TransientMarketplaceError, match="HTTP 503"):
        await oauth.refresh(allegro_settings, tokens.tokens.refresh_token, http=oauth_http)


# --------------------------------------------------------------------------- account and transport


async def test_identify_shop_is_the_seller_id_and_login(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    shop = await client.identify_shop()
    assert (shop.shop_id, shop.shop_name) == (seller["id"], "CeramikaZoe")
    (me,) = world.requests_log("/me")
    assert me["accept"] == MEDIA_TYPE and me["authorization"] == "Bearer"


async def test_an_expired_token_is_refreshed_once_and_the_call_repeated(
    client: AllegroClient, tokens: SandboxTokens, world: AllegroWorld
) -> None:
    world.fault(kind="expire_tokens")
    await client.identify_shop()
    assert tokens.calls == [False, True]
    assert [e["status"] for e in world.requests_log("/me")] == [401, 200]


async def test_a_revoked_grant_is_authorization_lost(client: AllegroClient, seller: dict[str, Any], world: AllegroWorld) -> None:
    world.fault(kind="revoke_grant", user_id=seller["id"])
    with pytest.raises(AuthorizationLost):
        await client.identify_shop()


async def test_a_429_is_waited_out_and_retried(client: AllegroClient, seller: dict[str, Any], world: AllegroWorld) -> None:
    world.fault(kind="rate_limit", retry_after=0, count=2)
    assert await connected_cursor(client)
    assert [e["status"] for e in world.requests_log("/order/event-stats")] == [429, 429, 200]


# --------------------------------------------------------------------------- the order journal


async def test_the_first_sync_starts_at_the_newest_event_and_ignores_older_orders(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    world.orders(seller["id"], count=2)
    newest = world.events()[-1]["id"]

    assert await connected_cursor(client) == newest
    assert await sync(client, newest) == []  # nothing happened since connecting

    fresh = world.order(seller["id"])
    pages = await sync(client, newest)
    assert [o.external_id for p in pages for o in p.orders] == [fresh["id"]]
    assert pages[0].orders[0].state == "paid"


async def test_a_journal_without_events_is_read_from_its_start(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    cursor = await connected_cursor(client)
    world.order(seller["id"])
    pages = await sync(client, cursor)
    assert len(pages) == 1 and len(pages[0].orders) == 1
    assert pages[0].cursor == world.events()[-1]["id"]


async def test_duplicate_ready_for_processing_events_yield_one_order_and_one_read(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    cursor = await connected_cursor(client)
    form = world.order(seller["id"], duplicateReadyForProcessing=2)
    assert [e["type"] for e in world.events()].count("READY_FOR_PROCESSING") == 3

    (page,) = await sync(client, cursor)

    assert [o.external_id for o in page.orders] == [form["id"]]
    assert form_gets(world, form["id"]) == []  # read once, in the checkout-form list
    assert len(form_lists(world)) == 1


async def test_an_order_cancelled_before_payment_is_never_paid(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    cursor = await connected_cursor(client)
    form = world.order(seller["id"], status="FILLED_IN")
    (first,) = await sync(client, cursor)
    assert [o.state for o in first.orders] == ["unpaid"]

    world.act(form["id"], "cancel", type="BUYER_CANCELLED")
    (second,) = await sync(client, first.cursor)
    assert [(o.external_id, o.state) for o in second.orders] == [(form["id"], "cancelled")]
    assert second.orders[0].marketplace_status.startswith("CANCELLED")


async def test_an_order_cancelled_after_payment_follows_as_cancelled(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    cursor = await connected_cursor(client)
    form = world.order(seller["id"])
    (paid,) = await sync(client, cursor)
    assert [o.state for o in paid.orders] == ["paid"]

    world.act(form["id"], "cancel", type="BUYER_CANCELLED")
    (cancelled,) = await sync(client, paid.cursor)
    assert [o.state for o in cancelled.orders] == ["cancelled"]


async def test_each_page_is_checkpointed_with_its_batchs_last_event_id(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    world.order(seller["id"])  # before connecting: ignored
    cursor = await connected_cursor(client)
    world.orders(seller["id"], count=501)  # FILLED_IN + READY_FOR_PROCESSING each: 1002 events, two batches
    events = world.events()
    relevant = [e["id"] for e in events[[e["id"] for e in events].index(cursor) + 1 :] if e["type"] != "BOUGHT"]
    assert len(relevant) == 1002

    pages = await sync(client, cursor)

    # Both batches are read ahead, then their 501 forms come 100 a call; only the last page moves the cursor.
    assert [p.cursor for p in pages] == [None] * (len(pages) - 1) + [relevant[-1]]
    assert sum(len(p.orders) for p in pages) == 501 and len({o.external_id for p in pages for o in p.orders}) == 501
    assert len(form_lists(world)) == 6 and not [e for e in world.requests_log("/order/checkout-forms/")]
    reads = world.requests_log("/order/events")[1:]  # after the connecting run's own (empty) read
    assert [r["params"]["from"] for r in reads] == [[cursor], [relevant[999]]]
    assert reads[0]["params"]["type"] == [
        "READY_FOR_PROCESSING",
        "BUYER_MODIFIED",
        "BUYER_CANCELLED",
        "AUTO_CANCELLED",
        "FILLED_IN",
    ]
    assert reads[0]["params"]["limit"] == ["1000"]


async def test_an_outage_mid_batch_yields_no_page_so_the_cursor_stays_where_it_was(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    cursor = await connected_cursor(client)
    form = world.order(seller["id"])
    world.fault(kind="server_error", path_prefix="/order/checkout-forms", count=10)

    pages: list[OrderPage] = []
    with pytest.raises(TransientMarketplaceError, match="HTTP 500"):
        async for page in client.paid_unshipped_orders(SyncWindow(cursor=cursor)):
            pages.append(page)
    assert pages == []

    world.control("DELETE", "/faults")
    (page,) = await sync(client, cursor)  # the next run re-reads the same batch
    assert [o.external_id for o in page.orders] == [form["id"]]


async def test_a_read_ahead_limit_checkpoints_each_read_with_its_last_event(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(allegro_client, "EVENTS_PER_READ", allegro_client.EVENTS_PER_BATCH)
    world.order(seller["id"])  # before connecting: the journal has a head
    cursor = await connected_cursor(client)
    world.orders(seller["id"], count=501)  # 1002 relevant events: two reads
    relevant = [e["id"] for e in world.events() if e["type"] != "BOUGHT" and int(e["id"]) > int(cursor)]

    pages = await sync(client, cursor)

    assert [p.cursor for p in pages if p.cursor] == [relevant[999], relevant[-1]]
    ends = [i for i, p in enumerate(pages) if p.cursor]
    assert sum(len(p.orders) for p in pages[: ends[0] + 1]) == 500  # each order's two events are adjacent


async def test_a_form_changed_again_after_its_event_comes_once_in_its_newest_state(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    cursor = await connected_cursor(client)
    form = world.order(seller["id"])
    world.control("POST", "/clock", json={"advance_s": 5})
    world.act(form["id"], "modify", messageToSeller="Please gift-wrap", emitEvent=False)
    newest = world.form(form["id"])
    assert newest["revision"] != form["revision"]

    (page,) = await sync(client, cursor)

    (order,) = page.orders
    assert order.external_id == form["id"] and order.state == "paid"
    assert order.updated_at == datetime.fromisoformat(newest["updatedAt"])
    assert form_gets(world, form["id"]) == [] and len(form_lists(world)) == 1


async def test_a_form_the_listing_does_not_show_is_read_by_id(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    """The journal stays the source of truth: an event newer than its form's `updatedAt` (clocks disagree)
    puts the form outside the listed window, so it is read by id."""
    cursor = await connected_cursor(client)
    listed, late = world.orders(seller["id"], count=2, emitEvents=False)
    world.control("POST", "/clock", json={"advance_s": 120})
    world.act(late["id"], "events", type="BUYER_MODIFIED")
    world.act(listed["id"], "modify", messageToSeller="Ring twice")  # updated and journalled now

    pages = await sync(client, cursor)

    assert sorted(o.external_id for p in pages for o in p.orders) == sorted([listed["id"], late["id"]])
    assert [p.cursor is not None for p in pages] == [False, True]  # listed forms, then by id with the checkpoint
    assert len(form_gets(world, late["id"])) == 1 and form_gets(world, listed["id"]) == []


async def test_a_passing_server_error_on_the_journal_is_retried(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    cursor = await connected_cursor(client)
    world.order(seller["id"])
    world.fault(kind="server_error", path_prefix="/order/events", count=1)
    (page,) = await sync(client, cursor)
    assert len(page.orders) == 1
    assert [e["status"] for e in world.requests_log("/order/events")][-2:] == [500, 200]


async def test_a_buyer_edit_is_picked_up_with_the_new_address(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    form = world.order(seller["id"])
    cursor = await connected_cursor(client)
    world.act(
        form["id"],
        "modify",
        delivery={
            "address": {
                "firstName": "Zoë",
                "lastName": "Żółć",
                "street": "Długa 1",
                "city": "Gdańsk",
                "zipCode": "80-827",
                "countryCode": "PL",
            }
        },
    )
    (page,) = await sync(client, cursor)
    assert page.orders[0].shipping_address.line1 == "Długa 1"
    assert page.orders[0].shipping_address.name == "Zoë Żółć"


async def test_the_safety_net_sweep_and_the_archive_read_checkout_forms_by_date(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    made = world.orders(seller["id"], count=120)
    world.order(seller["id"], status="CANCELLED", cancellation={"type": "BUYER_CANCELLED", "afterPayment": True})
    since = datetime.now(UTC) - timedelta(hours=1)

    swept = [p async for p in client.recently_updated_orders(since)]
    archived = [p async for p in client.archived_orders(since)]

    assert [len(p.orders) for p in swept] == [100, 21]
    assert {o.external_id for p in swept for o in p.orders} >= {f["id"] for f in made}
    assert sum(len(p.orders) for p in archived) == 121
    assert {o.state for p in archived for o in p.orders} == {"paid", "cancelled"}
    assert all(p.cursor is None for p in swept + archived)
    params = world.requests_log("/order/checkout-forms")[0]["params"]
    assert params["sort"] == ["updatedAt"] and params["limit"] == ["100"] and params["updatedAt.gte"][0].endswith("Z")
    assert [p async for p in client.recently_updated_orders(datetime.now(UTC) + timedelta(hours=1))] == []


# --------------------------------------------------------------------------- fulfilment


async def test_an_unknown_carrier_goes_as_other_with_its_name_and_the_order_is_marked_sent(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    form = world.order(seller["id"])
    result = await client.push_tracking(
        TrackingPush(external_order_id=form["id"], carrier="Kurier Zenek", tracking_number="ZEN-0001")
    )

    (shipment,) = world.shipments(form["id"])
    assert (shipment["carrierId"], shipment["carrierName"], shipment["waybill"]) == ("OTHER", "Kurier Zenek", "ZEN-0001")
    assert result.order_fully_shipped is True
    assert result.carrier_sent == "OTHER (Kurier Zenek)"
    assert result.marketplace_shipment_id == shipment["id"]
    assert world.form(form["id"])["fulfillment"]["status"] == "SENT"
    put = [e for e in world.requests_log(f"/order/checkout-forms/{form['id']}/fulfillment")]
    assert put[0]["params"]["checkoutForm.revision"] and put[0]["status"] == 204


async def test_a_known_carrier_is_sent_by_id_and_the_carrier_list_is_read_once(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    first, second = world.orders(seller["id"], count=2)
    await client.push_tracking(TrackingPush(external_order_id=first["id"], carrier="poczta polska", tracking_number="PP123"))
    result = await client.push_tracking(TrackingPush(external_order_id=second["id"], carrier="InPost", tracking_number="IN456"))

    assert world.shipments(first["id"])[0]["carrierId"] == "POCZTA_POLSKA"
    assert "carrierName" not in world.shipments(second["id"])[0] or world.shipments(second["id"])[0]["carrierId"] == "INPOST"
    assert result.carrier_sent == "INPOST"
    assert len(world.requests_log("/order/carriers")) == 1


async def test_a_partial_shipment_keeps_the_status_and_the_rest_marks_it_sent(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    form = world.order(
        seller["id"], lineItems=[{"quantity": 1}, {"quantity": 1, "offer": {"name": "Kubek ceramiczny niebieski 350"}}]
    )
    first_line, second_line = (item["id"] for item in form["lineItems"])

    part = await client.push_tracking(
        TrackingPush(external_order_id=form["id"], carrier="DPD", tracking_number="DPD-1", lines=((first_line, 1),))
    )
    assert part.order_fully_shipped is False
    after_part = world.form(form["id"])
    assert after_part["fulfillment"]["status"] == "NEW"
    assert after_part["fulfillment"]["shipmentSummary"]["lineItemsSent"] == "SOME"
    assert world.shipments(form["id"])[0]["lineItems"] == [{"id": first_line}]

    rest = await client.push_tracking(
        TrackingPush(external_order_id=form["id"], carrier="DPD", tracking_number="DPD-2", lines=((second_line, 1),))
    )
    assert rest.order_fully_shipped is True
    assert world.form(form["id"])["fulfillment"]["status"] == "SENT"


async def test_part_of_a_lines_quantity_holds_sent_until_the_remainder_ships(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    form = world.order(seller["id"], lineItems=[{"quantity": 3}])
    line = form["lineItems"][0]["id"]
    part = await client.push_tracking(
        TrackingPush(external_order_id=form["id"], carrier="GLS", tracking_number="G1", lines=((line, 1),))
    )
    assert part.order_fully_shipped is False and world.form(form["id"])["fulfillment"]["status"] == "NEW"

    rest = await client.push_tracking(
        TrackingPush(external_order_id=form["id"], carrier="GLS", tracking_number="G2", lines=((line, 2),))
    )
    assert rest.order_fully_shipped is True and world.form(form["id"])["fulfillment"]["status"] == "SENT"


async def test_a_stale_revision_is_reread_and_retried(client: AllegroClient, seller: dict[str, Any], world: AllegroWorld) -> None:
    form = world.order(seller["id"])
    world.fault(kind="stale_revision", checkout_form_id=form["id"], count=2)

    result = await client.push_tracking(TrackingPush(external_order_id=form["id"], carrier="UPS", tracking_number="1Z999"))

    assert result.order_fully_shipped is True
    puts = [e["status"] for e in world.requests_log(f"/order/checkout-forms/{form['id']}/fulfillment")]
    assert puts == [409, 409, 204]
    assert world.form(form["id"])["fulfillment"]["status"] == "SENT"


async def test_a_revision_that_keeps_changing_gives_up_as_transient(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    form = world.order(seller["id"])
    world.fault(kind="stale_revision", checkout_form_id=form["id"], count=50)
    with pytest.raises(TransientMarketplaceError, match="kept changing"):
        await client.push_tracking(TrackingPush(external_order_id=form["id"], carrier="UPS", tracking_number="1Z998"))
    assert len(world.requests_log(f"/order/checkout-forms/{form['id']}/fulfillment")) == 5
    assert len(world.shipments(form["id"])) == 1


async def test_a_waybill_already_on_the_order_is_not_added_twice(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    form = world.order(seller["id"])
    push = TrackingPush(external_order_id=form["id"], carrier="DHL", tracking_number="JD0001")
    first = await client.push_tracking(push)
    again = await client.push_tracking(push)  # a redelivered event, or a retry whose first answer was lost

    assert len(world.shipments(form["id"])) == 1
    assert again.marketplace_shipment_id == first.marketplace_shipment_id
    posts = [e for e in world.requests_log(f"/order/checkout-forms/{form['id']}/shipments") if e["method"] == "POST"]
    assert len(posts) == 1


async def test_an_account_that_switches_to_sent_by_itself_gets_no_fulfillment_put(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    world.settings(auto_sent_on_tracking=True)
    form = world.order(seller["id"])
    result = await client.push_tracking(TrackingPush(external_order_id=form["id"], carrier="DPD", tracking_number="AUTO-1"))
    assert result.order_fully_shipped is True
    assert world.requests_log(f"/order/checkout-forms/{form['id']}/fulfillment") == []


async def test_pushes_allegro_would_refuse_are_rejected_with_a_reason(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    form = world.order(seller["id"])
    with pytest.raises(RejectedByMarketplace, match="not on Allegro order"):
        await client.push_tracking(
            TrackingPush(external_order_id=form["id"], carrier="DPD", tracking_number="X1", lines=(("nope", 1),))
        )
    with pytest.raises(RejectedByMarketplace, match="1-64 characters"):
        await client.push_tracking(TrackingPush(external_order_id=form["id"], carrier="DPD", tracking_number="9" * 65))
    with pytest.raises(RejectedByMarketplace, match="not an Allegro checkout-form id"):
        await client.push_tracking(TrackingPush(external_order_id="12345", carrier="DPD", tracking_number="X1"))
    with pytest.raises(RejectedByMarketplace, match="not found"):
        await client.push_tracking(TrackingPush(external_order_id=str(uuid.uuid4()), carrier="DPD", tracking_number="X1"))
    assert world.shipments(form["id"]) == []


# --------------------------------------------------------------------------- cancellation


async def test_sellers_cannot_cancel_a_paid_order(client: AllegroClient, seller: dict[str, Any], world: AllegroWorld) -> None:
    form = world.order(seller["id"])
    with pytest.raises(RejectedByMarketplace, match="does not let sellers cancel"):
        await client.cancel_order(form["id"], "out of stock")
    assert world.form(form["id"])["status"] == "READY_FOR_PROCESSING"


async def test_cancelling_an_order_the_buyer_cancelled_marks_the_sellers_view(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld
) -> None:
    form = world.order(seller["id"], status="CANCELLED", cancellation={"type": "BUYER_CANCELLED", "afterPayment": True})
    await client.cancel_order(form["id"], None)
    await client.cancel_order(form["id"], None)  # idempotent: the second call changes nothing
    assert world.form(form["id"])["fulfillment"]["status"] == "CANCELLED"
    assert len(world.requests_log(f"/order/checkout-forms/{form['id']}/fulfillment")) == 1
