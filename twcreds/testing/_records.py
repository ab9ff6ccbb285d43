"""What the offline Twitter lets a test observe: the tweets it holds and the requests it served.

Records are small frozen dataclasses, safe to keep after the server stopped. They never hold
a secret: no consumer secret, no token secret, no access token, no ``Authorization`` header,
no query string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["FaultKind", "MediaRecord", "RequestRecord", "TweetRecord"]

#: The failures :meth:`FakeTwitter.fail_next` can inject.
FaultKind = Literal["close", "hang", "html", "garbage"]


@dataclass(frozen=True)
class TweetRecord:
    """A tweet the fake holds (deleted tweets are dropped from :attr:`FakeTwitter.tweets`).

    Attributes:
        id: The tweet id, digits as a string (as v2 sends it).
        text: The text as posted.
        screen_name: The author's screen name, without ``@``.
        user_id: The author's user id.
        consumer_key: The consumer key of the app that posted it (OAuth 1.0a), or its
            OAuth 2.0 client id.
        api: ``"v2"`` for ``POST /2/tweets``, ``"v1.1"`` for ``statuses/update``.
        media_ids: The ids of its media (see :attr:`FakeTwitter.media`), in order.
        reply_to: The id of the tweet it answers, if any.
    """

    id: str
    text: str
    screen_name: str
    user_id: str
    consumer_key: str
    api: Literal["v2", "v1.1"] = "v2"
    media_ids: tuple[str, ...] = ()
    reply_to: str | None = None


@dataclass(frozen=True)
class MediaRecord:
    """A media item uploaded to the fake (see :meth:`FakeTwitter.media_content` for its bytes).

    Attributes:
        id: The media id, digits as a string.
        media_key: X's media key (``3_...`` image, ``16_...`` GIF, ``7_...`` video).
        media_type: Its MIME type, as given at upload or sniffed.
        category: X's media category (``tweet_image``, ``tweet_video``, ...).
        size: The bytes held (0 until the upload is finalized).
        sha256: Their SHA-256, hex (empty until finalized).
        state: ``"initialized"`` (parts still coming), ``"pending"``, ``"in_progress"``,
            ``"succeeded"`` or ``"failed"``.
        screen_name: Who uploaded it.
    """

    id: str
    media_key: str
    media_type: str
    category: str
    size: int
    sha256: str
    state: str
    screen_name: str


@dataclass(frozen=True)
class RequestRecord:
    """One request the fake answered (or, for an injected fault, did not).

    Attributes:
        method: The HTTP method, upper case.
        path: The path, without the query string.
        endpoint: The route that matched, such as ``"POST /2/tweets"`` or
            ``"DELETE /2/tweets/:id"``; ``"unknown"`` when none did.
        status: The HTTP status sent; ``0`` when no answer was sent (a ``"close"`` or
            ``"hang"`` fault).
        verified: True when the request carried a valid OAuth 1.0a signature for known,
            live credentials, or a live OAuth 2.0 bearer token with the endpoint's scopes
            (whatever the endpoint answered next). The OAuth 2.0 token endpoint's own
            calls are never marked verified: their client authentication is not a user's.
        error_code: Twitter's error code in the answer (32, 89, 135, 215, 453, ...), if any;
            v2 answers carry none (their ``reason`` names the cause).
        reason: A short, secret-free account of a refusal or a fault, such as
            ``"bad signature"``, ``"revoked token"``, ``"expired bearer token"``,
            ``"invalid_request: spent or revoked refresh token"`` or ``"fault: close"``;
            None on success.
        consumer_key: The consumer key the request claimed, or the OAuth 2.0 client id its
            bearer token was issued to, if any.
        screen_name: The account the request acted for, once known.
        user_id: That account's user id, once known.
    """

    method: str
    path: str
    endpoint: str
    status: int
    verified: bool = False
    error_code: int | None = None
    reason: str | None = None
    consumer_key: str | None = None
    screen_name: str | None = None
    user_id: str | None = None
