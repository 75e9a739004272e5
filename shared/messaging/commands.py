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
