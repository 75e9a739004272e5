"""The orders service (see DESIGN.md for what it owns)."""
