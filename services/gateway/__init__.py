"""The gateway: one public API in front of the services (routing, JWT, scopes, rate limits, merged OpenAPI)."""
