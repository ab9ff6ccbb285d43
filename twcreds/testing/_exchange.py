"""One exchange with the offline Twitter: the request as read, the answer, and their shapes.

The vocabulary every other part shares: the HTTP layer (:mod:`._http`) turns bytes into an
:class:`Incoming` and an :class:`Answer` back into bytes; authentication (:mod:`._auth`) and
the endpoints (:mod:`._endpoints`) turn one into the other, building answers in Twitter's
shapes with the builders below (a v1.1 error, a v2 problem, a form, a page).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

from twcreds.testing._records import RequestRecord

__all__ = [
    "HTML",
    "JSON",
    "PROBLEM",
    "TEXT",
    "Answer",
    "Context",
    "Incoming",
    "Reject",
    "Settings",
    "form_answer",
    "html_answer",
    "invalid_request",
    "json_answer",
    "problem",
    "text_answer",
    "v1_error",
]

JSON = "application/json; charset=utf-8"
PROBLEM = "application/problem+json"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


class Settings(Protocol):
    """The options of :class:`~twcreds.testing.FakeTwitter`, read afresh on every request.

    The fake itself is the one implementation: its options are plain attributes a test may
    change while the server runs, so the parts read them through this view rather than
    keeping copies.
    """

    @property
    def latency(self) -> float: ...
    @property
    def legacy_v1(self) -> bool: ...
    @property
    def rate_limit(self) -> int | None: ...
    @property
    def confirm_callback(self) -> bool: ...
    @property
    def clock_skew(self) -> float: ...
    @property
    def timestamp_window(self) -> float: ...
    @property
    def reject_duplicates(self) -> bool: ...
    @property
    def public_url(self) -> str | None: ...
    @property
    def daily_limit(self) -> int | None: ...
    @property
    def media_processing(self) -> float: ...


@dataclass(frozen=True)
class Incoming:
    """One request, as read off the connection.

    Attributes:
        method: The HTTP method, as sent.
        path: The raw path, without the query string.
        query: The raw query string, without ``?``.
        host: The ``Host`` header (part of what an OAuth 1.0a client signs).
        authorization: The ``Authorization`` header, if any.
        content_type: The ``Content-Type`` header, if any.
        body: The request body (empty when there is none).
    """

    method: str
    path: str
    query: str = field(repr=False)
    host: str
    authorization: str | None = field(repr=False)
    content_type: str | None
    body: bytes = field(repr=False)


@dataclass
class Answer:
    """One answer to send, with what its record says about it.

    Attributes:
        status: The HTTP status.
        body: The body, encoded.
        content_type: The ``Content-Type`` header.
        headers: Further headers.
        error_code: Twitter's error code in the body, for the record.
        reason: A short, secret-free account of a refusal, for the record and the log.
    """

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    error_code: int | None = None
    reason: str | None = None


@dataclass
class Context:
    """What the record of the exchange will say, filled in as the request is handled."""

    endpoint: str
    verified: bool = False
    consumer_key: str | None = None
    screen_name: str | None = None
    user_id: str | None = None
    rate_headers: dict[str, str] = field(default_factory=dict)

    def record(self, method: str, path: str, answer: Answer) -> RequestRecord:
        """The record of this exchange, once answered (never with a secret in it)."""
        return RequestRecord(
            method=method,
            path=path,
            endpoint=self.endpoint,
            status=answer.status,
            verified=self.verified,
            error_code=answer.error_code,
            reason=answer.reason,
            consumer_key=self.consumer_key,
            screen_name=self.screen_name,
            user_id=self.user_id,
        )


class Reject(Exception):
    """Raised deep in the handling of a request to answer it with a refusal right away.

    Args:
        answer: The refusal to send.
    """

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.reason)
        self.answer = answer


def json_answer(status: int, payload: object, content_type: str = JSON) -> Answer:
    """A compact JSON answer."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Answer(status, body, content_type)


def v1_error(status: int, code: int, message: str, reason: str) -> Answer:
    """A v1.1 (and OAuth endpoint) error: ``{"errors": [{"code": ..., "message": ...}]}``."""
    answer = json_answer(status, {"errors": [{"code": code, "message": message}]})
    answer.error_code = code
    answer.reason = reason
    if status == 401:
        answer.headers["WWW-Authenticate"] = (
            f'OAuth realm="https://api.twitter.com", api_error_code={code}'
        )
    return answer


def problem(status: int, title: str, detail: str, reason: str, **extra: object) -> Answer:
    """A v2 error: an RFC 7807 problem document, with Twitter's extra members."""
    payload: dict[str, object] = {"title": title, "detail": detail, "type": "about:blank"}
    payload.update(extra)
    payload.setdefault("status", status)
    answer = json_answer(status, payload, PROBLEM)
    answer.reason = reason
    return answer


def invalid_request(message: str, reason: str) -> Answer:
    """A v2 400 for a request whose parameters or body do not make sense."""
    return problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        reason,
        type="https://api.twitter.com/2/problems/invalid-request",
        errors=[{"message": message}],
    )


def text_answer(status: int, text: str, reason: str | None = None) -> Answer:
    """A plain-text answer."""
    return Answer(status, text.encode(), TEXT, reason=reason)


def html_answer(status: int, page: str, reason: str | None = None) -> Answer:
    """An HTML page."""
    return Answer(status, page.encode(), HTML, reason=reason)


def form_answer(values: Mapping[str, str]) -> Answer:
    """A 200 with form-encoded values, as the OAuth endpoints answer."""
    # Twitter labels its form-encoded OAuth answers text/html; clients parse them regardless.
    return Answer(200, urlencode(values).encode(), HTML)
