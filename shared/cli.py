"""`channelbridge`: ops and dev tasks."""

from __future__ import annotations

import typer

from shared.messaging.commands import dlq_app, outbox_app

app = typer.Typer(help="ChannelBridge ops and dev tasks.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
app.add_typer(outbox_app, name="outbox")


@app.command()
def run() -> None:
    """Run the whole stack on the embedded default (Postgres + Tansu from wheels, data in .dev/).

    Dev tooling, not the product: it runs from a checkout with the `dev` extra (`make run`); a production
    install has neither the supervisor nor the embedded servers and says so."""
    try:
        from shared.devstack.run import run_dev_stack
    except ImportError as exc:
        typer.echo(f"`channelbridge run` is dev tooling: run `make run` in a checkout of the repository ({exc})",
                   err=True)
        raise typer.Exit(1) from exc
    run_dev_stack()


@app.command("gen-encryption-key")
def gen_encryption_key(kid: str = typer.Option("k1", help="key id stored beside each ciphertext")) -> None:
    """Print a fresh value for CB_ENCRYPTION_KEYS (prepend it to rotate)."""
    from shared.crypto import generate_key_spec

    typer.echo(generate_key_spec(kid))


@app.command()
def asyncapi(output: str = typer.Option("docs/asyncapi.yaml", help="where to write the document")) -> None:
    """Write the AsyncAPI 3 document of every event topic (generated from the payload models)."""
    from pathlib import Path

    import yaml

    from shared.events.asyncapi import build_document

    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(yaml.safe_dump(build_document(), sort_keys=False, allow_unicode=True))
    typer.echo(f"wrote {output}")


if __name__ == "__main__":
    app()
