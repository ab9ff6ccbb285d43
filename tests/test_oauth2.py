"""OAuth 2.0 against the offline Twitter: the PKCE flow, Bearer clients, and refreshes that
never lose a rotated token, across threads and real processes.

The offline Twitter rotates refresh tokens as X does (a used one is refused with 400
``invalid_request``), so a lost or doubly-spent token shows as a failed refresh here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.conftest import write_private
from twcreds import (
    POSTING_SCOPES,
    Account,
    AuthorizationError,
    CredentialsError,
    CredentialsRejectedError,
    OAuth2Account,
    OAuth2App,
    PendingOAuth2Authorization,
    TwitterAPIError,
    TwitterConnectionError,
    authorize_oauth2,
    complete_oauth2_authorization,
    load_accounts,
    load_client,
    load_clients,
    make_client,
    post_tweet,
    refresh_account,
    save_accounts,
    start_oauth2_authorization,
    verify_account,
)
from twcreds.cli import main
from twcreds.testing import FakeTwitter

WORKER = Path(__file__).with_name("_oauth2_worker.py")
ROOT = Path(__file__).resolve().parents[1]


# --- helpers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def secrets_of(*accounts: OAuth2Account | OAuth2App | PendingOAuth2Authorization) -> list[str]:
    """Every secret the given models hold."""
    found = []
    for model in accounts:
        for name in ("client_secret", "access_token", "refresh_token", "code_verifier"):
            value = getattr(model, name, None)
            if value is not None:
                found.append(value.get_secret_value())
    return found


def shown(exc: BaseException) -> str:
    """Everything a user could see of an exception: message, repr, traceback, chain."""
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


def stored(fake: FakeTwitter, tmp_path: Path, *, expires_in: float, name: str = "bot") -> Path:
    """A store holding one OAuth 2.0 account whose token expires in ``expires_in`` seconds."""
    app = fake.create_oauth2_app()
    account = fake.issue_oauth2_token(app, name, expires_in=expires_in)
    path = tmp_path / "accounts.json"
    save_accounts(path, [account])
    return path


def only(path: Path) -> OAuth2Account:
    [account] = load_accounts(path)
    assert isinstance(account, OAuth2Account)
    return account


def worker(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_line(stream: IO[str] | None) -> str:
    assert stream is not None
    return stream.readline().strip()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """DEBUG logging on for twcreds and every library beneath it."""
    names = ["twcreds", "requests", "urllib3", "oauthlib", "requests_oauthlib", ""]
    for name in names:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


# --- the PKCE flow ---------------------------------------------------------------------


@pytest.mark.parametrize("confidential", [True, False], ids=["confidential", "public"])
def test_the_pkce_flow_end_to_end(
    fake_twitter: FakeTwitter, confidential: bool, debug_logs: pytest.LogCaptureFixture
) -> None:
    app = fake_twitter.create_oauth2_app(confidential=confidential)
    assert (app.client_secret is not None) is confidential
    pending = start_oauth2_authorization(app, api_base=fake_twitter.url)
    query = parse_qs(urlsplit(pending.auth_url).query)
    assert pending.auth_url.startswith(f"{fake_twitter.url}/i/oauth2/authorize?")
    assert query["code_challenge_method"] == ["S256"]
    digest = hashlib.sha256(pending.code_verifier.get_secret_value().encode("ascii")).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).decode().rstrip("=")]
    assert query["state"] == [pending.state]
    assert query["scope"] == [" ".join(POSTING_SCOPES)]
    assert query["redirect_uri"] == ["http://127.0.0.1:8976/callback"]

    redirect = fake_twitter.approve_oauth2(pending.auth_url, "newbot")
    account = complete_oauth2_authorization(pending, redirect)
    assert (account.screen_name, account.scopes) == ("newbot", POSTING_SCOPES)
    assert account.user_id is not None
    assert account.user_id.isdigit()
    assert account.refresh_token is not None
    assert not account.expires_within(7000)

    with make_client(account, api_base=fake_twitter.url) as client:
        post_tweet(client, "posted with OAuth 2.0")
    assert [t.text for t in fake_twitter.tweets] == ["posted with OAuth 2.0"]
    assert fake_twitter.tweets[0].user_id == account.user_id
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ
    text = debug_logs.text + repr(account) + repr(pending)
    for secret in [
        *secrets_of(app, account, pending),
        parse_qs(urlsplit(redirect).query)["code"][0],
    ]:
        assert secret not in text


def test_the_default_authorize_url_is_xs() -> None:
    pending = start_oauth2_authorization(OAuth2App(client_id="abc"))
    assert pending.auth_url.startswith("https://x.com/i/oauth2/authorize?")
    assert pending.api_base is None


def _tampered_state(redirect: str) -> str:
    parts = urlsplit(redirect)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged" + query["state"]
    return parts._replace(query=urlencode(query)).geturl()


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("forged state", "state does not match"),
        ("denied", "access_denied: the person cancelled"),
        ("expired code", "code expired"),
        ("wrong verifier", "verifier"),
        ("other redirect uri", "redirect URI"),
        ("no code", "holds no code"),
    ],
)
def test_each_failure_of_the_flow_says_what_went_wrong(
    fake_twitter: FakeTwitter, case: str, words: str
) -> None:
    first = "http://127.0.0.1:8976/callback"
    other = "http://127.0.0.1:8977/callback"
    app = fake_twitter.create_oauth2_app(redirect_uris=[first, other])
    pending = start_oauth2_authorization(app, api_base=fake_twitter.url)
    redirect = fake_twitter.approve_oauth2(pending.auth_url, "newbot")
    if case == "forged state":
        redirect = _tampered_state(redirect)
    elif case == "denied":
        redirect = fake_twitter.deny_oauth2(pending.auth_url)
    elif case == "expired code":
        fake_twitter.clock_skew = 31  # X gives a code 30 seconds
    elif case == "wrong verifier":
        pending = pending.model_copy(update={"code_verifier": "x" * 64})
    elif case == "other redirect uri":
        pending = pending.model_copy(update={"redirect_uri": other})
    elif case == "no code":
        redirect = first + "?" + urlencode({"state": pending.state})
    before = fake_twitter.oauth2_refreshes
    with pytest.raises(AuthorizationError, match=words) as info:
        complete_oauth2_authorization(pending, redirect)
    assert "OAuth 2.0 authorization (code for token)" in str(info.value)
    for secret in secrets_of(app, pending):
        assert secret not in shown(info.value)
    assert fake_twitter.oauth2_refreshes == before


def test_the_pending_half_finishes_in_another_process(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    app = fake_twitter.create_oauth2_app()
    pending = start_oauth2_authorization(app, api_base=fake_twitter.url)
    state = write_private(tmp_path / "pending.json", pending.model_dump_json())
    redirect = fake_twitter.approve_oauth2(pending.auth_url, "elsewhere")
    script = (
        "import sys; from pathlib import Path\n"
        "from twcreds import PendingOAuth2Authorization, complete_oauth2_authorization\n"
        "pending = PendingOAuth2Authorization.model_validate_json(Path(sys.argv[1]).read_text())\n"
        "print(complete_oauth2_authorization(pending, sys.argv[2]).screen_name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(state), redirect],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "elsewhere"), done.stderr


def authorize_with_a_browser(
    fake: FakeTwitter, browse: Callable[[str, str], None]
) -> OAuth2Account:
    """Run `authorize_oauth2` listening on a free port while ``browse(url, redirect_uri)``
    plays the person's browser in a thread, once the authorize URL is shown."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    app = fake.create_oauth2_app(redirect_uris=[redirect_uri])
    lines: list[str] = []

    def browser() -> None:
        deadline = time.monotonic() + 30
        while not any(line.strip().startswith("http") for line in lines):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        browse(
            next(line.strip() for line in lines if line.strip().startswith("http")), redirect_uri
        )

    thread = threading.Thread(target=browser)
    thread.start()
    try:
        return authorize_oauth2(
            app,
            open_browser=False,
            echo=lines.append,
            api_base=fake.url,
            redirect_uri=redirect_uri,
            wait=30,
        )
    finally:
        thread.join()


def test_authorize_oauth2_catches_the_redirect_on_loopback(fake_twitter: FakeTwitter) -> None:
    landed: list[int] = []

    def browse(url: str, redirect_uri: str) -> None:
        """What a person's browser does: open the URL, approve, follow the redirect."""
        redirect = fake_twitter.approve_oauth2(url, "looped")
        landed.append(requests.get(redirect, timeout=10).status_code)

    account = authorize_with_a_browser(fake_twitter, browse)
    assert account.screen_name == "looped"
    assert landed == [200]


def test_authorize_oauth2_headless_takes_the_pasted_url(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_oauth2_app(confidential=False)
    lines: list[str] = []

    def paste(question: str) -> str:
        url = next(line.strip() for line in lines if line.strip().startswith("http"))
        return fake_twitter.approve_oauth2(url, "headless")

    account = authorize_oauth2(
        app, headless=True, prompt=paste, echo=lines.append, api_base=fake_twitter.url
    )
    assert account.screen_name == "headless"
    assert any("paste" in line for line in lines)


def test_a_taken_redirect_port_is_a_clear_error(fake_twitter: FakeTwitter) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(AuthorizationError, match=f"cannot listen on 127.0.0.1:{port}"):
            authorize_oauth2(
                fake_twitter.create_oauth2_app(),
                open_browser=False,
                echo=lambda line: None,
                api_base=fake_twitter.url,
                redirect_uri=f"http://127.0.0.1:{port}/callback",
                wait=1,
            )


# --- Bearer clients --------------------------------------------------------------------


def test_verify_account_returns_an_oauth2_account(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_oauth2_app()
    account = fake_twitter.issue_oauth2_token(app, "Verified")
    bare = account.model_copy(update={"screen_name": None, "user_id": None})
    me = verify_account(bare, api_base=fake_twitter.url)
    assert isinstance(me, OAuth2Account)
    assert (me.screen_name, me.user_id) == ("Verified", account.user_id)
    assert me.access_token == account.access_token


def test_a_missing_posting_scope_is_refused_before_any_request(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_oauth2_app()
    reader = fake_twitter.issue_oauth2_token(app, "reader", scopes=("tweet.read", "users.read"))
    fake_twitter.clear_records()
    with (
        make_client(reader, api_base=fake_twitter.url) as client,
        pytest.raises(CredentialsError, match=r"lacks the tweet\.write scope"),
    ):
        post_tweet(client, "no")
    assert fake_twitter.requests == []


def test_a_scope_x_refuses_is_a_403(fake_twitter: FakeTwitter) -> None:
    app = fake_twitter.create_oauth2_app()
    reader = fake_twitter.issue_oauth2_token(app, "reader", scopes=("tweet.read", "users.read"))
    unknown = reader.model_copy(update={"scopes": ()})  # scopes not recorded: X decides
    with (
        make_client(unknown, api_base=fake_twitter.url) as client,
        pytest.raises(TwitterAPIError) as info,
    ):
        post_tweet(client, "no")
    assert info.value.status == 403


def test_load_clients_posts_from_both_kinds(fake_twitter: FakeTwitter, tmp_path: Path) -> None:
    app1 = fake_twitter.create_app()
    oauth1 = fake_twitter.issue_token(app1, "classic")
    app2 = fake_twitter.create_oauth2_app()
    oauth2 = fake_twitter.issue_oauth2_token(app2, "modern", expires_in=10)
    path = tmp_path / "accounts.json"
    save_accounts(path, [oauth1, oauth2])
    kinds = []
    for account, client in load_clients(path, api_base=fake_twitter.url):
        kinds.append(type(account))
        post_tweet(client, f"hello from {account.screen_name}")
    assert kinds == [Account, OAuth2Account]
    assert sorted(t.text for t in fake_twitter.tweets) == [
        "hello from classic",
        "hello from modern",
    ]
    assert fake_twitter.oauth2_refreshes == 1  # the due one, written back:
    assert only_oauth2(path).access_token != oauth2.access_token


def only_oauth2(path: Path) -> OAuth2Account:
    [account] = [a for a in load_accounts(path) if isinstance(a, OAuth2Account)]
    return account


# --- refreshing ------------------------------------------------------------------------


def test_a_due_token_is_refreshed_before_the_call_and_written_back_first(
    fake_twitter: FakeTwitter, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    path = stored(fake_twitter, tmp_path, expires_in=120)  # within the 5-minute margin
    old = only(path)
    seen: list[OAuth2Account] = []

    def on_refresh(account: OAuth2Account) -> None:
        # Written back before it is used (and before we hear of it).
        assert only(path) == account
        seen.append(account)

    client = make_client(old, api_base=fake_twitter.url, store=path, on_refresh=on_refresh)
    post_tweet(client, "after a refresh")
    new = only(path)
    assert [fake_twitter.oauth2_refreshes, len(fake_twitter.tweets)] == [1, 1]
    assert seen == [new]
    assert new.refresh_token != old.refresh_token
    assert new.access_token != old.access_token
    assert not new.expires_within(7000)
    assert (new.screen_name, new.user_id) == (old.screen_name, old.user_id)
    assert os.stat(path).st_mode & 0o777 == 0o600
    # Only one request went to the token endpoint, then the post: one extra round trip.
    assert [r.endpoint for r in fake_twitter.requests][-2:] == [
        "POST /2/oauth2/token",
        "POST /2/tweets",
    ]
    refresh_account(path, "bot", api_base=fake_twitter.url)  # the stored token is live
    assert fake_twitter.oauth2_refreshes == 2
    for secret in secrets_of(old, new):
        assert secret not in debug_logs.text


def test_a_401_refreshes_once_and_the_call_is_sent_again(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    path = stored(fake_twitter, tmp_path, expires_in=7200)
    client = load_client(path, api_base=fake_twitter.url)
    fake_twitter.clock_skew = 7300  # X thinks the token has expired; the client does not
    post_tweet(client, "retried")
    assert fake_twitter.oauth2_refreshes == 1
    assert [r.status for r in fake_twitter.requests if r.endpoint == "POST /2/tweets"] == [401, 201]


def test_another_process_rotated_token_is_used_without_a_refresh(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    path = stored(fake_twitter, tmp_path, expires_in=60)
    stale = load_client(path, api_base=fake_twitter.url)
    refresh_account(path, "bot", api_base=fake_twitter.url)  # "another process"
    post_tweet(stale, "with the token the other one stored")
    assert fake_twitter.oauth2_refreshes == 1


def test_a_refused_refresh_changes_nothing_stored(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    path = stored(fake_twitter, tmp_path, expires_in=0)
    copy = write_private(tmp_path / "copy.json", path.read_text())
    refresh_account(copy, "bot", api_base=fake_twitter.url)  # spends the shared refresh token
    before = path.read_bytes()
    client = load_client(path, api_base=fake_twitter.url)
    with pytest.raises(CredentialsRejectedError) as info:
        post_tweet(client, "never")
    assert path.read_bytes() == before
    assert info.value.status == 400
    assert "already spent" in str(info.value)
    assert "twcreds authorize --oauth2" in str(info.value)
    for secret in secrets_of(only(path), only(copy)):
        assert secret not in shown(info.value)
    assert fake_twitter.tweets == []


@pytest.mark.parametrize("fault", ["close", "hang", "html"])
def test_a_refresh_that_fails_in_passing_changes_nothing_and_the_next_call_works(
    fake_twitter: FakeTwitter, tmp_path: Path, fault: str
) -> None:
    path = stored(fake_twitter, tmp_path, expires_in=0)
    before = path.read_bytes()
    client = load_client(path, api_base=fake_twitter.url, timeout=0.5)
    fake_twitter.fail_next(fault, path="/2/oauth2/token", status=503)  # type: ignore[arg-type]
    expected = TwitterAPIError if fault == "html" else TwitterConnectionError
    with pytest.raises(expected) as info:
        post_tweet(client, "not yet")
    assert path.read_bytes() == before
    assert not isinstance(info.value, CredentialsRejectedError)
    post_tweet(client, "now")
    assert [t.text for t in fake_twitter.tweets] == ["now"]
    assert only(path).refresh_token != json.loads(before)[0]["refresh_token"]


def test_refresh_account_by_name_and_index(fake_twitter: FakeTwitter, tmp_path: Path) -> None:
    path = stored(fake_twitter, tmp_path, expires_in=7200)
    first = refresh_account(path, "@BOT", api_base=fake_twitter.url)
    second = refresh_account(path, "0", api_base=fake_twitter.url)
    assert first.refresh_token != second.refresh_token
    assert only(path) == second
    assert fake_twitter.oauth2_refreshes == 2


def test_refresh_account_refuses_an_oauth1_account(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    path = tmp_path / "accounts.json"
    save_accounts(path, [fake_twitter.issue_token(fake_twitter.create_app(), "classic")])
    with pytest.raises(CredentialsError, match=r"OAuth 1\.0a account, whose tokens do not expire"):
        refresh_account(path, "classic", api_base=fake_twitter.url)


def test_a_refresh_keeps_the_files_layout_and_other_keys(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    app = fake_twitter.create_oauth2_app()
    account = fake_twitter.issue_oauth2_token(app, "single", expires_in=0)
    entry = {**account.model_dump(mode="json"), "note": "my bot"}
    path = write_private(tmp_path / "creds.json", json.dumps(entry))  # one object, no list
    post_tweet(load_client(path, api_base=fake_twitter.url), "hi")
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    assert data["note"] == "my bot"
    assert data["refresh_token"] != entry["refresh_token"]


def test_an_account_from_the_environment_warns_that_its_token_is_spent(
    fake_twitter: FakeTwitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = fake_twitter.issue_oauth2_token(
        fake_twitter.create_oauth2_app(), "envbot", expires_in=0
    )
    values = account.model_dump(mode="json")
    monkeypatch.setenv("TWITTER_CLIENT_ID", values["client_id"])
    monkeypatch.setenv("TWITTER_CLIENT_SECRET", values["client_secret"])
    monkeypatch.setenv("TWITTER_OAUTH2_ACCESS_TOKEN", values["access_token"])
    monkeypatch.setenv("TWITTER_OAUTH2_REFRESH_TOKEN", values["refresh_token"])
    monkeypatch.setenv("TWITTER_OAUTH2_EXPIRES_AT", values["expires_at"])
    client = load_client(api_base=fake_twitter.url)
    with pytest.warns(
        UserWarning, match="the refresh token it was loaded with is now spent"
    ) as caught:
        post_tweet(client, "from the environment")
    assert caught[0].filename == __file__  # points at the caller, not at twcreds
    for secret in secrets_of(account):
        assert secret not in str(caught[0].message)
    kept: list[OAuth2Account] = []
    again = make_client(account, api_base=fake_twitter.url, on_refresh=kept.append)
    with pytest.raises(CredentialsRejectedError):  # the environment's copy was spent above
        post_tweet(again, "no")
    assert kept == []


def test_twenty_threads_sharing_one_stored_account_make_one_refresh(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    path = stored(fake_twitter, tmp_path, expires_in=0)
    clients = [load_client(path, api_base=fake_twitter.url) for _ in range(20)]
    start = threading.Barrier(20)
    errors: list[BaseException] = []

    def post(index: int) -> None:
        start.wait()
        try:
            post_tweet(clients[index], f"thread {index}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(fake_twitter.tweets) == 20
    assert fake_twitter.oauth2_refreshes == 1
    refresh_account(path, "bot", api_base=fake_twitter.url)  # the stored one is the newest


@pytest.mark.slow
def test_twenty_processes_sharing_one_stored_account_make_one_refresh(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    path = stored(fake_twitter, tmp_path, expires_in=0)
    processes = [worker("post", str(path), fake_twitter.url, "bot", "1") for _ in range(20)]
    try:
        # Every process has started and loaded the expired account before any posts.
        assert [read_line(p.stdout) for p in processes] == ["ready"] * 20
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [out.splitlines()[0] for out, _ in results] == ["posted 1"] * 20, results
    assert len(fake_twitter.tweets) == 20
    assert fake_twitter.oauth2_refreshes == 1
    newest = refresh_account(path, "bot", api_base=fake_twitter.url)
    assert newest.refresh_token is not None


@pytest.mark.slow
def test_sigkill_while_refreshing_never_tears_the_store(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    """100 refreshing processes killed at random moments.

    The store must always read back whole, and hold a live refresh token, except where the
    kill fell after X's answer and before the rename (X had already retired the old token):
    that window is the only loss possible. Each child marks where it is (S: request sent,
    A: answer in hand, R: renamed); a lost token must come with S or A last, never after R.
    """
    path = stored(fake_twitter, tmp_path, expires_in=7200)
    marks = tmp_path / "marks"
    zygote = worker("zygote", str(path), fake_twitter.url, "bot", str(marks))
    assert zygote.stdin is not None
    rng = random.Random(20261207)
    outcomes: dict[str, int] = {}
    refreshing = 0  # trials whose child had made a refresh before it was killed
    try:
        assert read_line(zygote.stdout) == "ready"
        for _ in range(100):
            served = fake_twitter.oauth2_refreshes
            marks.write_bytes(b"")
            zygote.stdin.write("fork\n")
            zygote.stdin.flush()
            pid = int(read_line(zygote.stdout))
            time.sleep(rng.uniform(0.02, 0.1))
            os.kill(pid, signal.SIGKILL)
            zygote.stdin.write(f"reap {pid}\n")
            zygote.stdin.flush()
            assert read_line(zygote.stdout) == "killed"
            refreshing += fake_twitter.oauth2_refreshes > served
            last = marks.read_bytes()[-1:].decode() or "-"
            account = only(path)  # never torn
            try:
                refresh_account(path, "bot", api_base=fake_twitter.url)
            except CredentialsRejectedError:
                # Lost: only allowed with the request sent and the rename not yet done.
                assert last in ("S", "A"), f"a token was lost after the rename ({last})"
                outcome = f"lost ({last})"
                fresh = fake_twitter.issue_oauth2_token(account.app, "bot")
                save_accounts(path, [fresh])
            else:
                outcome = f"live ({last})"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    finally:
        zygote.kill()
        zygote.communicate()
    print(f"\nSIGKILL trials by last mark (S sent, A answered, R renamed): {outcomes}")
    assert sum(outcomes.values()) == 100
    assert refreshing >= 75
    # (live with A last: killed after the rename, before the mark; lost with S last: X had
    # rotated and its answer was on the way back. Both are the same unavoidable window.)


# --- the command line ------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_authorize_oauth2_headless_saves_the_account(
    fake_twitter: FakeTwitter,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = fake_twitter.create_oauth2_app()
    client = write_private(tmp_path / "client.json", app.model_dump_json())
    store = tmp_path / "store.json"
    shown_so_far: list[str] = []

    def paste(question: str) -> str:
        out = capsys.readouterr().out
        shown_so_far.append(out)
        url = next(line.strip() for line in out.splitlines() if "/i/oauth2/authorize?" in line)
        return fake_twitter.approve_oauth2(url, "clibot")

    monkeypatch.setattr("builtins.input", paste)
    status, out, err = run(
        capsys,
        "authorize",
        "--oauth2",
        str(client),
        "--headless",
        "--api-base",
        fake_twitter.url,
        "--save",
        str(store),
    )
    assert (status, err) == (0, "")
    account = only(store)
    assert account.screen_name == "clibot"
    assert "Authorized @clibot" in out
    for secret in secrets_of(app, account):
        assert secret not in out + "".join(shown_so_far)


def test_cli_token_prints_a_fresh_token_and_stores_it(
    fake_twitter: FakeTwitter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stored(fake_twitter, tmp_path, expires_in=30)
    status, out, err = run(
        capsys, "token", "bot", "--file", str(path), "--api-base", fake_twitter.url
    )
    assert (status, err) == (0, "")
    account = only(path)
    assert out == account.access_token.get_secret_value() + "\n"
    assert fake_twitter.oauth2_refreshes == 1
    # Still valid: printed again, no refresh.
    status, again, _ = run(
        capsys, "token", "0", "--file", str(path), "--api-base", fake_twitter.url
    )
    assert (status, again, fake_twitter.oauth2_refreshes) == (0, out, 1)


def test_cli_token_refuses_an_oauth1_account(
    fake_twitter: FakeTwitter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "accounts.json"
    save_accounts(path, [fake_twitter.issue_token(fake_twitter.create_app(), "classic")])
    status, out, err = run(capsys, "token", "classic", "--file", str(path))
    assert (status, out) == (1, "")
    assert "OAuth 1.0a account" in err


def test_cli_list_and_check_show_the_kind_expiry_and_scopes(
    fake_twitter: FakeTwitter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = fake_twitter.create_oauth2_app()
    full = fake_twitter.issue_oauth2_token(app, "full", expires_in=0)
    narrow = fake_twitter.issue_oauth2_token(
        app, "narrow", scopes=("tweet.read", "users.read", "offline.access")
    )
    path = tmp_path / "accounts.json"
    save_accounts(path, [full, narrow])
    status, out, err = run(capsys, "list", str(path))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[1].split()[3] == "oauth2"
    assert "expired (refreshable)" in lines[1]
    assert "note: [1] @narrow lacks tweet.write media.write" in out
    status, out, err = run(capsys, "list", str(path), "--json")
    rows = json.loads(out)
    assert rows[1]["missing_scopes"] == ["tweet.write", "media.write"]
    assert rows[0]["scopes"] == list(POSTING_SCOPES)
    status, out, err = run(capsys, "check", str(path), "--api-base", fake_twitter.url)
    assert status == 0, out + err
    assert "@full (user id" in out
    assert "OAuth 2.0, token until" in out
    assert "lacks tweet.write media.write" in out
    assert fake_twitter.oauth2_refreshes == 1  # check refreshed the expired one, and kept it:
    assert load_accounts(path)[0].access_token != full.access_token
    for secret in secrets_of(
        full, narrow, *[a for a in load_accounts(path) if isinstance(a, OAuth2Account)]
    ):
        assert secret not in out + err


def test_an_oauth2_client_survives_pickle_and_deepcopy(fake_twitter: FakeTwitter) -> None:
    import copy
    import pickle

    app = fake_twitter.create_oauth2_app()
    for clone in (pickle.loads, copy.deepcopy):
        account = fake_twitter.issue_oauth2_token(app, "copied", expires_in=0)
        kept: list[OAuth2Account] = []
        client = make_client(account, api_base=fake_twitter.url, on_refresh=kept.append)
        twin = clone(pickle.dumps(client)) if clone is pickle.loads else clone(client)
        post_tweet(twin, f"from a {clone.__name__} copy")
    assert [t.text for t in fake_twitter.tweets] == [
        "from a loads copy",
        "from a deepcopy copy",
    ]
    assert fake_twitter.oauth2_refreshes == 2


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--oauth2", "--pin", "123"], "--pin: not used with --oauth2"),
        (["--oauth2", "--url-only", "--state", "s.json"], "--url-only, --state: not used"),
        (["--headless"], "--headless: only with --oauth2"),
        (["--scopes", "tweet.read", "--redirect-uri", "x"], "--scopes, --redirect-uri: only"),
    ],
)
def test_cli_authorize_refuses_flags_of_the_other_flow(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    assert main(["authorize", *argv]) == 2
    assert words in capsys.readouterr().err


def test_the_whole_oauth2_journey_against_the_emulator_in_processes(tmp_path: Path) -> None:
    """As a person runs it: the emulator, `twcreds authorize --oauth2` waiting for the
    browser, a browser that shows the consent page and clicks "Authorize app", then
    `twcreds token` and a curl-like call with the token."""
    import shutil

    script = shutil.which("twcreds", path=str(Path(sys.executable).parent))
    assert script is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWITTER_", "TWCREDS_"))}
    emulator = subprocess.Popen(
        [script, "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert emulator.stdout is not None
        values: dict[str, str] = {}
        while "TWITTER_USER_ID" not in values:
            line = emulator.stdout.readline()
            assert line, "the emulator stopped"
            if not line.startswith("#"):
                name, _, value = line.strip().partition("=")
                values[name] = value
        base = values["TWCREDS_API_BASE"]
        env.update(values)  # as `set -a; . ./fake.env; set +a` exports them
        store = tmp_path / "store.json"
        redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
        authorize = subprocess.Popen(
            [
                script,
                "authorize",
                "--oauth2",
                "--no-browser",
                "--save",
                str(store),
                "--redirect-uri",
                redirect_uri,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert authorize.stdout is not None
        url = ""
        while not url.startswith("http"):
            line = authorize.stdout.readline()
            assert line, authorize.stderr.read() if authorize.stderr else "stopped"
            url = line.strip()
        # The browser: the consent page, then "Authorize app", then the redirect back.
        page = requests.get(url, timeout=10)
        assert page.status_code == 200
        assert "wants to access your X account" in page.text
        assert "tweet.write" in page.text
        query = urlsplit(url).query
        landed = requests.post(
            f"{base}/i/oauth2/authorize",
            data={"query": query, "screen_name": "journey_bot", "action": "authorize"},
            timeout=10,
        )
        assert landed.status_code == 200
        assert "you can close this tab" in landed.text
        out, err = authorize.communicate(timeout=30)
        assert authorize.returncode == 0, err
        assert "Authorized @journey_bot" in out
        token = subprocess.run(
            [script, "token", "journey_bot", "--file", str(store)],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=False,
        )
        assert token.returncode == 0, token.stderr
        me = requests.get(
            f"{base}/2/users/me",
            headers={"Authorization": f"Bearer {token.stdout.strip()}"},
            timeout=10,
        )
        assert me.json()["data"]["username"] == "journey_bot"
        for secret in secrets_of(only(store)):
            assert secret not in out + err
    finally:
        emulator.send_signal(signal.SIGINT)
        emulator.communicate(timeout=15)


# --- regressions found in review ---------------------------------------------------------


def test_a_refresh_writes_back_to_its_own_entry_after_a_bearer_token(
    fake_twitter: FakeTwitter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    classic = fake_twitter.issue_token(fake_twitter.create_app(), "classic")
    modern = fake_twitter.issue_oauth2_token(fake_twitter.create_oauth2_app(), "modern")
    entries = [
        {"bearer_token": "AAAAbearer" + "x" * 40},
        classic.model_dump(mode="json", exclude_none=True),
        modern.model_dump(mode="json", exclude_none=True),
    ]
    path = write_private(tmp_path / "accounts.json", json.dumps(entries))
    refresh_account(path, "modern", api_base=fake_twitter.url)
    data = json.loads(path.read_text())
    assert data[0] == entries[0]
    assert data[1] == entries[1]  # the OAuth 1.0a entry untouched
    assert data[2]["refresh_token"] != entries[2]["refresh_token"]
    refresh_account(path, "modern", api_base=fake_twitter.url)  # the stored one is live
    status, out, err = run(capsys, "list", str(path))
    assert (status, err) == (0, "")
    assert "@classic" in out
    assert "@modern" in out


def test_add_account_keeps_a_bearer_token_entry(fake_twitter: FakeTwitter, tmp_path: Path) -> None:
    from twcreds import add_account, load_bearer_tokens

    bearer = {"bearer_token": "AAAAbearer" + "y" * 40}
    path = write_private(tmp_path / "accounts.json", json.dumps([bearer]))
    add_account(path, fake_twitter.issue_oauth2_token(fake_twitter.create_oauth2_app(), "bot"))
    assert [t.bearer_token.get_secret_value() for t in load_bearer_tokens(path)] == [
        bearer["bearer_token"]
    ]
    assert [a.screen_name for a in load_accounts(path)] == ["bot"]


def test_an_oauth2_entry_kept_by_a_credential_process_is_refreshed_in_memory(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    account = fake_twitter.issue_oauth2_token(
        fake_twitter.create_oauth2_app(), "vaulted", expires_in=0
    )
    printed = {"Version": 1, **account.model_dump(mode="json", exclude_none=True)}
    script = tmp_path / "vault.py"
    script.write_text(f"import json; print(json.dumps({printed!r}))\n")
    entry = {"credential_process": f"{sys.executable} {script}"}
    path = write_private(tmp_path / "accounts.json", json.dumps([entry]))
    before = path.read_bytes()
    client = load_client(path, api_base=fake_twitter.url)
    with pytest.warns(UserWarning, match="a secret manager"):
        post_tweet(client, "from the vault")
    assert path.read_bytes() == before  # no secret written into the file
    assert fake_twitter.oauth2_refreshes == 1


def test_a_nameless_account_rotated_by_another_process_is_still_found(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    account = fake_twitter.issue_oauth2_token(fake_twitter.create_oauth2_app(), "x", expires_in=0)
    nameless = account.model_copy(update={"screen_name": None, "user_id": None})
    path = tmp_path / "accounts.json"
    save_accounts(path, [nameless])
    first = load_client(path, api_base=fake_twitter.url)
    second = load_client(path, api_base=fake_twitter.url)
    post_tweet(first, "one")  # rotates both tokens
    post_tweet(second, "two")  # finds the rotated entry, uses its token
    assert fake_twitter.oauth2_refreshes == 1
    assert len(fake_twitter.tweets) == 2


def test_a_relative_store_is_still_refreshed_after_a_chdir(
    fake_twitter: FakeTwitter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bot"
    folder.mkdir()
    stored(fake_twitter, folder, expires_in=0)
    monkeypatch.chdir(folder)
    client = load_client("accounts.json", api_base=fake_twitter.url)
    monkeypatch.chdir(tmp_path)  # as a daemon does
    post_tweet(client, "after chdir")
    assert only(folder / "accounts.json").refresh_token is not None
    assert fake_twitter.oauth2_refreshes == 1
    assert not (tmp_path / "accounts.json").exists()


def test_verify_account_of_a_due_bare_account_warns(fake_twitter: FakeTwitter) -> None:
    account = fake_twitter.issue_oauth2_token(fake_twitter.create_oauth2_app(), "v", expires_in=0)
    with pytest.warns(UserWarning, match="now spent"):
        me = verify_account(account, api_base=fake_twitter.url)
    assert isinstance(me, OAuth2Account)
    assert me.refresh_token != account.refresh_token


def test_check_never_spends_the_refresh_token_of_a_source_it_cannot_write(
    fake_twitter: FakeTwitter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from twcreds.formats import dump_accounts

    account = fake_twitter.issue_oauth2_token(fake_twitter.create_oauth2_app(), "e", expires_in=0)
    env = write_private(tmp_path / "bot.env", dump_accounts(account, "env"))
    status, out, _ = run(capsys, "check", str(env), "--api-base", fake_twitter.url)
    assert status == 1
    assert "expired" in out
    assert "not refreshed here" in out
    assert fake_twitter.oauth2_refreshes == 0
    refresh_account_from = tmp_path / "copy.json"
    save_accounts(refresh_account_from, [account])
    refresh_account(refresh_account_from, "e", api_base=fake_twitter.url)  # still live


def test_the_redirect_listener_waits_for_its_own_redirect(fake_twitter: FakeTwitter) -> None:
    answers: list[int] = []

    def browse(url: str, redirect_uri: str) -> None:
        # A connection that sends nothing (a browser's preconnect) must not block it.
        idle = socket.create_connection(("127.0.0.1", urlsplit(redirect_uri).port or 80))
        forged = requests.get(redirect_uri + "?error=access_denied&state=forged", timeout=10)
        answers.append(forged.status_code)
        real = requests.get(fake_twitter.approve_oauth2(url, "patient"), timeout=10)
        answers.append(real.status_code)
        idle.close()

    account = authorize_with_a_browser(fake_twitter, browse)
    assert account.screen_name == "patient"
    assert answers == [400, 200]


def test_a_refresh_runs_no_other_entrys_credential_process(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    classic = fake_twitter.issue_token(fake_twitter.create_app(), "classic")
    counter = tmp_path / "runs"
    printed = {"Version": 1, **classic.model_dump(mode="json", exclude_none=True)}
    script = tmp_path / "vault.py"
    script.write_text(
        "import json, pathlib\n"
        f"p = pathlib.Path({str(counter)!r})\n"
        "p.write_text(p.read_text() + 'x' if p.exists() else 'x')\n"
        f"print(json.dumps({printed!r}))\n"
    )
    modern = fake_twitter.issue_oauth2_token(fake_twitter.create_oauth2_app(), "m", expires_in=0)
    entries = [
        {"credential_process": f"{sys.executable} {script}"},
        modern.model_dump(mode="json", exclude_none=True),
    ]
    path = write_private(tmp_path / "accounts.json", json.dumps(entries))
    client = load_client(path, account="m", api_base=fake_twitter.url)
    assert counter.read_text() == "x"  # run once, to load the file
    post_tweet(client, "refreshed under the lock")
    assert counter.read_text() == "x"  # not again under the lock
    assert json.loads(path.read_text())[0] == entries[0]
    assert only_oauth2(path).refresh_token != modern.refresh_token


def test_adding_an_older_copy_keeps_the_newer_stored_pair(
    fake_twitter: FakeTwitter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from twcreds import add_account
    from twcreds.formats import dump_accounts

    old = fake_twitter.issue_oauth2_token(fake_twitter.create_oauth2_app(), "twice", expires_in=0)
    copy = write_private(tmp_path / "copy.json", dump_accounts(old))  # another tool's file
    store = tmp_path / "store.json"
    add_account(store, old)
    newer = refresh_account(store, "twice", api_base=fake_twitter.url)
    status, out, _ = run(capsys, "add", str(copy), "--file", str(store))
    assert status == 0
    assert "kept that one" in out
    assert only(store) == newer  # the spent pair did not come back
    refresh_account(store, "twice", api_base=fake_twitter.url)  # and it is live


def test_check_spends_no_token_a_secret_manager_keeps(
    fake_twitter: FakeTwitter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = fake_twitter.issue_oauth2_token(
        fake_twitter.create_oauth2_app(), "kept", expires_in=0
    )
    printed = {"Version": 1, **account.model_dump(mode="json", exclude_none=True)}
    script = tmp_path / "vault.py"
    script.write_text(f"import json; print(json.dumps({printed!r}))\n")
    entry = {"credential_process": f"{sys.executable} {script}", "screen_name": "kept"}
    path = write_private(tmp_path / "accounts.json", json.dumps([entry]))
    status, out, _ = run(capsys, "check", str(path), "--api-base", fake_twitter.url)
    assert status == 1
    assert "@kept" in out
    assert fake_twitter.oauth2_refreshes == 0
    copy = tmp_path / "copy.json"
    save_accounts(copy, [account])
    refresh_account(copy, "kept", api_base=fake_twitter.url)  # the manager's token is live


def test_status_names_each_origin_past_a_bearer_token(
    fake_twitter: FakeTwitter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    classic = fake_twitter.issue_token(fake_twitter.create_app(), "classic")
    printed = {"Version": 1, **classic.model_dump(mode="json", exclude_none=True)}
    printed["screen_name"], printed["user_id"] = "vaulted", None
    printed["access_token"] = "999-" + "v" * 30
    script = tmp_path / "vault.py"
    script.write_text(f"import json; print(json.dumps({printed!r}))\n")
    entries = [
        {"bearer_token": "AAAAbearer" + "z" * 40},
        classic.model_dump(mode="json", exclude_none=True),
        {"credential_process": f"{sys.executable} {script}"},
    ]
    path = write_private(tmp_path / "accounts.json", json.dumps(entries))
    _, out, _ = run(capsys, "status", str(path), "--json")
    rows = json.loads(out)
    assert [(row["screen_name"], row["origin"]) for row in rows] == [
        ("classic", "file"),
        ("vaulted", "process"),
    ]


def test_check_asks_about_an_expired_oauth2_token_whatever_the_cache_says(
    fake_twitter: FakeTwitter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stored(fake_twitter, tmp_path, expires_in=7200)
    argv = ["check", str(path), "--api-base", fake_twitter.url]
    assert run(capsys, *argv)[0] == 0
    account = only(path)
    expired = account.model_copy(update={"expires_at": account.expires_at - timedelta(hours=3)})
    save_accounts(path, [expired])
    fake_twitter.clear_records()
    status, out, _ = run(capsys, *argv)
    assert status == 0
    assert "not asked again" not in out
    assert fake_twitter.oauth2_refreshes == 1  # refreshed and verified, not served from cache
