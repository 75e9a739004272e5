"""The listings service (see DESIGN.md for what it owns)."""
