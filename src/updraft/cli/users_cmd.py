"""``updraft users ...``: create, list, delete users, grant and revoke roles, reset passwords."""

from __future__ import annotations

from typing import Any

import click

from updraft.cli.output import OUTPUT_OPTION, fail, print_rows

COLUMNS = ["id", "username", "email", "first_name", "last_name", "roles", "active"]


@click.group(name="users")
def command() -> None:
    """Manage the users of the web UI and the REST API."""


def _engine() -> Any:
    from updraft.core.db.engine import get_engine
    from updraft.core.db.migrate import ensure_schema

    engine = get_engine()
    ensure_schema(engine)
    return engine


def _password(password: str | None, use_random: bool) -> tuple[str, bool]:
    """The password to set, and whether it was generated (and must be shown once)."""
    from updraft.core.passwords import generate_password

    if password is not None and use_random:
        fail("give --password or --use-random-password, not both", code=2)
    if use_random:
        return generate_password(), True
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat for confirmation")
    return password, False


@command.command(name="create")
@click.option("-u", "--username", required=True)
@click.option("-f", "--firstname", required=True)
@click.option("-l", "--lastname", required=True)
@click.option("-e", "--email", required=True)
@click.option("-r", "--role", required=True, help="Admin, Op, User or Viewer.")
@click.option("-p", "--password", default=None, help="Prompted (hidden) when not given.")
@click.option("--use-random-password", is_flag=True, help="Generate a password and print it once.")
def create_command(
    username: str,
    firstname: str,
    lastname: str,
    email: str,
    role: str,
    password: str | None,
    use_random_password: bool,
) -> None:
    """Create a user with one role."""
    from updraft.core.users import UserError, create_user, validate_role

    try:
        validate_role(role)
    except UserError as exc:
        fail(str(exc), code=2)
    secret, generated = _password(password, use_random_password)
    try:
        with _engine().begin() as conn:
            create_user(
                conn,
                username=username,
                first_name=firstname,
                last_name=lastname,
                email=email,
                roles=[role],
                password=secret,
            )
    except UserError as exc:
        fail(str(exc), code=2)
    click.echo(f"User {username} created with role {role}")
    if generated:
        click.echo(f"Password: {secret}")


@command.command(name="list")
@OUTPUT_OPTION
def list_command(output: str) -> None:
    """List every user."""
    from updraft.core.users import list_users

    with _engine().connect() as conn:
        users = list_users(conn)
    print_rows([u.as_row() for u in users], COLUMNS, output)


@command.command(name="delete")
@click.option("-u", "--username", required=True)
def delete_command(username: str) -> None:
    """Delete a user."""
    from updraft.core.users import UserError, delete_user

    try:
        with _engine().begin() as conn:
            delete_user(conn, username)
    except UserError as exc:
        fail(str(exc), code=2)
    click.echo(f"User {username} deleted")


@command.command(name="add-role")
@click.option("-u", "--username", required=True)
@click.option("-r", "--role", required=True)
def add_role_command(username: str, role: str) -> None:
    """Grant a role to a user."""
    from updraft.core.users import UserError, add_role

    try:
        with _engine().begin() as conn:
            user = add_role(conn, username, role)
    except UserError as exc:
        fail(str(exc), code=2)
        return
    click.echo(f"User {username} now has roles: {', '.join(user.roles)}")


@command.command(name="remove-role")
@click.option("-u", "--username", required=True)
@click.option("-r", "--role", required=True)
def remove_role_command(username: str, role: str) -> None:
    """Revoke a role from a user (not the user's last one)."""
    from updraft.core.users import UserError, remove_role

    try:
        with _engine().begin() as conn:
            user = remove_role(conn, username, role)
    except UserError as exc:
        fail(str(exc), code=2)
        return
    click.echo(f"User {username} now has roles: {', '.join(user.roles)}")


@command.command(name="reset-password")
@click.option("-u", "--username", required=True)
@click.option("-p", "--password", default=None, help="Prompted (hidden) when not given.")
@click.option("--use-random-password", is_flag=True, help="Generate a password and print it once.")
def reset_password_command(username: str, password: str | None, use_random_password: bool) -> None:
    """Set a new password for a user."""
    from updraft.core.users import UserError, get_user, reset_password

    engine = _engine()
    with engine.connect() as conn:
        if get_user(conn, username) is None:
            fail(f"user {username!r} does not exist (see `updraft users list`)", code=2)
    secret, generated = _password(password, use_random_password)
    try:
        with engine.begin() as conn:
            reset_password(conn, username, secret)
    except UserError as exc:
        fail(str(exc), code=2)
    click.echo(f"Password of {username} reset")
    if generated:
        click.echo(f"Password: {secret}")
