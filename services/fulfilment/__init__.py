"""The fulfilment service (see DESIGN.md for what it owns)."""
