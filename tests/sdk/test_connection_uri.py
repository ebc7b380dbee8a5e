"""Connection URIs and JSON: Airflow's forms, parsed and produced."""

from __future__ import annotations

import pytest

from updraft.sdk.connection import Connection, InvalidConnection


def test_a_uri_parses_into_fields_with_percent_decoding_and_extras() -> None:
    conn = Connection.from_uri("db", "postgresql://user:pa%40ss@db.example.com:5432/sales?sslmode=require")
    assert (conn.conn_type, conn.login, conn.password, conn.host, conn.port, conn.schema) == (
        "postgresql",
        "user",
        "pa@ss",
        "db.example.com",
        5432,
        "sales",
    )
    assert conn.extra_dejson == {"sslmode": "require"}
    assert Connection.from_uri("db", conn.get_uri()).to_dict() == conn.to_dict()


def test_the_host_keeps_its_case_and_ipv6_hosts_parse() -> None:
    lite = Connection.from_uri("lite", "sqlite://Data/My.db")
    assert (lite.host, lite.schema) == ("Data", "My.db")
    ipv6 = Connection.from_uri("v6", "http://[::1]:8080")
    assert (ipv6.host, ipv6.port) == ("::1", 8080)


def test_nested_extra_round_trips_through_the_extra_parameter() -> None:
    conn = Connection(conn_id="x", conn_type="http", host="h", extra='{"headers": {"A": "1"}}')
    assert Connection.from_uri("x", conn.get_uri()).extra_dejson == {"headers": {"A": "1"}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not a uri", "not a URI"),
        ("postgresql://h:notaport/db", "not a valid URI"),
        ('{"conn_type": "http", "bogus": 1}', "unknown field"),
        ('{"conn_type": "http", "port": "x"}', "port 'x' is not a number"),
        ("{broken", "not valid JSON"),
    ],
)
def test_bad_input_names_the_connection(text: str, message: str) -> None:
    with pytest.raises(InvalidConnection, match=f"connection 'mine'.*{message}"):
        Connection.parse("mine", text)


def test_repr_never_shows_the_password() -> None:
    assert "s3cret" not in repr(Connection(conn_id="c", password="s3cret"))
