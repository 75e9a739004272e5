"""`channelbridge dlq …` and `channelbridge outbox …`: looking at and releasing events that did not flow."""

from __future__ import annotations

import asyncio
import json

import typer

dlq_app = typer.Typer(help="Dead-lettered events: list them, replay them onto their topic.", no_args_is_help=True)


def _settings():
    from shared.settings import get_settings

    return get_settings()


def _topics(topic: str | None) -> list[str]:
    from shared.events import EVENT_TYPES

    if topic is None:
        return list(EVENT_TYPES)
    if topic not in EVENT_TYPES:
        raise typer.BadParameter(f"unknown topic {topic!r}; one of: {', '.join(EVENT_TYPES)}", param_hint="--topic")
    return [topic]


@dlq_app.command("list")
def dlq_list(topic: str | None = typer.Option(None, help="only this event topic (default: every topic)")) -> None:
    """Print one JSON line per dead letter: topic, event id, DLQ position, consumer, source offset, reason."""
    from shared.messaging.dlq import read_dead_letters

    async def main() -> None:
        for name in _topics(topic):
            for letter in await read_dead_letters(_settings(), name):
                typer.echo(json.dumps(letter.summary()))

    asyncio.run(main())


@dlq_app.command("replay")
def dlq_replay(
    topic: str = typer.Option(..., help="the event topic whose DLQ to replay"),
    event_id: list[str] = typer.Option([], "--id", help="event id to replay (repeatable)"),
    replay_all: bool = typer.Option(False, "--all", help="replay every dead letter of the topic"),
) -> None:
    """Publish dead letters to their topic again; the consumers' inbox makes a repeated replay harmless."""
    from shared.messaging.dlq import replay

    if replay_all == bool(event_id):
        raise typer.BadParameter("give --id (one or more) or --all, not both and not neither", param_hint="--id/--all")
    [name] = _topics(topic)
    letters = asyncio.run(replay(_settings(), name, None if replay_all else set(event_id)))
    missing = set(event_id) - {letter.event_id for letter in letters}
    for letter in letters:
        typer.echo(json.dumps({"replayed": letter.event_id, "topic": name}))
    if missing:
        typer.echo(f"not in {name}.dlq: {', '.join(sorted(missing))}", err=True)
        raise typer.Exit(1)


outbox_app = typer.Typer(help="Outbox events the relay parked: list them, put them back in the queue.",
                         no_args_is_help=True)
_SCHEMA = "^[a-z_][a-z0-9_]*$"


def _service_option():
    return typer.Option(..., "--service", help="the service whose outbox (its schema): auth, orders, listings, "
                                               "fulfilment")


@outbox_app.command("parked")
def outbox_parked(service: str = _service_option()) -> None:
    """Print one JSON line per parked event: id, topic, key, size, attempts, when parked, the last error."""
    from shared.messaging.parking import parked_events

    async def main() -> None:
        async with _engine(service) as engine:
            for row in await parked_events(engine):
                typer.echo(json.dumps(row, default=str))

    asyncio.run(main())


@outbox_app.command("retry")
def outbox_retry(
    service: str = _service_option(),
    event_id: list[str] = typer.Option([], "--id", help="parked event id to release (repeatable)"),
    retry_all: bool = typer.Option(False, "--all", help="release every parked event of the service"),
) -> None:
    """Un-park events: the relay tries them again (with a fresh count of attempts) in their original order."""
    import uuid

    from shared.messaging.parking import release_parked

    if retry_all == bool(event_id):
        raise typer.BadParameter("give --id (one or more) or --all, not both and not neither", param_hint="--id/--all")
    try:
        ids = None if retry_all else [uuid.UUID(value) for value in event_id]
    except ValueError as exc:
        raise typer.BadParameter(f"not an event id (UUID): {exc}", param_hint="--id") from exc

    async def main() -> list:
        async with _engine(service) as engine:
            return await release_parked(engine, service, ids)

    released = asyncio.run(main())
    for released_id in released:
        typer.echo(json.dumps({"released": str(released_id), "service": service}))
    missing = {str(i) for i in ids or ()} - {str(i) for i in released}
    if missing:
        typer.echo(f"not parked in {service}: {', '.join(sorted(missing))}", err=True)
        raise typer.Exit(1)


def _engine(service: str):
    import contextlib
    import re

    from shared.db import create_engine_for_schema

    if not re.match(_SCHEMA, service):
        raise typer.BadParameter(f"not a service schema name: {service!r}", param_hint="--service")

    @contextlib.asynccontextmanager
    async def engine_for_service():
        import sqlalchemy as sa

        engine = create_engine_for_schema(_settings().database_url, service, pool_size=1)
        try:
            async with engine.connect() as conn:
                if await conn.scalar(sa.text("SELECT to_regclass('outbox')")) is None:
                    raise typer.BadParameter(f"service {service!r} has no outbox in this database",
                                             param_hint="--service")
            yield engine
        finally:
            await engine.dispose()

    return engine_for_service()
