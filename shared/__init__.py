"""Code every ChannelBridge service shares: settings, database, events, outbox, consumers, web plumbing."""
