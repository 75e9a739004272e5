"""HTTP plumbing every service shares: identity from the gateway, request ids, errors, health, metrics."""
