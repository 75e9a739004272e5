"""The gateway's route table exposes the connection endpoints with the right scopes, and never internal ones."""

from __future__ import annotations

import uuid

import pytest

from services.gateway.routes import RouteNotFound, match

CONNECTION = f"/v1/connections/{uuid.uuid4()}"


def test_the_oauth_callback_is_public_and_not_taken_for_a_connection_id():
    route = match("GET", "/v1/connections/oauth/callback")

    assert (route.service, route.public) == ("auth", True)


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("POST", "/v1/connections", "connections:write"),
    ("GET", "/v1/connections", "connections:read"),
    ("GET", CONNECTION, "connections:read"),
    ("DELETE", CONNECTION, "connections:write"),
])
def test_connection_routes_go_to_auth_with_their_scope(method, path, scope):
    route = match(method, path)

    assert (route.service, route.scope) == ("auth", scope)


@pytest.mark.parametrize("path", [f"/internal/connections/{uuid.uuid4()}",
                                  f"/internal/connections/{uuid.uuid4()}/access-token"])
def test_internal_connection_routes_are_not_reachable_through_the_gateway(path):
    with pytest.raises(RouteNotFound):
        match("POST", path)
