"""Marketplace clients: per marketplace a pure mapper (payload ⇄ canonical) and an HTTP client, one protocol."""
