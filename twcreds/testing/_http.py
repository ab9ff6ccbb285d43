"""HTTP serving for the offline Twitter, and the faults it can inject into it.

The server is the standard library's :class:`~http.server.ThreadingHTTPServer` speaking
HTTP/1.1 with keep-alive; each connection is served on a daemon thread. Handler threads only
read and write bytes: they hand each request, as an :class:`~._exchange.Incoming`, to a
:class:`Service` (the one interface between this module and the rest of the fake) and carry
out the :class:`Reply` it gives: wait (latency, a hang), then answer or hang up.

Faults are queued in a :class:`FaultQueue`; :meth:`Fault.reply` is what each kind does on
the wire.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.server
import logging
import socket
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from twcreds.testing._exchange import JSON, Answer, Incoming, html_answer, text_answer
from twcreds.testing._media import MEDIA_BODY_LIMIT
from twcreds.testing._records import FaultKind

__all__ = ["HANG_LIMIT", "MAX_BODY", "Fault", "FaultQueue", "Reply", "Server", "Service"]

logger = logging.getLogger("twcreds.testing")

#: The largest request body read, except on the media endpoints (`MEDIA_BODY_LIMIT`).
MAX_BODY = 1024 * 1024
#: How long a ``"hang"`` fault holds a request when the server is not stopped first.
HANG_LIMIT = 60.0

_OVER_CAPACITY = (
    "<!DOCTYPE html><html><head><title>Over capacity</title></head>"
    "<body><h1>Something is technically wrong.</h1>"
    "<p>Thanks for noticing, we're going to fix it up and have things back to "
    "normal soon.</p></body></html>"
)


@dataclass(frozen=True)
class Reply:
    """What to do with one request.

    Attributes:
        answer: The answer to send; None to close the connection without one.
        wait: Seconds to hold the request first; :meth:`Server.stop` cuts the wait short.
    """

    answer: Answer | None
    wait: float = 0.0


class Service(Protocol):
    """What the HTTP layer asks of the fake: the one interface between them."""

    def handle(self, incoming: Incoming) -> Reply:
        """Decide what to do with one request (and record it).

        Called on the connection's thread, for every request whose body could be read.
        """
        ...

    def now(self) -> float:
        """The fake's clock (epoch seconds), for the ``Date`` header of every answer."""
        ...


# --- faults ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One injected failure, waiting for a request to fail.

    Attributes:
        kind: What the failure looks like on the wire.
        path: The only path that triggers it; None for any.
        status: The status of an ``"html"`` fault.
    """

    kind: FaultKind
    path: str | None
    status: int

    @property
    def reason(self) -> str:
        """What the record of the failed request says."""
        return f"fault: {self.kind}"

    def reply(self, latency: float) -> Reply:
        """What the server does instead of answering.

        Args:
            latency: The delay an answer would get; a fault that answers gets it too.
        """
        if self.kind == "html":
            answer = html_answer(self.status, _OVER_CAPACITY, self.reason)
        elif self.kind == "garbage":
            answer = Answer(200, b"<<this is not JSON>>", JSON, reason=self.reason)
        elif self.kind == "hang":
            return Reply(None, wait=HANG_LIMIT)
        else:
            return Reply(None)
        return Reply(answer, wait=latency)


class FaultQueue:
    """The faults not yet triggered, used in order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()

    def add(self, kind: FaultKind, path: str | None, times: int, status: int) -> None:
        """Queue ``times`` faults.

        Raises:
            ValueError: An unknown kind, or ``times`` below 1.
        """
        if kind not in ("close", "hang", "html", "garbage"):
            msg = f"unknown fault kind {kind!r}: use 'close', 'hang', 'html' or 'garbage'"
            raise ValueError(msg)
        if times < 1:
            msg = "times must be at least 1"
            raise ValueError(msg)
        with self._lock:
            self._faults.extend(Fault(kind, path, status) for _ in range(times))

    def clear(self) -> None:
        """Forget every fault not yet triggered."""
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> Fault | None:
        """The first fault a request for ``path`` triggers, now used up; None if none."""
        with self._lock:
            for fault in self._faults:
                if fault.path is None or fault.path == path:
                    self._faults.remove(fault)
                    return fault
        return None


# --- the server -----------------------------------------------------------------------------


class Server(http.server.ThreadingHTTPServer):
    """A threading HTTP server that can drop its open keep-alive connections on stop.

    Args:
        address: The host and port to bind (port 0: any free one).
        service: What answers the requests.
    """

    daemon_threads = True
    # socketserver's default backlog of 5 makes the 6th simultaneous client wait a second
    # for a TCP retry: concurrent bots (and `twcreds check`) open more than that at once.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], service: Service) -> None:
        self.service = service
        #: Set by :meth:`stop`, to release requests held by a wait.
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        super().__init__(address, _RequestHandler)

    @property
    def port(self) -> int:
        """The port bound."""
        return int(self.server_address[1])

    def start(self, name: str) -> None:
        """Serve on a background daemon thread with that name."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            # A short poll keeps stop() quick: shutdown() waits for the loop to notice.
            kwargs={"poll_interval": 0.01},
            name=name,
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Release held requests unanswered, stop serving and close every connection."""
        self.stopping.set()
        self.shutdown()
        self.drop_connections(timeout=5.0)
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._idle:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            with self._idle:
                self._connections.discard(request)
                self._idle.notify_all()

    def drop_connections(self, timeout: float) -> None:
        """Shut every open connection down, and wait up to ``timeout`` for them to close."""
        with self._idle:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._idle.wait_for(lambda: not self._connections, timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer is normal here (timeouts, faults); no traceback
        # on stderr. The message carries no request data.
        logger.debug("connection error", exc_info=True)


class _RequestHandler(http.server.BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"
    # Twitter's front door calls itself tsa_b; http.server would add "Python/3.x".
    server_version = "tsa_b"
    # Idle keep-alive connections end after this many seconds.
    timeout = 30
    # An answer is written as headers, then body: without TCP_NODELAY the body waits for
    # the client's delayed ACK of the headers (40 ms on Linux) on a kept-alive connection.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header follows the fake's clock (clock_skew included), as X's follows
        # its own: it is how a client can tell that its clock, not its keys, is off.
        when = self.server.service.now() if timestamp is None else timestamp
        return email.utils.formatdate(when, usegmt=True)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request line holds the query string (oauth_token, oauth_verifier): FakeTwitter
        # logs its own line, method and path only.
        return

    def log_message(self, format: str, *args: Any) -> None:
        # Never the arguments: http.server passes the raw request line among them.
        command = getattr(self, "command", None) or "-"
        path = (getattr(self, "path", None) or "-").partition("?")[0]
        logger.debug("%s %s: %s", command, path, format)

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        body = self._read_body(MEDIA_BODY_LIMIT if path.startswith("/2/media/") else MAX_BODY)
        if body is None:
            return
        incoming = Incoming(
            method=self.command,
            path=path,
            query=query,
            host=self.headers.get("Host") or f"127.0.0.1:{self.server.port}",
            authorization=self.headers.get("Authorization"),
            content_type=self.headers.get("Content-Type"),
            body=body,
        )
        reply = self.server.service.handle(incoming)
        if reply.wait > 0:
            self.server.stopping.wait(reply.wait)
        if reply.answer is None:
            self.close_connection = True
            return
        self._send(reply.answer)

    def _read_body(self, limit: int) -> bytes | None:
        if self.headers.get("Transfer-Encoding"):
            self._send(text_answer(411, "Length Required"), close=True)
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > limit:
            self._send(text_answer(413 if length > 0 else 400, "Bad Content-Length"), close=True)
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, answer: Answer, *, close: bool = False) -> None:
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(answer.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
