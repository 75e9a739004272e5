"""The five ChannelBridge services; each is a FastAPI app with its own schema."""
