"""The endpoints the offline Twitter serves, and the routes table that finds them.

Adding an endpoint is a method of :class:`Endpoints` and a line in ``_ROUTES``. Each one
authenticates through :class:`~._auth.Authenticator`, reads and changes the
:class:`~._registry.Registry`, and answers in Twitter's shape for its API: the OAuth
endpoints with forms and v1.1 errors, the authorize step with HTML pages, v2 with JSON and
problem documents, v1.1 with JSON and ``{"errors": [...]}``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from twcreds.testing import _pages
from twcreds.testing._auth import MSG_215, Authenticator, Caller
from twcreds.testing._exchange import (
    HTML,
    PROBLEM,
    Answer,
    Context,
    Incoming,
    Reject,
    Settings,
    form_answer,
    html_answer,
    invalid_request,
    json_answer,
    problem,
    text_answer,
    v1_error,
)
from twcreds.testing._media import (
    APPEND_LIMIT,
    LIMITS,
    MEDIA_TYPES,
    Upload,
    categories,
    parse_multipart,
    sniff,
)
from twcreds.testing._oauth2 import OAuth2Refusal, OAuth2Server, RedirectedError, TokenAnswer
from twcreds.testing._registry import DIGITS, Registry, User

__all__ = ["Endpoints"]

logger = logging.getLogger("twcreds.testing")

_MSG_417 = "Desktop applications only support the oauth_callback value 'oob'"
_MSG_453 = (
    "You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints "
    "(e.g. media post, oauth) only. If you need access to this endpoint, you may need a "
    "different access level. You can learn more here: https://developer.x.com/en/portal/product"
)
_OAUTH2_JSON = "application/json;charset=UTF-8"
_MSG_BAD_VERIFIER = "Error processing your OAuth request: Invalid oauth_verifier parameter"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _twitter_date(epoch: float) -> str:
    # By hand rather than strftime: %a and %b follow the process locale.
    t = time.gmtime(epoch)
    return (
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000 {t.tm_year}"
    )


_Kind = Literal["oauth", "oauth2", "page", "v2", "v1.1"]
# The OAuth 2.0 scopes each v2 endpoint needs, as X's API reference lists them.
_READ_ME = ("tweet.read", "users.read")
_WRITE_TWEETS = ("tweet.read", "tweet.write", "users.read")
_WRITE_MEDIA = ("media.write",)
#: X's limit for a post's text, in twitter-text's weighted characters.
MAX_WEIGHTED_LENGTH = 280
_MSG_TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length"
    " see https://github.com/twitter/twitter-text."
)
_PROBLEMS = "https://api.twitter.com/2/problems"
#: How long X keeps an uploaded media id usable.
_MEDIA_LIFETIME = 86400
_Endpoint = Callable[["Endpoints", Incoming, "re.Match[str]", Context], Answer]


@dataclass(frozen=True)
class _Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    name: str
    kind: _Kind
    handler: _Endpoint


class Endpoints:
    """Answers requests: finds the route, runs its endpoint with the registry's lock held.

    Args:
        registry: The state the endpoints read and change.
        settings: The fake's options, read on every request.
    """

    def __init__(self, registry: Registry, settings: Settings) -> None:
        self._registry = registry
        self._settings = settings
        self._oauth2 = OAuth2Server(registry, clock=lambda: time.time() + settings.clock_skew)
        self._auth = Authenticator(registry, settings, self._oauth2)

    @property
    def oauth2(self) -> OAuth2Server:
        """The OAuth 2.0 side, which :class:`~._server.FakeTwitter`'s helpers share."""
        return self._oauth2

    def dispatch(self, req: Incoming) -> tuple[Answer, Context]:
        """Answer one request.

        Returns:
            The answer, and what the record of the exchange is to say. An unexpected error
            is logged and answered with a 500 rather than raised.
        """
        route, match = _find(req.method, req.path)
        ctx = Context(endpoint=f"{req.method} {route.name}" if route else "unknown")
        try:
            with self._registry.lock:
                if route is None or match is None:
                    answer = _not_found(req.path)
                else:
                    try:
                        answer = route.handler(self, req, match, ctx)
                    except Reject as reject:
                        answer = reject.answer
                    # On every answer past authentication, refusals included, as Twitter does.
                    answer.headers.update(ctx.rate_headers)
        except Exception:
            logger.exception("FakeTwitter failed on %s %s", req.method, req.path)
            answer = text_answer(500, "FakeTwitter internal error", "internal error")
        return answer, ctx

    @staticmethod
    def endpoint(method: str, path: str) -> str:
        """The endpoint a request would reach, as records name it (``"unknown"``: none)."""
        route, _ = _find(method, path)
        return f"{method} {route.name}" if route is not None else "unknown"

    # --- the PIN flow -----------------------------------------------------------------------

    def _request_token(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        auth = self._auth.authenticate(req, ctx, expect="none")
        callback = auth.signed.callback
        if not callback:
            return v1_error(401, 215, MSG_215, "missing oauth_callback")
        if callback != "oob":
            return v1_error(403, 417, _MSG_417, "callback is not 'oob'")
        token, secret = self._registry.create_request_token(auth.consumer_key)
        return form_answer(
            {
                "oauth_token": token,
                "oauth_token_secret": secret,
                "oauth_callback_confirmed": "true" if self._settings.confirm_callback else "false",
            }
        )

    def _access_token(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        auth = self._auth.authenticate(req, ctx, expect="request")
        pending, token = auth.pending, auth.request_token
        assert pending is not None
        assert token is not None
        if pending.denied:
            return text_answer(401, _MSG_BAD_VERIFIER, "authorization was denied")
        if pending.user_id is None or pending.verifier is None:
            return text_answer(401, _MSG_BAD_VERIFIER, "request token not approved")
        if auth.signed.verifier is None or not secrets.compare_digest(
            auth.signed.verifier.encode(), pending.verifier.encode()
        ):
            return text_answer(401, _MSG_BAD_VERIFIER, "wrong verifier")
        access, secret, user = self._registry.exchange(token, auth.app)
        ctx.screen_name, ctx.user_id = user.screen_name, user.user_id
        return form_answer(
            {
                "oauth_token": access,
                "oauth_token_secret": secret,
                "user_id": user.user_id,
                "screen_name": user.screen_name,
            }
        )

    def _authorize_page(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        query = dict(parse_qsl(req.query))
        token = query.get("oauth_token", "")
        try:
            pending = self._registry.pending_token(token)
        except KeyError:
            page = _pages.invalid_token_page(detail="No valid oauth_token in this address.")
            return html_answer(400, page, "unknown or used request token")
        app = self._registry.known_app(pending.consumer_key)
        ctx.consumer_key = pending.consumer_key
        page = _pages.authorize_page(
            action=req.path,
            oauth_token=token,
            app_name=app.name,
            permissions=app.permissions,
            screen_name=query.get("screen_name", ""),
            known_users=self._registry.screen_names(),
        )
        return html_answer(200, page)

    def _authorize_submit(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        try:
            form = dict(parse_qsl(req.body.decode("utf-8")))
        except UnicodeDecodeError:
            form = {}
        token = form.get("oauth_token", "")
        pending = self._registry.request_token(token)
        if pending is None:
            page = _pages.invalid_token_page(detail="This request token is unknown or used.")
            return html_answer(400, page, "unknown or used request token")
        app = self._registry.known_app(pending.consumer_key)
        ctx.consumer_key = pending.consumer_key
        try:
            if form.get("action") == "cancel":
                self._registry.deny(token)
                page = _pages.denied_page(app_name=app.name)
                return html_answer(200, page, "denied by the user")
            pin = self._registry.approve(token, form.get("screen_name", ""), None)
        except KeyError:
            page = _pages.invalid_token_page(detail="This request token was already used.")
            return html_answer(400, page, "request token already approved or denied")
        except ValueError as exc:
            page = _pages.invalid_token_page(detail=str(exc))
            return html_answer(400, page, "bad screen name")
        user = self._registry.user(pending.user_id or "")
        ctx.screen_name, ctx.user_id = user.screen_name, user.user_id
        page = _pages.pin_page(app_name=app.name, screen_name=user.screen_name, pin=pin)
        return html_answer(200, page)

    # --- OAuth 2.0 ----------------------------------------------------------------------------

    def _oauth2_authorize_page(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        try:
            request = self._oauth2.authorization(req.query)
        except OAuth2Refusal as refusal:
            page = _pages.oauth2_error_page(detail=refusal.description)
            return html_answer(400, page, f"authorize refused: {refusal.description}")
        except RedirectedError as redirected:
            return _redirect(redirected.location, "authorize refused with a redirect")
        ctx.consumer_key = request.client_id
        page = _pages.oauth2_authorize_page(
            action=req.path,
            query=req.query,
            app_name=request.app_name,
            scopes=request.scopes,
            known_users=self._registry.screen_names(),
        )
        return html_answer(200, page)

    def _oauth2_authorize_submit(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        try:
            form = dict(parse_qsl(req.body.decode("utf-8")))
        except UnicodeDecodeError:
            form = {}
        query = form.get("query", "")
        try:
            if form.get("action") == "cancel":
                return _redirect(self._oauth2.deny(query), "denied by the user")
            user_id = self._registry.create_user(form.get("screen_name", ""))
            location = self._oauth2.approve(query, user_id)
        except OAuth2Refusal as refusal:
            page = _pages.oauth2_error_page(detail=refusal.description)
            return html_answer(400, page, f"authorize refused: {refusal.description}")
        except RedirectedError as redirected:
            return _redirect(redirected.location, "authorize refused with a redirect")
        except ValueError as exc:
            return html_answer(400, _pages.oauth2_error_page(detail=str(exc)), "bad screen name")
        user = self._registry.user(user_id)
        ctx.screen_name, ctx.user_id = user.screen_name, user.user_id
        return _redirect(location, None)

    def _oauth2_token(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        return self._oauth2_form(req, self._oauth2.token)

    def _oauth2_revoke(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        return self._oauth2_form(req, self._oauth2.revoke)

    def _oauth2_form(
        self, req: Incoming, serve: Callable[[str, str | None], TokenAnswer]
    ) -> Answer:
        body = _oauth2_body(req)
        if body is None:
            error = {"error": "invalid_request", "error_description": "The body is not a form."}
            return json_answer(400, error, _OAUTH2_JSON)
        done = serve(body, req.authorization)
        return Answer(done.status, done.body, _OAUTH2_JSON, dict(done.headers), reason=done.reason)

    # --- v2 ---------------------------------------------------------------------------------

    def _users_me(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        caller = self._auth.v2_caller(req, ctx, scopes=_READ_ME)
        self._billed(caller, ctx, "GET /2/users/me")
        user = caller.user
        data = {"id": user.user_id, "name": user.name, "username": user.screen_name}
        return json_answer(200, {"data": data})

    def _billed(self, caller: Caller, ctx: Context, endpoint: str) -> None:
        """X's checks on a billed call: the app enrolled, credits left, the daily cap.

        Raises:
            Reject: 403 ``client-not-enrolled``, 402 (no credits), or 429 (the account's
                24-hour cap for this endpoint; its headers come with every answer).
        """
        self._enrolled(caller)
        if self._registry.credits is not None and self._registry.credits <= 0:
            raise Reject(_no_credits())
        limit = self._settings.daily_limit
        if limit is None:
            return
        now = time.time() + self._settings.clock_skew
        count, reset = self._registry.count_daily(caller.user.user_id, endpoint, now)
        ctx.rate_headers.update(
            {
                "x-user-limit-24hour-limit": str(limit),
                "x-user-limit-24hour-remaining": str(max(0, limit - count)),
                "x-user-limit-24hour-reset": str(reset),
            }
        )
        if count > limit:
            raise Reject(
                problem(429, "Too Many Requests", "Too Many Requests", "daily limit reached")
            )

    def _enrolled(self, caller: Caller) -> None:
        if self._registry.enrolled(caller.app_id):
            return
        detail = (
            "When authenticating requests to the Twitter API v2 endpoints, you must use keys"
            " and tokens from a Twitter developer App that is attached to a Project. You can"
            " create a project via the developer portal."
        )
        payload = {
            "client_id": caller.app_id,
            "detail": detail,
            "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
            "title": "Client Forbidden",
            "required_enrollment": "Appropriate Level of API Access",
            "reason": "client-not-enrolled",
            "type": f"{_PROBLEMS}/client-forbidden",
        }
        answer = json_answer(403, payload, PROBLEM)
        answer.reason = "app not enrolled"
        raise Reject(answer)

    def _create_tweet(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        caller = self._auth.v2_caller(req, ctx, scopes=_WRITE_TWEETS, write=True)
        self._billed(caller, ctx, "POST /2/tweets")
        user = caller.user
        try:
            payload: Any = json.loads(req.body)
        except ValueError:
            return invalid_request("Request body is not JSON.", "not JSON")
        except RecursionError:
            # Nested deeper than the parser goes: no tweet is shaped like that.
            return invalid_request("Request body is nested too deeply.", "JSON nested too deeply")
        if not isinstance(payload, dict):
            return invalid_request("Request body is not a JSON object.", "not an object")
        media_ids = self._post_media(payload.get("media"), user.user_id)
        text = payload.get("text", "" if media_ids else None)
        if not isinstance(text, str) or not (text.strip() or media_ids):
            return invalid_request("Tweet text is empty or missing.", "empty text")
        if _weighted_length(text) > MAX_WEIGHTED_LENGTH:
            return problem(403, "Forbidden", _MSG_TOO_LONG, "text too long")
        reply_to = self._reply_to(payload.get("reply"))
        if self._is_duplicate(user.user_id, text):
            return problem(
                403,
                "Forbidden",
                "You are not allowed to create a Tweet with duplicate content.",
                "duplicate tweet",
            )
        if not self._registry.spend_credit():
            raise Reject(_no_credits())
        tweet = self._registry.add_tweet(
            caller.app_id, user, text, "v2", media_ids=media_ids, reply_to=reply_to
        )
        data = {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
        return json_answer(201, {"data": data})

    def _post_media(self, media: object, user_id: str) -> tuple[str, ...]:
        """A post's media ids, each uploaded by its author and processed.

        Raises:
            Reject: 400 for ids that are malformed, unknown, someone else's, not yet
                processed, or too many for one post.
        """
        if media is None:
            return ()
        ids = media.get("media_ids") if isinstance(media, dict) else None
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= 4
            or not all(isinstance(i, str) and DIGITS.fullmatch(i) for i in ids)
        ):
            raise Reject(invalid_request("Your media IDs are invalid.", "malformed media ids"))
        uploads = [self._registry.media.get(media_id) for media_id in ids]
        for upload in uploads:
            if upload is None or upload.user_id != user_id:
                raise Reject(invalid_request("Your media IDs are invalid.", "unknown media id"))
            if upload.state != "succeeded":
                message = f"Media id {upload.id} is not ready: its processing has not succeeded."
                raise Reject(invalid_request(message, f"media {upload.state}"))
        if len(uploads) > 1 and any(u is not None and u.kind != "image" for u in uploads):
            message = "A post holds up to 4 images, or one GIF, or one video."
            raise Reject(invalid_request(message, "media mix"))
        return tuple(ids)

    def _reply_to(self, reply: object) -> str | None:
        if reply is None:
            return None
        tweet_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if not isinstance(tweet_id, str) or self._registry.tweet(tweet_id) is None:
            message = "The post you are replying to does not exist or is not visible to you."
            raise Reject(invalid_request(message, "reply to an unknown tweet"))
        return tweet_id

    # --- v2 media -----------------------------------------------------------------------------

    def _media_caller(self, req: Incoming, ctx: Context) -> Caller:
        caller = self._auth.v2_caller(req, ctx, scopes=_WRITE_MEDIA, write=True)
        self._enrolled(caller)
        return caller

    def _media_upload(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        caller = self._media_caller(req, ctx)
        parts = parse_multipart(req.content_type, req.body)
        if parts is None or "media" not in parts:
            return invalid_request("The media field is missing.", "no media part")
        data = parts["media"]
        media_type = _part_text(parts.get("media_type")) or sniff(bytes(data[:16])) or ""
        kind = MEDIA_TYPES.get(media_type)
        if kind != "image":
            message = (
                "One-shot uploads take images (image/jpeg, image/png, image/webp); upload"
                " GIFs and videos with initialize, append and finalize."
            )
            return invalid_request(message, "one-shot upload of a non-image")
        category = _part_text(parts.get("media_category")) or "tweet_image"
        if category not in categories(kind):
            return invalid_request(f"media_category {category} does not fit.", "bad category")
        if not len(data):
            return invalid_request("The media field is empty.", "empty media")
        if len(data) > LIMITS[kind]:
            return _too_large(LIMITS[kind])
        upload = self._registry.media.create(
            caller.user.user_id, caller.user.screen_name, media_type, category, len(data)
        )
        self._registry.media.hold_whole(upload, data)
        return json_answer(200, {"data": self._media_data(upload, size=True)})

    def _media_initialize(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        caller = self._media_caller(req, ctx)
        try:
            payload: Any = json.loads(req.body)
        except (ValueError, RecursionError):
            return invalid_request("Request body is not JSON.", "not JSON")
        payload = payload if isinstance(payload, dict) else {}
        media_type = payload.get("media_type")
        total = payload.get("total_bytes")
        kind = MEDIA_TYPES.get(media_type) if isinstance(media_type, str) else None
        if kind is None or not isinstance(media_type, str):
            return invalid_request("media_type is missing or not supported.", "bad media type")
        if not isinstance(total, int) or isinstance(total, bool) or total < 1:
            return invalid_request("total_bytes must be a positive integer.", "bad total_bytes")
        category = payload.get("media_category") or categories(kind)[0]
        if category not in categories(kind):
            return invalid_request(f"media_category {category} does not fit.", "bad category")
        if total > LIMITS[kind]:
            return _too_large(LIMITS[kind])
        upload = self._registry.media.create(
            caller.user.user_id, caller.user.screen_name, media_type, category, total
        )
        return json_answer(200, {"data": self._media_data(upload)})

    def _own_upload(self, caller: Caller, media_id: str) -> Upload:
        upload = self._registry.media.get(media_id)
        if upload is None or upload.user_id != caller.user.user_id:
            raise Reject(invalid_request("The media id is invalid.", "unknown media id"))
        return upload

    def _media_append(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        caller = self._media_caller(req, ctx)
        upload = self._own_upload(caller, match["id"])
        if upload.state != "initialized":
            return invalid_request("This upload was already finalized.", "append after finalize")
        parts = parse_multipart(req.content_type, req.body)
        if parts is None or "media" not in parts:
            return invalid_request("The media field is missing.", "no media part")
        index_text = _part_text(parts.get("segment_index")) or ""
        if not DIGITS.fullmatch(index_text) or int(index_text) > 999:
            return invalid_request("segment_index must be 0 to 999.", "bad segment_index")
        index, data = int(index_text), parts["media"]
        if len(data) > APPEND_LIMIT:
            return _too_large(APPEND_LIMIT)
        held = sum(size for i, size in upload.parts.items() if i != index)
        if held + len(data) > upload.total_bytes:
            message = "The parts appended exceed the total_bytes given at initialize."
            return invalid_request(message, "parts exceed total_bytes")
        self._registry.media.write_part(upload, index, data)
        expires = int(time.time() + self._settings.clock_skew) + _MEDIA_LIFETIME
        return json_answer(200, {"data": {"expires_at": expires}})

    def _media_finalize(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        caller = self._media_caller(req, ctx)
        upload = self._own_upload(caller, match["id"])
        if upload.state != "initialized":
            return invalid_request("This upload was already finalized.", "finalized twice")
        if sum(upload.parts.values()) != upload.total_bytes or sorted(upload.parts) != list(
            range(len(upload.parts))
        ):
            message = "The parts appended do not add up to the total_bytes given at initialize."
            return invalid_request(message, "parts do not add up")
        store = self._registry.media
        store.assemble(upload)
        if upload.kind == "image":
            upload.state = "succeeded"
            return json_answer(200, {"data": self._media_data(upload, size=True)})
        upload.state = "pending"
        upload.finalized_at = time.time() + self._settings.clock_skew
        upload.failure, store.fail_next = store.fail_next, None
        data = self._media_data(upload, size=True)
        data["processing_info"] = {
            "state": "pending",
            "check_after_secs": math.ceil(self._settings.media_processing),
        }
        return json_answer(200, {"data": data})

    def _media_status(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        caller = self._media_caller(req, ctx)
        query = dict(parse_qsl(req.query))
        if query.get("command", "STATUS") != "STATUS":
            return invalid_request("command must be STATUS.", "bad command")
        upload = self._own_upload(caller, query.get("media_id", ""))
        now = time.time() + self._settings.clock_skew
        processing = self._settings.media_processing
        self._registry.media.advance(upload, now, processing)
        data = self._media_data(upload)
        if upload.kind != "image":
            info: dict[str, object] = {"state": upload.state}
            if upload.state == "in_progress":
                left = processing - (now - upload.finalized_at)
                info["check_after_secs"] = max(1, math.ceil(left))
                info["progress_percent"] = int(100 * (1 - left / processing))
            elif upload.state == "failed":
                info["error"] = {"code": 1, "name": "InvalidMedia", "message": upload.failure}
            else:
                info["progress_percent"] = 100
            data["processing_info"] = info
        return json_answer(200, {"data": data})

    @staticmethod
    def _media_data(upload: Upload, *, size: bool = False) -> dict[str, object]:
        data: dict[str, object] = {
            "id": upload.id,
            "media_key": upload.media_key,
            "expires_after_secs": _MEDIA_LIFETIME,
        }
        if size:
            data["size"] = upload.size
        return data

    def _delete_tweet(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        user = self._auth.v2_caller(req, ctx, scopes=_WRITE_TWEETS, write=True).user
        tweet_id = match["id"]
        if not DIGITS.fullmatch(tweet_id):
            return invalid_request("The id is not a tweet id.", "bad id")
        tweet = self._registry.tweet(tweet_id)
        if tweet is None:
            return problem(
                404,
                "Not Found Error",
                f"Could not find tweet with id: [{tweet_id}].",
                "no such tweet",
                type="https://api.twitter.com/2/problems/resource-not-found",
            )
        if tweet.user_id != user.user_id:
            return problem(
                403, "Forbidden", "You are not allowed to delete this Tweet.", "not the author"
            )
        self._registry.delete_tweet(tweet_id)
        return json_answer(200, {"data": {"deleted": True}})

    # --- v1.1 -------------------------------------------------------------------------------

    def _verify_credentials(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        _, user = self._auth.user_context(req, ctx, "v1.1")
        if not self._settings.legacy_v1:
            return v1_error(403, 453, _MSG_453, "v1.1 not in this tier")
        return json_answer(200, self._v1_user(user))

    def _settings_json(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        _, user = self._auth.user_context(req, ctx, "v1.1")
        if not self._settings.legacy_v1:
            return v1_error(403, 453, _MSG_453, "v1.1 not in this tier")
        settings = {
            "screen_name": user.screen_name,
            "protected": False,
            "language": "en",
            "always_use_https": True,
            "geo_enabled": False,
            "discoverable_by_email": False,
            "discoverable_by_mobile_phone": False,
            "use_cookie_personalization": False,
            "allow_contributor_request": "none",
            "time_zone": {"name": "UTC", "utc_offset": 0, "tzinfo_name": "Etc/UTC"},
            "sleep_time": {"enabled": False, "end_time": None, "start_time": None},
        }
        return json_answer(200, settings)

    def _statuses_update(self, req: Incoming, match: re.Match[str], ctx: Context) -> Answer:
        auth, user = self._auth.user_context(req, ctx, "v1.1")
        assert auth.access is not None
        if not self._settings.legacy_v1:
            return v1_error(403, 453, _MSG_453, "v1.1 not in this tier")
        if auth.access.permissions != "read-write":
            message = "Application cannot perform write actions."
            return v1_error(403, 261, message, "read-only app")
        text = dict(auth.signed.params).get("status", "")
        if not text.strip():
            message = "Missing required parameter: status."
            return v1_error(403, 170, message, "empty text")
        if self._is_duplicate(user.user_id, text):
            return v1_error(403, 187, "Status is a duplicate.", "duplicate tweet")
        tweet = self._registry.add_tweet(auth.consumer_key, user, text, "v1.1")
        status = {
            "created_at": _twitter_date(time.time()),
            "id": int(tweet.id),
            "id_str": tweet.id,
            "text": tweet.text,
            "truncated": False,
            "source": f'<a href="https://example.com" rel="nofollow">{auth.app.name}</a>',
            "user": self._v1_user(user),
        }
        return json_answer(200, status)

    # --- helpers ----------------------------------------------------------------------------

    def _v1_user(self, user: User) -> dict[str, object]:
        return {
            "id": int(user.user_id),
            "id_str": user.user_id,
            "name": user.name,
            "screen_name": user.screen_name,
            "location": "",
            "description": "",
            "protected": False,
            "verified": False,
            "followers_count": 0,
            "friends_count": 0,
            "statuses_count": self._registry.tweet_count(user.user_id),
        }

    def _is_duplicate(self, user_id: str, text: str) -> bool:
        return self._settings.reject_duplicates and self._registry.has_tweet(user_id, text)


def _oauth2_body(req: Incoming) -> str | None:
    """The token or revoke call's parameters as a form, for oauthlib; None if unreadable.

    RFC 6749 wants a form. X also takes a JSON object, and twitter-api-v2 (the most used
    Node client) sends one (its check for ``/2/oauth2`` reads the URL's password, not its
    path): the object's strings become the form, ``null`` members are left out.
    """
    try:
        text = req.body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    kind = (req.content_type or "").split(";")[0].strip().lower()
    if kind != "application/json":
        return text
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not all(
        isinstance(value, str) or value is None for value in data.values()
    ):
        return None
    return urlencode([(key, value) for key, value in data.items() if value is not None])


def _weighted_length(text: str) -> int:
    """A text's length as X counts it (twitter-text: URLs 23, CJK and emoji 2)."""
    if len(text) <= MAX_WEIGHTED_LENGTH // 2:
        return len(text)
    from twitter_text import parse_tweet  # lazy: it compiles large regexes on import

    return int(parse_tweet(text).weightedLength)


def _part_text(part: memoryview | None) -> str | None:
    if part is None or len(part) > 100:
        return None
    try:
        return bytes(part).decode("ascii").strip() or None
    except UnicodeDecodeError:
        return None


def _no_credits() -> Answer:
    return problem(
        402,
        "CreditsDepleted",
        "Your enrolled account does not have any credits to fulfill this request.",
        "no credits left",
        type=f"{_PROBLEMS}/credits",
    )


def _too_large(limit: int) -> Answer:
    return problem(
        400,
        "Invalid Request",
        f"File size exceeds {limit} bytes.",
        "media too large",
        type=f"{_PROBLEMS}/invalid-request",
    )


def _redirect(location: str, reason: str | None) -> Answer:
    # A browser follows it to the app's redirect URI (the loopback listener of a CLI).
    return Answer(302, b"", HTML, headers={"Location": location}, reason=reason)


def _not_found(path: str) -> Answer:
    if path.startswith("/2/"):
        return problem(
            404,
            "Not Found Error",
            "Sorry, that page does not exist",
            "unknown endpoint",
            type="https://api.twitter.com/2/problems/resource-not-found",
        )
    return v1_error(404, 34, "Sorry, that page does not exist", "unknown endpoint")


# --- routing --------------------------------------------------------------------------------


def _route(methods: str, pattern: str, kind: _Kind, handler: _Endpoint) -> _Route:
    name = re.sub(r"\(\?P<(\w+)>[^)]*\)", r":\1", pattern).replace("\\", "")
    return _Route(frozenset(methods.split()), re.compile(pattern), name, kind, handler)


_ROUTES = (
    _route("GET POST", r"/oauth/request_token", "oauth", Endpoints._request_token),
    _route("GET", r"/oauth/authorize", "page", Endpoints._authorize_page),
    _route("GET", r"/oauth/authenticate", "page", Endpoints._authorize_page),
    _route("POST", r"/oauth/authorize", "page", Endpoints._authorize_submit),
    _route("POST", r"/oauth/authenticate", "page", Endpoints._authorize_submit),
    _route("GET POST", r"/oauth/access_token", "oauth", Endpoints._access_token),
    _route("GET", r"/i/oauth2/authorize", "page", Endpoints._oauth2_authorize_page),
    _route("POST", r"/i/oauth2/authorize", "page", Endpoints._oauth2_authorize_submit),
    _route("POST", r"/2/oauth2/token", "oauth2", Endpoints._oauth2_token),
    _route("POST", r"/2/oauth2/revoke", "oauth2", Endpoints._oauth2_revoke),
    _route("GET", r"/2/users/me", "v2", Endpoints._users_me),
    _route("POST", r"/2/media/upload", "v2", Endpoints._media_upload),
    _route("GET", r"/2/media/upload", "v2", Endpoints._media_status),
    _route("POST", r"/2/media/upload/initialize", "v2", Endpoints._media_initialize),
    _route("POST", r"/2/media/upload/(?P<id>[0-9]+)/append", "v2", Endpoints._media_append),
    _route("POST", r"/2/media/upload/(?P<id>[0-9]+)/finalize", "v2", Endpoints._media_finalize),
    _route("POST", r"/2/tweets", "v2", Endpoints._create_tweet),
    _route("DELETE", r"/2/tweets/(?P<id>[^/]+)", "v2", Endpoints._delete_tweet),
    _route("GET", r"/1\.1/account/verify_credentials\.json", "v1.1", Endpoints._verify_credentials),
    _route("GET", r"/1\.1/account/settings\.json", "v1.1", Endpoints._settings_json),
    _route("POST", r"/1\.1/statuses/update\.json", "v1.1", Endpoints._statuses_update),
)


def _find(method: str, path: str) -> tuple[_Route | None, re.Match[str] | None]:
    for route in _ROUTES:
        match = route.pattern.fullmatch(path)
        if match is not None and method in route.methods:
            return route, match
    return None, None
