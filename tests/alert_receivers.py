"""Real receivers on loopback for the alert tests: an HTTP server taking apprise's json:// posts and
an SMTP server (aiosmtpd) taking mailto:// email. Not a test module."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpReceiver:
    """Collects the JSON bodies posted to it. `hold`: a request waits (before or after reading its
    body) until `release` is set, so that a test can kill the sender mid-delivery."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self.release = threading.Event()
        self.hold: str | None = None  # None | "before_read" | "after_read"
        self._server: HTTPServer | None = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def start(self) -> HttpReceiver:
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                recv.connected.set()
                if recv.hold == "before_read":
                    recv.release.wait(20)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recv.messages.append(json.loads(body or b"{}"))
                if recv.hold == "after_read":
                    recv.release.wait(20)
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def text(self) -> str:
        return "\n".join(f"{m.get('title', '')}\n{m.get('message', '')}" for m in self.messages)


class SmtpReceiver:
    """aiosmtpd on loopback; `messages` holds the raw email texts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.messages: list[str] = []
        recv = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                recv.messages.append(envelope.content.decode("utf-8", "replace"))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=ops@example.org&to=oncall@example.org&mode=insecure"

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
