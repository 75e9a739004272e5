"""Runs a consumer that dies (os._exit, no cleanup) right after committing its first effect.

Started as a subprocess by the crash test: the effect and inbox row are in Postgres, the Kafka offset
is not committed, just as when a pod is killed at the worst moment.
"""

from __future__ import annotations

import asyncio
import os
import sys

from shared.db import create_engine_for_schema, session_factory
from shared.messaging.consumer import ConsumerRunner
from shared.settings import Settings
from tests.messaging.harness import TOPIC, record_effect


def _die(applied) -> None:
    if applied:
        os._exit(17)


async def main(schema: str, group: str) -> None:
    settings = Settings()
    engine = create_engine_for_schema(settings.database_url, schema, pool_size=2)
    runner = ConsumerRunner(settings, group_id=group, handlers={TOPIC: record_effect},
                            sessions=session_factory(engine), after_effect=_die)
    await runner.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
