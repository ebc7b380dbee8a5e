"""The masker on its own: what ``redact`` hides in strings and structures, and the log filter."""

from __future__ import annotations

import io
import json
import logging
import traceback

import pytest

from updraft.sdk.masking import (
    MIN_SECRET_LENGTH,
    REDACTED,
    SecretsMasker,
    SecretsMaskingFilter,
    is_sensitive_name,
)


@pytest.fixture
def masker() -> SecretsMasker:
    return SecretsMasker()


def test_a_secret_inside_a_longer_string_is_replaced(masker: SecretsMasker) -> None:
    masker.add("hunter2-swordfish")
    assert masker.redact("login with hunter2-swordfish now") == "login with *** now"
    assert masker.redact("no secret here") == "no secret here"


def test_overlapping_secrets_hide_the_longest_whole(masker: SecretsMasker) -> None:
    masker.add("abcdef")
    masker.add("abcdefghij")
    masker.add("ghijklmn")
    # The longer secret wins where it matches; what is left is searched again.
    assert masker.redact("x abcdefghij y") == "x *** y"
    assert masker.redact("abcdef abcdefghijklmn") == "*** ***klmn"


def test_a_secret_in_a_traceback(masker: SecretsMasker) -> None:
    masker.add("Tr0ub4dor&3")
    try:
        raise ValueError("bad password 'Tr0ub4dor&3' for user")
    except ValueError as exc:
        text = "".join(traceback.format_exception(exc))
    redacted = masker.redact(text)
    assert "Tr0ub4dor&3" not in redacted
    assert "ValueError: bad password '***' for user" in redacted


def test_a_secret_in_json_and_in_a_repr_even_when_escaped(masker: SecretsMasker) -> None:
    secret = 'pa"ss\\word\n2'
    masker.add(secret)
    as_json = json.dumps({"connection": {"pw": secret}})
    as_repr = repr({"pw": secret})
    assert secret not in masker.redact(secret + " " + secret)
    assert masker.redact(as_json) == '{"connection": {"pw": "***"}}'
    assert masker.redact(as_repr) == "{'pw': '***'}"


def test_a_url_quoted_secret_is_hidden(masker: SecretsMasker) -> None:
    masker.add("p@ss/word!")
    assert masker.redact("postgres://me:p%40ss%2Fword%21@db/x") == "postgres://me:***@db/x"


def test_a_multi_line_secret_is_hidden_line_by_line(masker: SecretsMasker) -> None:
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkq\nhkiG9w0BAQEFAASC\n-----END KEY-----"
    masker.add(key)
    lines = [masker.redact(line) for line in f"key is:\n{key}\ndone".splitlines()]
    assert lines == ["key is:", REDACTED, REDACTED, REDACTED, REDACTED, "done"]


def test_sensitive_keys_are_hidden_whole_in_nested_structures(masker: SecretsMasker) -> None:
    value = {
        "host": "db.example.com",
        "Password": 1234,
        "nested": [{"API_KEY": "abc", "user": "ann"}, {"auth": {"access_token": ["t1", "t2"]}}],
        "my_secret_list": ["a", None, {"x": "y"}],
        "service_account": None,
    }
    assert masker.redact(value) == {
        "host": "db.example.com",
        "Password": REDACTED,
        "nested": [{"API_KEY": REDACTED, "user": "ann"}, {"auth": {"access_token": [REDACTED, REDACTED]}}],
        "my_secret_list": [REDACTED, None, {"x": REDACTED}],
        "service_account": None,
    }
    assert masker.redact("plain", name="db_passwd") == REDACTED
    assert value["Password"] == 1234  # the original is left alone


def test_registered_secrets_are_hidden_in_structures_and_other_values_kept(masker: SecretsMasker) -> None:
    masker.add({"user": "someone-secret-ish", "keys": ["key-one-111", ("key-two-222",)]})
    value = ("someone-secret-ish", ["key-one-111 and key-two-222"], 42, None, 1.5)
    assert masker.redact(value) == (REDACTED, ["*** and ***"], 42, None, 1.5)


def test_short_secrets_are_not_masked(masker: SecretsMasker) -> None:
    masker.add("a" * (MIN_SECRET_LENGTH - 1))
    masker.add("")
    masker.add(None)
    assert not masker
    assert masker.redact("aaaa is a word") == "aaaa is a word"
    masker.add("b" * MIN_SECRET_LENGTH)
    assert masker.redact("bbbbb") == REDACTED


def test_sensitive_names_match_airflow_words_case_insensitively() -> None:
    for name in (
        "password",
        "DB_PASSWORD",
        "apiKey",
        "x-api_key",
        "Authorization",
        "gcp_keyfile_dict",
        "service_account_json",
        "refresh_token",
        "ssh_private_key",
        "passphrase",
        "aws_credentials",
        "client_secret",
    ):
        assert is_sensitive_name(name), name
    for name in ("host", "login", "port", "schema", "extra"):
        assert not is_sensitive_name(name), name


def _logger_with_filter(masker: SecretsMasker) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretsMaskingFilter(masker))
    logger = logging.getLogger(f"test.masking.{id(masker)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_the_log_filter_hides_secrets_in_messages_args_and_exceptions(masker: SecretsMasker) -> None:
    logger, stream = _logger_with_filter(masker)
    masker.add("s3cr3t-value")
    logger.info("connecting with %s to %s", "s3cr3t-value", "db")
    logger.info("first line\nsecond line s3cr3t-value\nthird %d%%", 100)
    logger.info({"token": "s3cr3t-value"})
    try:
        raise RuntimeError("failed with s3cr3t-value")
    except RuntimeError:
        logger.exception("it broke")
    text = stream.getvalue()
    assert "s3cr3t-value" not in text
    assert "connecting with *** to db" in text
    assert "first line\nsecond line ***\nthird 100%" in text
    assert "RuntimeError: failed with ***" in text and "Traceback (most recent call last)" in text


def test_the_log_filter_leaves_records_alone_without_secrets(masker: SecretsMasker) -> None:
    record = logging.LogRecord("x", logging.INFO, "f.py", 1, "value %s", ("s3cr3t-value",), None)
    assert SecretsMaskingFilter(masker).filter(record)
    assert (record.msg, record.args) == ("value %s", ("s3cr3t-value",))
    masker.add("s3cr3t-value")
    assert SecretsMaskingFilter(masker).filter(record)
    assert record.getMessage() == "value ***"


def test_mask_secret_is_exported_from_the_top_level_package() -> None:
    import updraft
    from updraft.sdk.masking import get_masker, mask_secret

    assert updraft.mask_secret is mask_secret
    mask_secret("exported-secret")
    assert get_masker().redact("an exported-secret") == "an ***"
