"""The embedded dev/test infrastructure: Postgres and a Kafka-compatible broker from wheels, and the stack."""
