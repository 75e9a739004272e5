"""BigCommerce REST Management API emulator (V2 orders, V3 webhooks) for ChannelBridge tests."""
