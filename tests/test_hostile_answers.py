"""Answers no honest Twitter sends, served for real on 127.0.0.1: each is one twcreds error.

A hostile or broken server (a proxy, a captive portal, a fake) can answer anything: bytes
that are not UTF-8, JSON that is not an object or nests 100,000 levels deep, a rate-limit
reset in the year 33658, terminal escapes in an error message, a screen name that is a
path. Each must come out of the public API as an error of our tree with a plain message,
and never with a secret anywhere in the exception, its chain or its traceback.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from twython import Twython

from tests.conftest import CANARY, write_private
from twcreds import (
    Account,
    App,
    AuthorizationError,
    CredentialsRejectedError,
    PendingAuthorization,
    RateLimitError,
    TwitterAPIError,
    complete_authorization,
    make_client,
    post_tweet,
    start_authorization,
    upload_media,
    verify_account,
)
from twcreds.cli import main
from twcreds.store import save_pending

REQUEST_TOKEN = "/oauth/request_token"
ACCESS_TOKEN = "/oauth/access_token"
USERS_ME = "/2/users/me"
TWEETS = "/2/tweets"
#: Deeper than any recursion limit: json raises RecursionError, not ValueError.
DEEP = "[" * 100_000 + "]" * 100_000
#: What a terminal acts on: ESC (a clear-screen sequence), BEL, CR, a C1 CSI, a bidi override.
CONTROLS = ("\x1b", "\x07", "\r", "\x9b", "\u202e")
HOSTILE_TEXT = "\x1b[2J\x07fake line\rover\x9b31m\u202eevil"

APP = App(consumer_key="hostile-app-key", consumer_secret=CANARY + "cs")
ACCOUNT = Account(
    consumer_key="hostile-app-key",
    consumer_secret=CANARY + "cs",
    access_token="42-hostile-token",
    access_token_secret=CANARY + "ats",
)


# --- a server that answers whatever the test says ------------------------------------------


class Hostile(ThreadingHTTPServer):
    """Answers each path with a canned (status, headers, body); 404 for anything else."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(
        self, path: str, status: int, body: bytes | str, headers: dict[str, str] | None = None
    ) -> None:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        self.answers[path] = (status, headers or {}, raw)


class _Handler(BaseHTTPRequestHandler):
    server: Hostile

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        self.server.paths.append(path)
        status, headers, body = self.server.answers.get(path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def _hostile_server() -> Iterator[Hostile]:
    # One server for the module: shutting one down waits out serve_forever's poll.
    server = Hostile()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def hostile(_hostile_server: Hostile) -> Hostile:
    """The server, with no answers set and no requests seen."""
    _hostile_server.answers.clear()
    _hostile_server.paths.clear()
    return _hostile_server


def pending_at(server: Hostile) -> PendingAuthorization:
    """A step-1 state pointing at ``server``, its secrets canaries."""
    return PendingAuthorization(
        auth_url=f"{server.url}/oauth/authorize?oauth_token=req-token",
        oauth_token="req-token",
        oauth_token_secret=CANARY + "rts",
        app=APP,
        api_base=server.url,
    )


def assert_no_canary(error: BaseException) -> None:
    """No trace of the canary in the error, anything chained to it, or its traceback."""
    shown = ["".join(traceback.format_exception(error))]
    chain: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        shown += [str(current), repr(current), repr(current.args), repr(vars(current))]
        todo += [current.__cause__, current.__context__]
    assert CANARY not in "\n".join(shown)


def assert_printable(message: str) -> None:
    assert not [char for char in CONTROLS if char in message], message


# --- item 1: the PIN flow -------------------------------------------------------------------

STEP1_NOT_UTF8 = (
    f"oauth_token=req-token&oauth_token_secret={CANARY}rts\xff&oauth_callback_confirmed=true"
).encode("latin-1")
STEP2_NOT_UTF8 = (
    f"oauth_token=42-new-token&oauth_token_secret={CANARY}new\xff&user_id=42&screen_name=bot"
).encode("latin-1")


def test_a_step_one_answer_that_is_not_utf8_is_an_authorization_error(hostile: Hostile) -> None:
    hostile.answer(REQUEST_TOKEN, 200, STEP1_NOT_UTF8)
    with pytest.raises(AuthorizationError, match=r"step 1 of 2.*could not be read") as caught:
        start_authorization(APP, api_base=hostile.url)
    assert_no_canary(caught.value)


def test_a_step_two_answer_that_is_not_utf8_is_an_authorization_error(hostile: Hostile) -> None:
    hostile.answer(ACCESS_TOKEN, 200, STEP2_NOT_UTF8)
    with pytest.raises(AuthorizationError, match=r"step 2 of 2.*could not be read") as caught:
        complete_authorization(pending_at(hostile), "1234567")
    assert_no_canary(caught.value)


@pytest.mark.parametrize("status", [201, 400, 503])
def test_a_step_one_error_answer_holding_a_secret_is_not_chained(
    hostile: Hostile, status: int
) -> None:
    body = f"oauth_token=req-token&oauth_token_secret={CANARY}rts&oauth_callback_confirmed=true"
    hostile.answer(REQUEST_TOKEN, status, body)
    with pytest.raises(AuthorizationError, match=f"step 1 of 2.*{status}") as caught:
        start_authorization(APP, api_base=hostile.url)
    assert_no_canary(caught.value)


@pytest.mark.parametrize("body", ["[1,2]", '"x"', "null", "7", DEEP, b"\xff\xfe{"])
def test_a_step_two_401_whose_body_is_not_an_object_is_a_rejected_pin(
    hostile: Hostile, body: str | bytes
) -> None:
    hostile.answer(ACCESS_TOKEN, 401, body, {"Content-Type": "application/json"})
    with pytest.raises(AuthorizationError, match=r"step 2 of 2.*rejected the PIN") as caught:
        complete_authorization(pending_at(hostile), "1234567")
    assert_no_canary(caught.value)


@pytest.mark.parametrize("pin", [10**5000, 10**7, 12345678], ids=["10**5000", "10**7", "8-digits"])
def test_an_int_pin_longer_than_twitters_is_refused_before_any_request(
    hostile: Hostile, pin: int
) -> None:
    with pytest.raises(AuthorizationError, match=r"step 2 of 2.*7 digits") as caught:
        complete_authorization(pending_at(hostile), pin)
    assert_no_canary(caught.value)
    assert hostile.paths == []


def test_an_access_token_twitter_mangled_is_refused_without_its_secret(hostile: Hostile) -> None:
    # The token's digits disagree with user_id: the models refuse it; nothing may carry it on.
    body = f"oauth_token=7-new-token&oauth_token_secret={CANARY}new&user_id=42&screen_name=bot"
    hostile.answer(ACCESS_TOKEN, 200, body)
    with pytest.raises(AuthorizationError, match="step 2 of 2") as caught:
        complete_authorization(pending_at(hostile), "1234567")
    assert_no_canary(caught.value)


# --- item 7: what step 2 says the account is -----------------------------------------------


@pytest.mark.parametrize(
    "screen_name",
    ["/../../../x", "..", "bot.name", "a" * 16, "b\u00f6t", "bot%00", "%E2%80%AEbot", "bot-1"],
)
def test_a_screen_name_twitter_cannot_have_is_refused(hostile: Hostile, screen_name: str) -> None:
    body = f"oauth_token=42-new&oauth_token_secret={CANARY}new&user_id=42&screen_name={screen_name}"
    hostile.answer(ACCESS_TOKEN, 200, body)
    with pytest.raises(AuthorizationError, match=r"step 2 of 2.*screen name") as caught:
        complete_authorization(pending_at(hostile), "1234567")
    assert "letters, digits or underscores" in str(caught.value)
    assert_no_canary(caught.value)
    assert_printable(str(caught.value))


@pytest.mark.parametrize("user_id", ["-42", "4 2", "\u0664\u0662", "42x", "1" * 21, "0x2a"])
def test_a_user_id_that_is_not_digits_is_refused(hostile: Hostile, user_id: str) -> None:
    body = f"oauth_token=new&oauth_token_secret={CANARY}new&user_id={user_id}&screen_name=bot"
    hostile.answer(ACCESS_TOKEN, 200, body)
    with pytest.raises(AuthorizationError, match=r"step 2 of 2.*user id") as caught:
        complete_authorization(pending_at(hostile), "1234567")
    assert "digits" in str(caught.value)
    assert_no_canary(caught.value)


@pytest.mark.parametrize("screen_name", ["a", "Bot_2", "x" * 15, "___"])
def test_every_real_screen_name_is_taken(hostile: Hostile, screen_name: str) -> None:
    body = f"oauth_token=42-new&oauth_token_secret={CANARY}new&user_id=42&screen_name={screen_name}"
    hostile.answer(ACCESS_TOKEN, 200, body)
    account = complete_authorization(pending_at(hostile), "1234567")
    assert (account.screen_name, account.user_id) == (screen_name, "42")


# --- item 1, the command line ---------------------------------------------------------------


def _one_error_line(capsys: pytest.CaptureFixture[str], status: int) -> str:
    out, err = capsys.readouterr()
    assert status == 1
    assert CANARY not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("twcreds: error: ")
    assert "bug in twcreds" not in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "answer",
    [(200, STEP2_NOT_UTF8), (401, b"[1,2]"), (401, b"null"), (401, DEEP.encode("ascii"))],
    ids=["not-utf8", "401-list", "401-null", "401-deep"],
)
def test_the_cli_second_step_fails_in_one_line_without_the_secret(
    hostile: Hostile,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    answer: tuple[int, bytes],
) -> None:
    hostile.answer(ACCESS_TOKEN, *answer)
    state = tmp_path / "pending.json"
    save_pending(state, pending_at(hostile))
    status = main(["authorize", "--state", str(state), "--pin", "123"])
    assert "step 2 of 2" in _one_error_line(capsys, status)


def test_the_cli_second_step_refuses_a_path_as_screen_name(
    hostile: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = f"oauth_token=42-new&oauth_token_secret={CANARY}new&user_id=42&screen_name=/../../../x"
    hostile.answer(ACCESS_TOKEN, 200, body)
    state = tmp_path / "pending.json"
    save_pending(state, pending_at(hostile))
    save = tmp_path / "accounts.json"
    status = main(["authorize", "--state", str(state), "--pin", "123", "--save", str(save)])
    assert "screen name" in _one_error_line(capsys, status)
    assert not save.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pending.json"]


def test_the_cli_first_step_fails_in_one_line_without_the_secret(
    hostile: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.answer(REQUEST_TOKEN, 200, STEP1_NOT_UTF8)
    app_file = write_private(tmp_path / "app.txt", f"hostile-app-key\n{CANARY}cs\n")
    state = tmp_path / "pending.json"
    argv = ["authorize", str(app_file), "--url-only", "--state", str(state)]
    status = main([*argv, "--api-base", hostile.url])
    assert "step 1 of 2" in _one_error_line(capsys, status)
    assert not state.exists()


# --- item 2: verify_account and post_tweet ----------------------------------------------------

CALLS: dict[str, tuple[str, Callable[[Twython], object]]] = {
    "verify": (USERS_ME, verify_account),
    "post": (TWEETS, lambda client: post_tweet(client, "hello")),
}


@pytest.mark.parametrize("which", CALLS)
@pytest.mark.parametrize("message", ["null", "7", "false", "[]", '{"a": 1}'])
@pytest.mark.parametrize("status", [400, 401, 403, 500])
def test_an_error_message_that_is_not_a_string_is_an_api_error(
    hostile: Hostile, which: str, message: str, status: int
) -> None:
    path, call = CALLS[which]
    hostile.answer(path, status, f'{{"errors": [{{"message": {message}, "code": 87}}]}}')
    with (
        make_client(ACCOUNT, api_base=hostile.url) as client,
        pytest.raises(TwitterAPIError) as caught,
    ):
        call(client)
    assert (caught.value.status, caught.value.code) == (status, 87)
    assert isinstance(caught.value, CredentialsRejectedError) == (status == 401)
    assert_no_canary(caught.value)


@pytest.mark.parametrize("which", CALLS)
@pytest.mark.parametrize("status", [200, 400, 401, 429, 503])
def test_a_body_nested_too_deeply_is_an_api_error(
    hostile: Hostile, which: str, status: int
) -> None:
    path, call = CALLS[which]
    hostile.answer(path, status, DEEP, {"Content-Type": "application/json"})
    with (
        make_client(ACCOUNT, api_base=hostile.url) as client,
        pytest.raises(TwitterAPIError) as caught,
    ):
        call(client)
    assert caught.value.status == status
    assert_no_canary(caught.value)


@pytest.mark.parametrize("which", CALLS)
@pytest.mark.parametrize(
    "body", ['{"errors": 5}', '{"errors": "x"}', '{"errors": [null]}', "[1]", '"x"', "null"]
)
def test_an_error_body_of_an_odd_shape_is_an_api_error(
    hostile: Hostile, which: str, body: str
) -> None:
    path, call = CALLS[which]
    hostile.answer(path, 400, body)
    with (
        make_client(ACCOUNT, api_base=hostile.url) as client,
        pytest.raises(TwitterAPIError) as caught,
    ):
        call(client)
    assert caught.value.status == 400


def test_verify_account_with_an_account_survives_a_null_message(hostile: Hostile) -> None:
    hostile.answer(USERS_ME, 400, '{"errors": [{"message": null}]}')
    with pytest.raises(TwitterAPIError, match="answered 400"):
        verify_account(ACCOUNT, api_base=hostile.url)


@pytest.mark.parametrize(
    "reset", ["100000000000000000000", "1000000000000", "-100000000000000", "1e20", "9" * 5000]
)
def test_an_absurd_rate_limit_reset_is_unknown(hostile: Hostile, reset: str) -> None:
    hostile.answer(
        USERS_ME,
        429,
        '{"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}',
        {"x-rate-limit-reset": reset},
    )
    with pytest.raises(RateLimitError) as caught:
        verify_account(ACCOUNT, api_base=hostile.url)
    assert (caught.value.status, caught.value.reset_at, caught.value.retry_after) == (
        429,
        None,
        None,
    )
    assert "resets at" not in str(caught.value)


def test_a_sane_rate_limit_reset_is_kept(hostile: Hostile) -> None:
    reset = int(time.time()) + 600
    hostile.answer(
        USERS_ME, 429, '{"title": "Too Many Requests"}', {"x-rate-limit-reset": str(reset)}
    )
    with pytest.raises(RateLimitError) as caught:
        verify_account(ACCOUNT, api_base=hostile.url)
    assert caught.value.reset_at is not None
    assert caught.value.reset_at.timestamp() == reset
    assert caught.value.retry_after is not None
    assert 590 <= caught.value.retry_after <= 600


# --- item 3: what the server says is shown escaped ----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"errors": [{"message": %s, "code": 34}]}',
        '{"errors": [{"detail": %s}]}',
        '{"detail": %s, "type": "about:blank"}',
        '{"title": %s}',
        "%s: not JSON at all",
    ],
    ids=["v1-message", "v2-errors-detail", "problem-detail", "problem-title", "text"],
)
@pytest.mark.parametrize("status", [400, 401, 403, 429])
def test_control_characters_from_the_server_are_escaped(
    hostile: Hostile, body: str, status: int
) -> None:
    text = body % (json.dumps(HOSTILE_TEXT) if body.startswith("{") else HOSTILE_TEXT)
    hostile.answer(USERS_ME, status, text)
    with pytest.raises(TwitterAPIError) as caught:
        verify_account(ACCOUNT, api_base=hostile.url)
    message = str(caught.value)
    assert_printable(message)
    assert "\\x1b[2J" in message
    assert "fake line" in message
    assert_printable(repr(caught.value))


def test_a_screen_name_from_users_me_is_shown_escaped(hostile: Hostile) -> None:
    body = '{"data": {"id": "42", "username": "bot\\u001b[2J\\u202e\\r"}}'
    hostile.answer(USERS_ME, 200, body)
    with pytest.raises(TwitterAPIError) as caught:
        verify_account(ACCOUNT, api_base=hostile.url)
    assert_printable(str(caught.value))
    assert_no_canary(caught.value)


# --- media: answers X would never give ----------------------------------------------------

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(1000)
MEDIA = "/2/media/upload"


def _chunked(server: Hostile, finalize: object, status: object | None = None) -> None:
    server.answer(f"{MEDIA}/initialize", 200, json.dumps({"data": {"id": "1234"}}))
    server.answer(f"{MEDIA}/1234/append", 204, b"")
    server.answer(f"{MEDIA}/1234/finalize", 200, json.dumps(finalize))
    if status is not None:
        server.answer(MEDIA, 200, json.dumps(status))


@pytest.mark.parametrize(
    "answer",
    [
        {"data": {}},
        {"data": {"id": HOSTILE_TEXT}},
        {"data": {"id": True}},
        {"data": ["1234"]},
        [],
    ],
)
def test_an_upload_answer_without_a_media_id(hostile: Hostile, answer: object) -> None:
    hostile.answer(MEDIA, 200, json.dumps(answer))
    client = make_client(ACCOUNT, api_base=hostile.url)
    with pytest.raises(TwitterAPIError, match="X's answer holds no media id") as caught:
        upload_media(client, b"\x89PNG\r\n\x1a\n" + bytes(10))
    assert_no_canary(caught.value)


def test_a_processing_state_no_one_documented_is_shown_escaped(hostile: Hostile) -> None:
    _chunked(hostile, {"data": {"id": "1234", "processing_info": {"state": HOSTILE_TEXT}}})
    client = make_client(ACCOUNT, api_base=hostile.url)
    with pytest.raises(TwitterAPIError, match="which twcreds does not know") as caught:
        upload_media(client, VIDEO)
    assert not any(control in str(caught.value) for control in CONTROLS)
    assert_no_canary(caught.value)


def test_a_hostile_failure_reason_is_shown_escaped(hostile: Hostile) -> None:
    info = {"state": "failed", "error": {"code": "x", "message": HOSTILE_TEXT * 50}}
    _chunked(hostile, {"data": {"id": "1234", "processing_info": info}})
    client = make_client(ACCOUNT, api_base=hostile.url)
    with pytest.raises(TwitterAPIError, match="X could not process it") as caught:
        upload_media(client, VIDEO)
    error = caught.value
    assert error.code is None
    assert not any(control in str(error) for control in CONTROLS)
    assert len(str(error)) < 600


@pytest.mark.parametrize("pause", [-5, "soon", None, True, 1e-9])
def test_a_strange_check_after_is_not_obeyed_blindly(hostile: Hostile, pause: object) -> None:
    info = {"state": "pending", "check_after_secs": pause}
    done = {"data": {"id": "1234", "processing_info": {"state": "succeeded"}}}
    _chunked(hostile, {"data": {"id": "1234", "processing_info": info}}, done)
    client = make_client(ACCOUNT, api_base=hostile.url)
    started = time.monotonic()
    assert upload_media(client, VIDEO) == "1234"
    assert time.monotonic() - started < 3  # absent or unreadable: 1 s; negative: none
    assert hostile.paths[-1] == MEDIA
