"""Benchmarks of the event backbone against raw baselines measured in the same run: `python -m bench`.

Each run starts its own throw-away embedded PostgreSQL and Tansu broker, so the figures never depend on
what else is running on the machine's databases or brokers, and prints them beside the targets.
"""
