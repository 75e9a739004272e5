"""Effectively-once messaging: transactional outbox, relay to Kafka, idempotent consumer runner with DLQ."""
