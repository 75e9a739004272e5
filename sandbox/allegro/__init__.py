"""Allegro REST API emulator (orders, fulfilment, OAuth) for ChannelBridge's integration tests."""
