"""`verify_delivery`: the custom secret header and the Standard Webhooks signature of a delivery."""

from __future__ import annotations

import base64
import json
import time

import pytest

from shared.marketplaces.bigcommerce.webhooks import SECRET_HEADER, delivery_id, sign, verify_delivery

SECRET = "per-connection-secret"
CLIENT_SECRET = "abcdefghij0123456789abcdefghij0123456789"
BODY = json.dumps({
    "scope": "store/order/statusUpdated", "store_id": "1001000001", "producer": "stores/abc123",
    "data": {"type": "order", "id": 173331, "status": {"previous_status_id": 11, "new_status_id": 2}},
    "hash": "3f9ea420af83450d7ef9f78b08c8af25b2213637", "created_at": 1767225600,
}).encode()


def signed_headers(body: bytes = BODY, *, at: int | None = None, key: str = CLIENT_SECRET) -> dict[str, str]:
    timestamp = int(time.time()) if at is None else at
    return {
        SECRET_HEADER: SECRET,
        "webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(body, key, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", timestamp),
    }


def test_good_delivery_returns_the_payload() -> None:
    payload = verify_delivery(signed_headers(), BODY, SECRET, signing_secret=CLIENT_SECRET)
    assert payload["scope"] == "store/order/statusUpdated"
    assert payload["data"]["id"] == 173331 and payload["hash"].startswith("3f9e")


def test_custom_header_alone_is_enough_when_bigcommerce_does_not_sign() -> None:
    assert verify_delivery({SECRET_HEADER.lower(): SECRET}, BODY, SECRET)["data"]["id"] == 173331


def test_forged_or_missing_secret_header_is_refused() -> None:
    with pytest.raises(ValueError, match="does not match"):
        verify_delivery({**signed_headers(), SECRET_HEADER: "guess"}, BODY, SECRET, signing_secret=CLIENT_SECRET)
    with pytest.raises(ValueError, match="missing"):
        verify_delivery({}, BODY, SECRET)


def test_forged_signature_or_altered_body_is_refused() -> None:
    forged = {**signed_headers(), "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}
    with pytest.raises(ValueError, match="webhook-signature does not match"):
        verify_delivery(forged, BODY, SECRET, signing_secret=CLIENT_SECRET)
    altered = BODY.replace(b"173331", b"173332")
    with pytest.raises(ValueError, match="webhook-signature does not match"):
        verify_delivery(signed_headers(), altered, SECRET, signing_secret=CLIENT_SECRET)
    with pytest.raises(ValueError, match="webhook-signature does not match"):
        verify_delivery(signed_headers(key="another-secret"), BODY, SECRET, signing_secret=CLIENT_SECRET)


def test_one_valid_signature_among_several_is_enough() -> None:
    headers = signed_headers()
    headers["webhook-signature"] = "v1,bm9wZQ== " + headers["webhook-signature"]
    assert verify_delivery(headers, BODY, SECRET, signing_secret=CLIENT_SECRET)["scope"]


def test_whsec_secrets_are_base64_decoded_as_standard_webhooks_says() -> None:
    whsec = "whsec_" + base64.b64encode(CLIENT_SECRET.encode()).decode()
    assert verify_delivery(signed_headers(), BODY, SECRET, signing_secret=whsec)["data"]["id"] == 173331


def test_stale_or_future_timestamp_is_refused() -> None:
    stale = signed_headers(at=int(time.time()) - 301)
    with pytest.raises(ValueError, match="webhook-timestamp is outside"):
        verify_delivery(stale, BODY, SECRET, signing_secret=CLIENT_SECRET)
    future = signed_headers(at=int(time.time()) + 400)
    with pytest.raises(ValueError, match="webhook-timestamp is outside"):
        verify_delivery(future, BODY, SECRET, signing_secret=CLIENT_SECRET)


def test_partial_standard_headers_and_bad_bodies_are_refused() -> None:
    headers = signed_headers()
    del headers["webhook-id"]
    with pytest.raises(ValueError, match="webhook-id header is missing"):
        verify_delivery(headers, BODY, SECRET, signing_secret=CLIENT_SECRET)
    with pytest.raises(ValueError, match="body is not JSON"):
        verify_delivery({SECRET_HEADER: SECRET}, b"<html>", SECRET)
    with pytest.raises(ValueError, match=r"data\.id"):
        verify_delivery({SECRET_HEADER: SECRET}, b'{"scope": "store/order/created", "data": {}, "hash": "h"}', SECRET)


def test_signature_is_required_once_the_signing_secret_is_known() -> None:
    with pytest.raises(ValueError, match="must be signed"):
        verify_delivery({SECRET_HEADER: SECRET}, BODY, SECRET, signing_secret=CLIENT_SECRET)


def test_delivery_id_is_the_webhook_id_else_the_payload_hash() -> None:
    payload = json.loads(BODY)
    assert delivery_id(signed_headers(), payload) == "id:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert delivery_id({SECRET_HEADER: SECRET}, payload) == f"hash:{payload['hash']}"
