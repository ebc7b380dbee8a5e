"""``updraft rotate-fernet-key``: re-encrypt stored secrets under the first key of core.fernet_key."""

from __future__ import annotations

import click

from updraft.cli.output import fail


@click.command(name="rotate-fernet-key")
def command() -> None:
    """Re-encrypt every encrypted connection and variable with the first key of core.fernet_key.

    Set core.fernet_key to "NEW_KEY,OLD_KEY" first: every listed key decrypts. All values are
    rewritten in one transaction; if one cannot be decrypted, nothing changes. Then drop OLD_KEY.
    """
    from updraft.core import config_objects as objects
    from updraft.core.fernet import FernetKeyMismatch, InvalidFernetKey
    from updraft.core.runtime.dag_test import prepare_engine

    try:
        with prepare_engine().begin() as conn:
            connections, variables = objects.rotate_encryption(conn)
    except (FernetKeyMismatch, InvalidFernetKey) as exc:
        fail(f"{exc}; nothing was changed")
        return
    click.echo(f"Re-encrypted {connections} connection(s) and {variables} variable(s)")
