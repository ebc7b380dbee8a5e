"""Split a string of SQL into its statements, at the semicolons that end them.

A semicolon ends a statement only outside string literals (``'...'`` with ``''`` escapes,
``E'...'`` with backslash escapes), quoted identifiers (``"..."``, ```...```), dollar-quoted
bodies (``$$...$$``, ``$fn$...$fn$``), comments (``-- ...`` and nestable ``/* ... */``), and
outside the ``BEGIN ... END`` block of a ``CREATE TRIGGER`` / ``FUNCTION`` / ``PROCEDURE``
statement (SQLite triggers, PostgreSQL ``BEGIN ATOMIC`` bodies). Comments stay with the statement
they precede; pieces that hold only whitespace and comments are dropped. An unterminated quote or
comment runs to the end of the text, so the database reports the error, not the splitter.
"""

from __future__ import annotations

import re

__all__ = ["split_sql_string"]

_TOKEN = re.compile(
    r"""--|/\*|[eE]'|'|"|`|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$|;|\b(?:begin|end|case)\b""",
    re.IGNORECASE,
)
_BLOCK_STATEMENT = re.compile(
    r"create\s+(?:or\s+replace\s+)?(?:temp(?:orary)?\s+)?(?:trigger|function|procedure)\b", re.IGNORECASE
)
_LEADING_COMMENTS = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)


def _end_of_quoted(sql: str, start: int, quote: str) -> int:
    """Index just past the quote that closes the literal opened before ``start`` (doubled quotes escape)."""
    pos = start
    while True:
        close = sql.find(quote, pos)
        if close < 0:
            return len(sql)
        if sql.startswith(quote, close + 1):
            pos = close + 2
            continue
        return close + 1


def _end_of_escape_string(sql: str, start: int) -> int:
    """Index just past the end of an ``E'...'`` literal, where a backslash escapes the next character."""
    pos = start
    while pos < len(sql):
        char = sql[pos]
        if char == "\\":
            pos += 2
        elif char == "'":
            if sql.startswith("'", pos + 1):
                pos += 2
            else:
                return pos + 1
        else:
            pos += 1
    return len(sql)


def _end_of_block_comment(sql: str, start: int) -> int:
    """Index just past the ``*/`` closing the comment opened before ``start`` (PostgreSQL nests them)."""
    depth = 1
    pos = start
    while depth:
        opening = sql.find("/*", pos)
        closing = sql.find("*/", pos)
        if closing < 0:
            return len(sql)
        if 0 <= opening < closing:
            depth += 1
            pos = opening + 2
        else:
            depth -= 1
            pos = closing + 2
    return pos


def split_sql_string(sql: str, strip_semicolon: bool = False) -> list[str]:
    """The statements of ``sql``, each stripped of surrounding whitespace.

    The terminating semicolon stays unless ``strip_semicolon`` is set.
    """
    statements: list[str] = []
    start = 0  # where the current statement begins
    pos = 0
    has_code = False  # the current statement holds more than whitespace and comments
    block_depth = 0
    in_block_statement: bool | None = None  # decided at the first keyword of the statement

    def finish(end: int, terminator_len: int) -> None:
        if has_code:
            text = sql[start : end - terminator_len] if strip_semicolon else sql[start:end]
            statements.append(text.strip())

    while True:
        match = _TOKEN.search(sql, pos)
        if match is None:
            if sql[pos:].strip():
                has_code = True
            finish(len(sql), 0)
            return statements
        token = match.group()
        if sql[pos : match.start()].strip():
            has_code = True
        pos = match.end()
        if token == "--":
            newline = sql.find("\n", pos)
            pos = len(sql) if newline < 0 else newline + 1
        elif token == "/*":
            pos = _end_of_block_comment(sql, pos)
        elif token == ";":
            if block_depth == 0:
                finish(pos, 1)
                start, has_code, in_block_statement = pos, False, None
        elif token[0] == "$":
            # ``a$b$`` is an identifier (PostgreSQL allows $ in names), not a dollar quote.
            if match.start() > 0 and (sql[match.start() - 1].isalnum() or sql[match.start() - 1] in "_$"):
                pos = match.start() + 1
                continue
            has_code = True
            close = sql.find(token, pos)
            pos = len(sql) if close < 0 else close + len(token)
        elif token in ("'", '"', "`"):
            has_code = True
            pos = _end_of_quoted(sql, pos, token)
        elif token in ("e'", "E'"):
            has_code = True
            if match.start() > 0 and (sql[match.start() - 1].isalnum() or sql[match.start() - 1] == "_"):
                pos = _end_of_quoted(sql, pos, "'")  # ``name'...'``: a plain literal after a word
            else:
                pos = _end_of_escape_string(sql, pos)
        else:  # BEGIN / CASE / END
            has_code = True
            if in_block_statement is None:
                head = sql[start : match.start()]
                head = head[_LEADING_COMMENTS.match(head).end() :]  # type: ignore[union-attr]
                in_block_statement = bool(_BLOCK_STATEMENT.match(head))
            if in_block_statement:
                block_depth = max(0, block_depth + (-1 if token.lower() == "end" else 1))
