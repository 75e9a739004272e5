"""Etsy Open API v3 emulator: OAuth2 + PKCE, shops, receipts, tracking, rate limits, faults."""
