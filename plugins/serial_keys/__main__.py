"""``python -m fuwu_plugins.serial_keys keys generate|rotate|show [--home DIR]``:
the licence signing key (core's ``fuwu`` command has no hook for plugin
commands, so the plugin ships its own)."""

from __future__ import annotations

import click
from fuwu.config import Config

from . import licence


@click.group()
def cli() -> None:
    """serial_keys: licence signing keys."""


@cli.group()
def keys() -> None:
    """The Ed25519 key that signs licence files."""


def _home(home: str | None):
    return Config.load(home).home


@keys.command("generate")
@click.option("--home", envvar="FUWU_HOME", default=None, help="Site folder (with fuwu.toml).")
def generate(home: str | None) -> None:
    """Create the signing key if there is none (safe to run twice)."""
    kid = licence.generate(_home(home))
    click.echo(f"signing key {kid}")


@keys.command("rotate")
@click.option("--home", envvar="FUWU_HOME", default=None, help="Site folder (with fuwu.toml).")
def rotate(home: str | None) -> None:
    """Replace the signing key; old public keys stay for verification."""
    kid = licence.generate(_home(home), rotate=True)
    click.echo(f"new signing key {kid}")


@keys.command("show")
@click.option("--home", envvar="FUWU_HOME", default=None, help="Site folder (with fuwu.toml).")
def show(home: str | None) -> None:
    """Print every public key (PEM) by key id."""
    for kid, pem in licence.public_keys(_home(home)).items():
        click.echo(f"# key-id {kid}")
        click.echo(pem.decode("ascii"))


if __name__ == "__main__":
    cli()
