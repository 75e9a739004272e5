"""Marketplace connections: OAuth authorization, sealed tokens refreshed single-flight, disconnect.

Reads top-down: `api` (routes) → `service` (connect, list, disconnect) and `tokens` (access tokens for
other services) → `repository` (SQL) and `events`; `connectors` is the per-marketplace seam.
"""
