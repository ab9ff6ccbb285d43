"""verify_account and post_tweet against the offline Twitter, and Twitter's answers mapped."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import CANARY
from twcreds import (
    Account,
    CredentialsRejectedError,
    CreditsDepletedError,
    OAuth2Account,
    RateLimitError,
    TwcredsError,
    TwitterAPIError,
    TwitterConnectionError,
    make_client,
    post_tweet,
    verify_account,
)
from twcreds.api import (
    HINT_CREDITS,
    HINT_NOT_ENROLLED,
    HINT_UNAUTHORIZED,
    HINT_UNSUPPORTED_AUTH,
    HINT_WRITE,
    HINTS,
    HINTS_RATE,
    call,
    twitter_error,
)
from twcreds.testing import FakeTwitter


def _owner(fake: FakeTwitter, name: str = "owner", permissions: str = "read-write") -> Account:
    app = fake.create_app(permissions=permissions)  # type: ignore[arg-type]
    return fake.issue_token(app, name)


def test_verify_account_fills_in_who_it_is(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter, "Primary")
    bare = account.model_copy(update={"screen_name": None, "user_id": None})

    me = verify_account(bare, api_base=fake_twitter.url)

    assert me.screen_name == "Primary"
    assert me.user_id == fake_twitter.create_user("Primary")
    assert me.access_token == account.access_token
    assert isinstance(me, Account)
    assert me.consumer_secret == account.consumer_secret
    assert [r.endpoint for r in fake_twitter.requests] == ["GET /2/users/me"]
    assert fake_twitter.requests[0].verified


def test_verify_account_takes_a_client(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter, "viaclient")
    with make_client(account, api_base=fake_twitter.url) as client:
        assert verify_account(client).screen_name == "viaclient"


def test_verify_account_uses_twcreds_api_base(
    fake_twitter: FakeTwitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = _owner(fake_twitter, "fromenv")
    monkeypatch.setenv("TWCREDS_API_BASE", fake_twitter.url)
    assert verify_account(account).screen_name == "fromenv"


def test_post_tweet_returns_twitters_data(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter, "poster")
    with make_client(account, api_base=fake_twitter.url) as client:
        data = post_tweet(client, "I tweet therefore I am")
    assert data["text"] == "I tweet therefore I am"
    [tweet] = fake_twitter.tweets
    assert (str(tweet.id), tweet.screen_name, tweet.api) == (str(data["id"]), "poster", "v2")
    assert fake_twitter.requests[-1].endpoint == "POST /2/tweets"


# v2 answers every authentication failure with one problem and no code, as X does: the
# hint names every cause, except a clock that the answer's Date header shows to be off.


def test_a_revoked_token_is_rejected_with_its_hint(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter)
    fake_twitter.revoke(account)
    with pytest.raises(CredentialsRejectedError) as caught:
        verify_account(account, api_base=fake_twitter.url)
    error = caught.value
    assert (error.status, error.code) == (401, None)
    assert (error.title, error.detail, error.type) == (
        "Unauthorized",
        "Unauthorized",
        "about:blank",
    )
    assert error.hint == HINT_UNAUTHORIZED
    assert "authorize the account again" in str(error)
    assert fake_twitter.requests[-1].reason == "revoked token"


def test_a_wrong_secret_is_rejected_and_not_shown(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter)
    wrong = Account.model_validate(
        {**account.model_dump(mode="json"), "access_token_secret": CANARY}
    )
    with pytest.raises(CredentialsRejectedError) as caught:
        verify_account(wrong, api_base=fake_twitter.url)
    assert caught.value.code is None
    assert "stray spaces" in str(caught.value)
    assert "clock" not in str(caught.value)
    assert CANARY not in str(caught.value)
    assert CANARY not in repr(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert fake_twitter.requests[-1].reason == "bad signature"


@pytest.mark.parametrize(
    ("skew", "says"),
    [(3 * 3600, "3 hours behind Twitter's"), (-600, "10 minutes ahead of Twitter's")],
)
def test_a_clock_that_is_off_is_named(fake_twitter: FakeTwitter, skew: int, says: str) -> None:
    account = _owner(fake_twitter)
    fake_twitter.clock_skew = skew
    with pytest.raises(CredentialsRejectedError, match="clock") as caught:
        verify_account(account, api_base=fake_twitter.url)
    assert caught.value.code is None
    assert says in str(caught.value)
    assert "enable NTP" in str(caught.value)
    assert fake_twitter.requests[-1].reason == "timestamp out of bounds"


def test_a_clock_within_twitters_window_is_not_blamed(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter)
    fake_twitter.revoke(account)
    fake_twitter.clock_skew = 200
    with pytest.raises(CredentialsRejectedError) as caught:
        verify_account(account, api_base=fake_twitter.url)
    assert caught.value.hint == HINT_UNAUTHORIZED


def _headers(date: str | None) -> dict[str, str]:
    return {} if date is None else {"date": date}


UNAUTHORIZED = '{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}'


@pytest.mark.parametrize(
    "date",
    [None, "", "yesterday", "Mon, 99 Foo 2026 99:99:99 GMT", "Mon, 07 Dec 99999 10:00:00 GMT"],
)
def test_an_unreadable_date_header_leaves_the_generic_hint(date: str | None) -> None:
    error = twitter_error(401, UNAUTHORIZED, _headers(date), "verify @x")
    assert isinstance(error, CredentialsRejectedError)
    assert error.hint == HINT_UNAUTHORIZED


def test_a_v1_code_keeps_its_own_hint_whatever_the_date() -> None:
    body = '{"errors":[{"code":89,"message":"Invalid or expired token."}]}'
    error = twitter_error(401, body, {"Date": "Thu, 01 Jan 1998 00:00:00 GMT"}, "verify @x")
    assert (error.code, error.hint) == (89, HINTS[89])
    assert (error.title, error.detail, error.type) == (None, None, None)


def test_problem_members_are_kept_printable() -> None:
    body = (
        '{"title":"Forbidden\\u001b[2J","detail":"' + "d" * 500 + '",'
        '"type":"https://api.x.com/2/problems/usage-capped","status":403}'
    )
    error = twitter_error(403, body, {}, "post tweet")
    assert error.title == "Forbidden\\x1b[2J"
    assert error.detail is not None
    assert len(error.detail) < 210
    assert error.type == "https://api.x.com/2/problems/usage-capped"
    assert "\x1b" not in str(error)


def test_a_read_only_token_cannot_post_and_says_how_to_fix_it(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter, permissions="read")
    with (
        make_client(account, api_base=fake_twitter.url) as client,
        pytest.raises(TwitterAPIError) as caught,
    ):
        post_tweet(client, "hello")
    assert not isinstance(caught.value, CredentialsRejectedError)
    assert caught.value.status == 403
    assert caught.value.hint == HINT_WRITE
    assert "regenerate the access token" in str(caught.value)
    assert fake_twitter.tweets == []


def test_a_v1_endpoint_outside_the_tier_gets_the_tier_hint(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter)
    with (
        make_client(account, api_base=fake_twitter.url) as client,
        pytest.raises(TwitterAPIError) as caught,
    ):
        call(client, "update status", lambda: client.update_status(status="hello world?"))
    assert (caught.value.status, caught.value.code) == (403, 453)
    assert caught.value.hint == HINTS[453]


def test_legacy_v1_endpoints_work_where_the_tier_allows() -> None:
    with FakeTwitter(legacy_v1=True) as fake:
        account = _owner(fake, "legacy")
        with make_client(account, api_base=fake.url) as client:
            settings = call(client, "settings", client.get_account_settings)
            status = call(client, "update", lambda: client.update_status(status="hello world?"))
        assert settings["screen_name"] == "legacy"
        assert [(t.text, t.api) for t in fake.tweets] == [("hello world?", "v1.1")]
        assert str(status["id"]) == str(fake.tweets[0].id)


def test_a_rate_limit_gives_when_to_retry() -> None:
    with FakeTwitter(rate_limit=1) as fake:
        account = _owner(fake)
        verify_account(account, api_base=fake.url)
        with pytest.raises(RateLimitError) as caught:
            verify_account(account, api_base=fake.url)
    error = caught.value
    assert error.status == 429
    assert error.reset_at is not None
    assert error.reset_at.tzinfo is timezone.utc
    assert error.reset_at >= datetime.now(timezone.utc).replace(microsecond=0)
    assert error.retry_after is not None
    assert 0 <= error.retry_after <= 15 * 60
    assert abs(error.reset_at.timestamp() - (time.time() + error.retry_after)) < 5


# --- faults: one clear twcreds error each, nothing raw ---------------------------------


def test_nothing_listening_is_a_connection_error() -> None:
    with FakeTwitter() as fake:
        account = _owner(fake)
        url = fake.url
    with pytest.raises(TwitterConnectionError, match="could not connect"):
        verify_account(account, api_base=url)


def test_a_closed_connection_is_a_connection_error(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter)
    fake_twitter.fail_next("close")
    with (
        make_client(account, api_base=fake_twitter.url) as client,
        pytest.raises(TwitterConnectionError) as caught,
    ):
        post_tweet(client, "hello")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_silent_server_times_out(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter)
    fake_twitter.fail_next("hang")
    started = time.monotonic()
    with (
        make_client(account, api_base=fake_twitter.url, timeout=0.5) as client,
        pytest.raises(TwitterConnectionError, match=r"no answer within 0\.5 s"),
    ):
        verify_account(client)
    assert time.monotonic() - started < 10


def test_an_html_error_page_is_an_api_error(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter)
    fake_twitter.fail_next("html", status=503)
    with pytest.raises(TwitterAPIError, match="503") as caught:
        verify_account(account, api_base=fake_twitter.url)
    assert caught.value.status == 503
    assert "error page" in str(caught.value)


def test_a_non_json_answer_is_an_api_error(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter)
    fake_twitter.fail_next("garbage")
    with (
        make_client(account, api_base=fake_twitter.url) as client,
        pytest.raises(TwitterAPIError, match="not JSON") as caught,
    ):
        post_tweet(client, "hello")
    assert caught.value.status == 200


def test_no_secret_reaches_messages_or_logs(
    fake_twitter: FakeTwitter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = _owner(fake_twitter, "canary")
    secrets = [
        account.consumer_secret.get_secret_value(),
        account.access_token_secret.get_secret_value(),
    ]
    planted = Account.model_validate({**account.model_dump(mode="json"), "consumer_secret": CANARY})
    messages: list[str] = []

    me = verify_account(account, api_base=fake_twitter.url)
    with make_client(account, api_base=fake_twitter.url) as client:
        post_tweet(client, "hello")
    for fault in (None, "html"):
        if fault == "html":
            fake_twitter.fail_next("html")
        with pytest.raises(TwcredsError) as caught:
            verify_account(planted, api_base=fake_twitter.url)
        messages += [str(caught.value), repr(caught.value)]

    shown = "\n".join([*messages, repr(me), str(me), caplog.text])
    shown += "\n".join(repr(r) for r in fake_twitter.requests)
    for secret in [CANARY, *secrets]:
        assert secret not in shown
    # The check above means something only if the signing and HTTP layers really logged.
    loggers = {record.name for record in caplog.records}
    assert {"requests_oauthlib.oauth1_auth", "urllib3.connectionpool"} <= loggers


# --- today's answers: credits, daily caps, the wrong credential, an app not enrolled -------


def _bearer_as_user_token(fake: FakeTwitter) -> OAuth2Account:
    """The classic mistake: the app's Bearer Token pasted where a user's OAuth 2.0 token goes."""
    bearer = fake.create_bearer_token(fake.create_app())
    client_id = fake.create_oauth2_app().client_id
    return OAuth2Account(
        client_id=client_id,
        access_token=bearer.bearer_token,
        expires_at=datetime.now(timezone.utc) + timedelta(hours=2),
    )


def test_spent_credits_are_a_credits_depleted_error() -> None:
    with FakeTwitter(credits=1) as fake:
        account = _owner(fake)
        client = make_client(account, api_base=fake.url)
        post_tweet(client, "the last credit")
        assert fake.credits == 0
        with pytest.raises(CreditsDepletedError) as posting:
            post_tweet(client, "one too many")
        with pytest.raises(CreditsDepletedError) as verifying:
            verify_account(account, api_base=fake.url)
    for error in (posting.value, verifying.value):
        assert isinstance(error, TwitterAPIError)
        assert error.status == 402
        assert error.title == "CreditsDepleted"
        assert error.type is not None
        assert error.type.endswith("/credits")
        assert error.hint == HINT_CREDITS
        assert "add credits" in str(error)
    assert [t.text for t in fake.tweets] == ["the last credit"]


def test_the_daily_cap_says_when_the_day_resets_not_the_window() -> None:
    with FakeTwitter(daily_limit=2) as fake:
        account = _owner(fake)
        client = make_client(account, api_base=fake.url)
        post_tweet(client, "one")
        post_tweet(client, "two")
        with pytest.raises(RateLimitError) as posting:
            post_tweet(client, "three")
        verify_account(account, api_base=fake.url)  # the read has its own allowance
        verify_account(account, api_base=fake.url)
        with pytest.raises(RateLimitError) as verifying:
            verify_account(account, api_base=fake.url)
    for error in (posting.value, verifying.value):
        assert error.window == "24h-user"
        assert error.retry_after is not None
        assert 23 * 3600 < error.retry_after <= 24 * 3600  # hours, not 15 minutes
        assert error.reset_at is not None
        assert "the account's 24-hour limit resets at" in str(error)
        assert error.hint == HINTS_RATE["24h-user"]


def test_the_wrong_kind_of_credential_gets_its_hint(fake_twitter: FakeTwitter) -> None:
    mistaken = _bearer_as_user_token(fake_twitter)
    client = make_client(mistaken, api_base=fake_twitter.url, on_refresh=lambda _: None)
    with pytest.raises(TwitterAPIError) as posting:
        post_tweet(client, "hello")
    with pytest.raises(TwitterAPIError) as verifying:
        verify_account(client)
    for error in (posting.value, verifying.value):
        assert error.status == 403
        assert error.type is not None
        assert error.type.endswith("/unsupported-authentication")
        assert error.hint == HINT_UNSUPPORTED_AUTH
        assert "never an app-only bearer token" in str(error)
    assert fake_twitter.tweets == []


def test_an_app_out_of_its_project_gets_its_hint(fake_twitter: FakeTwitter) -> None:
    account = _owner(fake_twitter)
    fake_twitter.set_app_enrolled(account.app, False)
    client = make_client(account, api_base=fake_twitter.url)
    with pytest.raises(TwitterAPIError) as posting:
        post_tweet(client, "hello")
    with pytest.raises(TwitterAPIError) as verifying:
        verify_account(account, api_base=fake_twitter.url)
    for error in (posting.value, verifying.value):
        assert error.status == 403
        assert error.title == "Client Forbidden"
        assert error.hint == HINT_NOT_ENROLLED
        assert "attach the app to a Project" in str(error)
    fake_twitter.set_app_enrolled(account.app, True)
    post_tweet(client, "enrolled again")


def _epoch(seconds_from_now: float) -> str:
    return str(int(time.time() + seconds_from_now))


@pytest.mark.parametrize(
    ("headers", "window", "hours"),
    [
        (
            {
                "x-rate-limit-remaining": "97",
                "x-rate-limit-reset": _epoch(600),
                "x-user-limit-24hour-remaining": "0",
                "x-user-limit-24hour-reset": _epoch(20 * 3600),
                "x-app-limit-24hour-remaining": "1500",
                "x-app-limit-24hour-reset": _epoch(2 * 3600),
            },
            "24h-user",
            20,
        ),
        (
            {
                "X-Rate-Limit-Remaining": "50",
                "X-Rate-Limit-Reset": _epoch(600),
                "X-App-Limit-24hour-Remaining": "0",
                "X-App-Limit-24hour-Reset": _epoch(5 * 3600),
            },
            "24h-app",
            5,
        ),
        (
            {
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": _epoch(600),
                "x-user-limit-24hour-remaining": "0",
                "x-user-limit-24hour-reset": _epoch(3 * 3600),
            },
            "24h-user",
            3,
        ),
        ({"x-rate-limit-remaining": "0", "x-rate-limit-reset": _epoch(600)}, "15min", 0),
        ({"x-rate-limit-reset": _epoch(300)}, "15min", 0),
    ],
)
def test_a_429_is_read_from_the_window_exhausted(
    headers: dict[str, str], window: str, hours: int
) -> None:
    error = twitter_error(429, '{"title": "Too Many Requests"}', headers, "post tweet")
    assert isinstance(error, RateLimitError)
    assert error.window == window
    assert error.retry_after is not None
    assert error.hint == HINTS_RATE[window]
    if hours:
        assert abs(error.retry_after - hours * 3600) < 300  # headers made at collection
    else:
        assert error.retry_after <= 600


def test_a_problem_answer_gives_title_detail_and_type() -> None:
    body = (
        '{"title": "Client Forbidden", "detail": "attach it", "reason": "client-not-enrolled",'
        ' "type": "https://api.x.com/2/problems/client-forbidden"}'
    )
    error = twitter_error(403, body, {}, "verify @x")
    assert (error.title, error.detail, error.type) == (
        "Client Forbidden",
        "attach it",
        "https://api.x.com/2/problems/client-forbidden",
    )
    assert error.hint == HINT_NOT_ENROLLED
