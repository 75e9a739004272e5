"""Local emulators of marketplace APIs, used by tests and the dev stack."""
