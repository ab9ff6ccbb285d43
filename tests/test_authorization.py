"""The PIN flow against the offline Twitter: real HTTP, real OAuth 1.0a signature checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import CANARY
from twcreds import (
    Account,
    App,
    AuthorizationError,
    PendingAuthorization,
    TwitterConnectionError,
    authorize,
    complete_authorization,
    make_client,
    post_tweet,
    start_authorization,
)
from twcreds.authorization import normalize_pin
from twcreds.testing import FakeTwitter


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _flow_requests(fake: FakeTwitter) -> list[str]:
    return [r.endpoint for r in fake.requests if "/oauth/" in r.path]


def test_the_whole_flow_gives_an_account_that_can_post(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    pending = start_authorization(app, api_base=fake_twitter.url)

    assert pending.auth_url.startswith(f"{fake_twitter.url}/oauth/authorize?")
    assert _query(pending.auth_url)["oauth_token"] == [pending.oauth_token]
    pin = fake_twitter.approve(pending.oauth_token, "second_account")
    account = complete_authorization(pending, pin)

    assert account.screen_name == "second_account"
    assert account.user_id == fake_twitter.create_user("second_account")
    assert account.consumer_key == app.consumer_key
    assert account.access_token.startswith(f"{account.user_id}-")
    with make_client(account, api_base=fake_twitter.url) as client:
        tweet = post_tweet(client, "hello world for the second time")
    posted = fake_twitter.tweets
    assert [(t.screen_name, t.text, str(t.id)) for t in posted] == [
        ("second_account", "hello world for the second time", str(tweet["id"]))
    ]


def test_the_flow_takes_exactly_two_requests_to_twitter(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    pending = start_authorization(app, api_base=fake_twitter.url)
    complete_authorization(pending, fake_twitter.approve(pending.oauth_token, "bot"))

    requests = [r for r in fake_twitter.requests if r.path.startswith("/oauth/")]
    assert [(r.path, r.status, r.verified) for r in requests] == [
        ("/oauth/request_token", 200, True),
        ("/oauth/access_token", 200, True),
    ]


def test_an_account_can_stand_for_its_app(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    owner = fake_twitter.issue_token(app, "owner")
    pending = start_authorization(owner, api_base=fake_twitter.url)
    assert pending.app == app


def test_force_login_and_screen_name_prefill_the_form(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    pending = start_authorization(
        app, api_base=fake_twitter.url, force_login=True, screen_name="@Second"
    )
    query = _query(pending.auth_url)
    assert query["force_login"] == ["true"]
    assert query["screen_name"] == ["Second"]
    plain = start_authorization(app, api_base=fake_twitter.url)
    assert "force_login" not in _query(plain.auth_url)
    assert "screen_name" not in _query(plain.auth_url)


@pytest.mark.parametrize("typed", ["0012345", " 0012345\n", 12345, "001 2345"])
def test_a_pin_keeps_its_leading_zeros(fake_twitter: FakeTwitter, typed: str | int) -> None:
    app = fake_twitter.create_app()
    pending = start_authorization(app, api_base=fake_twitter.url)
    fake_twitter.approve(pending.oauth_token, "zero", pin="0012345")
    assert complete_authorization(pending, typed).screen_name == "zero"


@pytest.mark.parametrize(
    ("pin", "expected"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("12a4567", "digits"),
        ("١٢٣٤٥٦٧", "digits"),
        (-1, "negative"),
    ],
)
def test_a_malformed_pin_is_refused_before_any_request(
    fake_twitter: FakeTwitter, pin: str | int, expected: str
) -> None:
    app = fake_twitter.create_app()
    pending = start_authorization(app, api_base=fake_twitter.url)
    before = len(fake_twitter.requests)
    with pytest.raises(AuthorizationError, match=expected) as caught:
        complete_authorization(pending, pin)
    assert "step 2 of 2" in str(caught.value)
    assert len(fake_twitter.requests) == before


def test_normalize_pin_refuses_other_types() -> None:
    with pytest.raises(AuthorizationError):
        normalize_pin(True)
    with pytest.raises(AuthorizationError):
        normalize_pin(1.5)  # type: ignore[arg-type]


def test_a_wrong_pin_is_an_authorization_error(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    pending = start_authorization(app, api_base=fake_twitter.url)
    pin = fake_twitter.approve(pending.oauth_token, "bot")
    wrong = f"{(int(pin) + 1) % 10_000_000:07d}"
    with pytest.raises(AuthorizationError, match="rejected the PIN") as caught:
        complete_authorization(pending, wrong)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_used_pin_cannot_be_used_again(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    pending = start_authorization(app, api_base=fake_twitter.url)
    pin = fake_twitter.approve(pending.oauth_token, "bot")
    complete_authorization(pending, pin)
    with pytest.raises(AuthorizationError, match="already used"):
        complete_authorization(pending, pin)


def test_a_pending_state_of_another_app_is_refused(fake_twitter: FakeTwitter) -> None:
    first = fake_twitter.create_app(name="first")
    other = fake_twitter.create_app(name="other")
    pending = start_authorization(first, api_base=fake_twitter.url)
    pin = fake_twitter.approve(pending.oauth_token, "bot")
    mixed = pending.model_copy(update={"app": other})
    with pytest.raises(AuthorizationError, match="another app"):
        complete_authorization(mixed, pin)


def test_wrong_consumer_values_fail_step_one(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    wrong = App(consumer_key=app.consumer_key, consumer_secret=CANARY)
    with pytest.raises(AuthorizationError) as caught:
        start_authorization(wrong, api_base=fake_twitter.url)
    message = str(caught.value)
    assert "step 1 of 2" in message
    assert "consumer key or secret" in message
    assert CANARY not in message
    assert CANARY not in repr(caught.value)


def test_an_unconfirmed_callback_is_explained_not_an_attribute_error() -> None:
    with FakeTwitter(confirm_callback=False) as fake:
        app = fake.create_app()
        with pytest.raises(AuthorizationError, match="did not confirm"):
            start_authorization(app, api_base=fake.url)


def test_pending_state_round_trips_and_finishes_in_another_process(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    app = fake_twitter.create_app()
    pending = start_authorization(app, api_base=fake_twitter.url)
    state = tmp_path / "pending.json"
    state.write_text(pending.model_dump_json(), encoding="utf-8")
    assert PendingAuthorization.model_validate_json(state.read_text(encoding="utf-8")) == pending
    pin = fake_twitter.approve(pending.oauth_token, "elsewhere")

    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from twcreds import PendingAuthorization, complete_authorization
        pending = PendingAuthorization.model_validate_json(Path(sys.argv[1]).read_text())
        account = complete_authorization(pending, sys.argv[2])
        print(account.model_dump_json())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(state), pin],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    account = Account.model_validate_json(done.stdout)
    assert account.screen_name == "elsewhere"
    assert account.consumer_key == app.consumer_key


def test_pending_state_hides_its_secret() -> None:
    pending = PendingAuthorization(
        auth_url="https://api.twitter.com/oauth/authorize?oauth_token=t",
        oauth_token="t",
        oauth_token_secret=CANARY,
        app=App(consumer_key="key", consumer_secret=CANARY + "2"),
    )
    assert CANARY not in repr(pending)
    assert CANARY not in str(pending)
    assert json.loads(pending.model_dump_json())["oauth_token_secret"] == CANARY


def test_authorize_shows_the_url_asks_for_the_pin_and_asks_again(
    fake_twitter: FakeTwitter,
) -> None:
    app = fake_twitter.create_app()
    shown: list[str] = []
    answers = iter(["", "not a pin"])

    def prompt(question: str) -> str:
        shown.append(question)
        answer = next(answers, None)
        if answer is not None:
            return answer
        url = next(line.strip() for line in shown if "/oauth/authorize?" in line)
        return fake_twitter.approve(_query(url)["oauth_token"][0], "interactive")

    account = authorize(
        app, api_base=fake_twitter.url, open_browser=False, prompt=prompt, echo=shown.append
    )
    assert account.screen_name == "interactive"
    assert sum(question == "PIN: " for question in shown) == 3
    assert any("empty" in line for line in shown)
    assert any("digits" in line for line in shown)


def test_authorize_gives_up_after_the_last_attempt(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    with pytest.raises(AuthorizationError, match="digits"):
        authorize(
            app,
            api_base=fake_twitter.url,
            open_browser=False,
            prompt=lambda _: "abc",
            echo=lambda _: None,
        )


# --- faults ----------------------------------------------------------------------------


def test_nothing_listening_is_a_connection_error() -> None:
    with FakeTwitter() as fake:
        app = fake.create_app()
        url = fake.url
    with pytest.raises(TwitterConnectionError, match="step 1 of 2"):
        start_authorization(app, api_base=url)


def test_a_closed_connection_is_a_connection_error(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    pending = start_authorization(app, api_base=fake_twitter.url)
    pin = fake_twitter.approve(pending.oauth_token, "bot")
    fake_twitter.fail_next("close")
    with pytest.raises(TwitterConnectionError, match="step 2 of 2") as caught:
        complete_authorization(pending, pin)
    assert caught.value.__cause__ is None


def test_a_silent_server_times_out(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    fake_twitter.fail_next("hang")
    started = time.monotonic()
    with pytest.raises(TwitterConnectionError, match=r"no answer within 0\.5 s"):
        start_authorization(app, api_base=fake_twitter.url, timeout=0.5)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("kind", ["html", "garbage"])
def test_an_unreadable_answer_is_an_authorization_error(
    fake_twitter: FakeTwitter, kind: str
) -> None:
    app = fake_twitter.create_app()
    fake_twitter.fail_next(kind)  # type: ignore[arg-type]
    with pytest.raises(AuthorizationError, match="step 1 of 2"):
        start_authorization(app, api_base=fake_twitter.url)


@pytest.mark.parametrize("kind", ["html", "garbage"])
def test_an_unreadable_answer_in_step_two_is_an_authorization_error(
    fake_twitter: FakeTwitter, kind: str
) -> None:
    app = fake_twitter.create_app()
    pending = start_authorization(app, api_base=fake_twitter.url)
    pin = fake_twitter.approve(pending.oauth_token, "bot")
    fake_twitter.fail_next(kind)  # type: ignore[arg-type]
    with pytest.raises(AuthorizationError, match="step 2 of 2"):
        complete_authorization(pending, pin)


# --- when a browser is opened ----------------------------------------------------------


def _browser_usable_with(tmp_path: Path, browser: str | None, **env: str) -> bool:
    """browser_usable() in a fresh interpreter: webbrowser reads BROWSER once per process."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "SSH_CONNECTION", "DISPLAY", "WAYLAND_DISPLAY", "BROWSER")
    }
    if browser is not None:
        script = tmp_path / browser.split()[0]
        script.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        script.chmod(0o700)
        environ["BROWSER"] = str(tmp_path / browser)
    environ.update(env)
    done = subprocess.run(
        [sys.executable, "-c", "from twcreds.authorization import browser_usable as b; print(b())"],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip() == "True"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display rules are Linux's")
def test_a_browser_opens_only_where_a_graphical_one_is_usable(tmp_path: Path) -> None:
    assert _browser_usable_with(tmp_path, "mybrowser", DISPLAY=":0")
    assert not _browser_usable_with(tmp_path, "mybrowser")  # no display
    assert not _browser_usable_with(tmp_path, "mybrowser", DISPLAY=":0", SSH_CONNECTION="x")
    assert not _browser_usable_with(tmp_path, "mybrowser", DISPLAY=":0", CI="true")
    assert not _browser_usable_with(tmp_path, "w3m", DISPLAY=":0")
    assert not _browser_usable_with(tmp_path, "lynx -dump", DISPLAY=":0")


def test_authorize_passes_its_timeout_to_step_one(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    fake_twitter.fail_next("hang")
    started = time.monotonic()
    with pytest.raises(TwitterConnectionError, match=r"step 1 of 2.*no answer within 0\.5 s"):
        authorize(
            app,
            api_base=fake_twitter.url,
            open_browser=False,
            prompt=lambda _: "0123456",
            echo=lambda _: None,
            timeout=0.5,
        )
    assert time.monotonic() - started < 10


def test_authorize_passes_its_timeout_to_step_two(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    shown: list[str] = []

    def prompt(question: str) -> str:
        url = next(line.strip() for line in shown if "/oauth/authorize?" in line)
        pin = fake_twitter.approve(_query(url)["oauth_token"][0], "patient")
        fake_twitter.fail_next("hang", path="/oauth/access_token")
        return pin

    started = time.monotonic()
    with pytest.raises(TwitterConnectionError, match=r"step 2 of 2.*no answer within 0\.5 s"):
        authorize(
            app,
            api_base=fake_twitter.url,
            open_browser=False,
            prompt=prompt,
            echo=shown.append,
            timeout=0.5,
        )
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("timeout", "error"), [(0, ValueError), (-1, ValueError), ("30", TypeError)]
)
def test_a_bad_timeout_is_refused_before_any_request(
    fake_twitter: FakeTwitter, timeout: Any, error: type[Exception]
) -> None:
    app = fake_twitter.create_app()
    with pytest.raises(error, match="timeout must be"):
        authorize(app, api_base=fake_twitter.url, prompt=lambda _: "1", timeout=timeout)
    with pytest.raises(error, match="timeout must be"):
        start_authorization(app, api_base=fake_twitter.url, timeout=timeout)
    pending = PendingAuthorization(
        auth_url=f"{fake_twitter.url}/oauth/authorize?oauth_token=t",
        oauth_token="t",
        oauth_token_secret=CANARY,
        app=app,
        api_base=fake_twitter.url,
    )
    with pytest.raises(error, match="timeout must be"):
        complete_authorization(pending, "0123456", timeout=timeout)
    assert fake_twitter.requests == []


def test_authorize_needs_at_least_one_attempt(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_app()
    with pytest.raises(ValueError, match="attempts"):
        authorize(app, api_base=fake_twitter.url, attempts=0, prompt=lambda _: "1")
    assert fake_twitter.requests == []


def test_start_authorization_refuses_other_types(fake_twitter: FakeTwitter) -> None:
    with pytest.raises(TypeError, match="App or Account"):
        start_authorization({"consumer_key": "k"}, api_base=fake_twitter.url)  # type: ignore[arg-type]
    assert fake_twitter.requests == []
