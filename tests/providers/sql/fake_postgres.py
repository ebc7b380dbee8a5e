"""A stand-in PostgreSQL server that asks for a password and refuses it, as a real server does.

The shared test server trusts local connections, so a wrong password cannot be seen failing on it.
This one speaks just enough of the protocol (v3): it declines SSL and GSSAPI encryption, asks for
a cleartext password, records the one it receives, and answers with PostgreSQL's own FATAL error
(SQLSTATE 28P01).
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _error_response(user: str) -> bytes:
    fields = [
        b"SFATAL",
        b"VFATAL",
        b"C28P01",
        f'Mpassword authentication failed for user "{user}"'.encode(),
    ]
    body = b"".join(field + b"\0" for field in fields) + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


class PasswordRefusingServer:
    """``with PasswordRefusingServer() as server:`` listens on ``server.port`` until the block ends."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self.passwords: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> PasswordRefusingServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            with client:
                try:
                    self._handle(client)
                except (ConnectionError, OSError):
                    pass

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(5)
        while True:  # SSL / GSSAPI encryption requests come first: decline them
            length, code = struct.unpack("!ii", _read_exactly(client, 8))
            if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                client.sendall(b"N")
                continue
            break
        params = _read_exactly(client, length - 8).split(b"\0")
        settings = dict(zip(params[::2], params[1::2]))
        user = settings.get(b"user", b"").decode()
        client.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        kind = _read_exactly(client, 1)
        (size,) = struct.unpack("!i", _read_exactly(client, 4))
        payload = _read_exactly(client, size - 4)
        if kind == b"p":
            self.passwords.append(payload.rstrip(b"\0").decode())
        client.sendall(_error_response(user))
