"""The secret canary everywhere: every public function, success and failure, never shows a secret.

Secrets are planted (`tests.conftest.CANARY`, and the secrets the offline Twitter issues),
every public entry point is run on good and bad input with logging at DEBUG on every logger
that could see a request, and each sweep ends by looking for the secrets in everything a
user or a log could see: exception messages, reprs and formatted tracebacks (chained
exceptions included), log records (message, arguments, formatted with tracebacks), warnings,
reprs and strings of returned objects, and the offline Twitter's own records. The CLI's
output has its own sweep in ``test_cli.py``.
"""

from __future__ import annotations

import json
import logging
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from tests.conftest import CANARY, write_private
from twcreds import (
    Account,
    AccountList,
    App,
    AuthorizationError,
    BearerToken,
    CredentialsError,
    CredentialsNotFoundError,
    CredentialsRejectedError,
    OAuth2Account,
    PendingAuthorization,
    RateLimitError,
    TwcredsError,
    TwitterAPIError,
    TwitterConnectionError,
    add_account,
    authorize,
    complete_authorization,
    load_account,
    load_accounts,
    load_app,
    load_bearer_tokens,
    load_client,
    load_clients,
    make_client,
    post_tweet,
    remove_account,
    save_accounts,
    start_authorization,
    verify_account,
)
from twcreds.testing import FakeTwitter

LOGGERS = (
    "",
    "twcreds",
    "twcreds.testing",
    "requests",
    "urllib3",
    "requests_oauthlib",
    "oauthlib",
    "twython",
)

KEY = "sweepConsumerKey0001"
TOKEN = "1234-sweepAccessToken"
CANARY2 = CANARY[::-1]  # a second secret, so that two secret fields are told apart


class Sweep:
    """Runs calls, keeps everything they show, and looks for the secrets in all of it."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.secrets: set[str] = {CANARY, CANARY2}
        self.shown: list[tuple[str, str]] = []  # (what, text)
        self.warnings: list[warnings.WarningMessage] = []
        self.fakes: list[FakeTwitter] = []
        self.errors = 0
        self.calls = 0

    def plant(self, *models: BaseModel) -> None:
        """Treat the secret values of ``models`` (and of the models inside) as canaries too."""
        for model in models:
            for value in vars(model).values():
                if isinstance(value, SecretStr):
                    self.secrets.add(value.get_secret_value())
                elif isinstance(value, BaseModel):
                    self.plant(value)

    def ok(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a call that must succeed; keep the repr and str of what it returns."""
        self.calls += 1
        result = call(*args, **kwargs)
        self.show(f"{_name(call)} result", result)
        return result

    def fails(
        self, kind: type[BaseException], call: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> BaseException:
        """Run a call that must raise ``kind``; keep everything the exception shows."""
        self.calls += 1
        # load_clients must raise when called, not when iterated: no iteration here.
        with pytest.raises(kind) as caught:
            call(*args, **kwargs)
        self.errors += 1
        self.show_error(_name(call), caught.value)
        return caught.value

    def show(self, what: str, value: object) -> None:
        self.shown.append((f"repr({what})", repr(value)))
        self.shown.append((f"str({what})", str(value)))
        if isinstance(value, AccountList | list | tuple):
            for index, item in enumerate(value):
                self.show(f"{what}[{index}]", item)

    def show_error(self, what: str, exc: BaseException) -> None:
        self.shown.append((f"traceback of {what}", "".join(traceback.format_exception(exc))))
        link: BaseException | None = exc
        while link is not None:
            self.shown.append((f"{what}: {type(link).__name__}", f"{link!s} {link!r}"))
            self.shown.append((f"{what}: {type(link).__name__}.args", repr(link.args)))
            self.shown.append((f"{what}: {type(link).__name__} attributes", repr(vars(link))))
            link = link.__cause__ or link.__context__

    def check(self) -> None:
        """Fail, naming the place, if any secret shows anywhere."""
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        seen = list(self.shown)
        seen.append(("caplog.text", self.caplog.text))
        for record in self.caplog.records:
            seen.append((f"log record of {record.name}", record.getMessage()))
            seen.append((f"log record args of {record.name}", repr(record.args)))
            seen.append((f"formatted log record of {record.name}", formatter.format(record)))
        for warning in self.warnings:
            seen.append(("warning", f"{warning.message!s} {warning.message!r}"))
        for fake in self.fakes:
            seen.append(("FakeTwitter", repr(fake)))
            seen.append(("FakeTwitter.requests", repr(fake.requests)))
            seen.append(("FakeTwitter.tweets", repr(fake.tweets)))
        leaks = [(what, secret) for what, text in seen for secret in self.secrets if secret in text]
        assert not leaks, f"secrets shown in: {sorted({what for what, _ in leaks})}"
        assert self.calls > 0  # a sweep that ran nothing proves nothing


def _name(call: Callable[..., Any]) -> str:
    return getattr(call, "__name__", repr(call))


@pytest.fixture
def sweep(caplog: pytest.LogCaptureFixture) -> Iterator[Sweep]:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    result = Sweep(caplog)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result.warnings = caught
        yield result


def account_values(**changes: Any) -> dict[str, Any]:
    """An account's values, secrets planted; ``name=...`` leaves a value out."""
    values: dict[str, Any] = {
        "consumer_key": KEY,
        "consumer_secret": CANARY,
        "access_token": TOKEN,
        "access_token_secret": CANARY2,
        "screen_name": "sweepbot",
        "user_id": "1234",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not ...}


def env_text(values: dict[str, Any], prefix: str = "TWITTER_") -> str:
    return "".join(f"{prefix}{k.upper()}={v}\n" for k, v in values.items())


def lines_text(values: dict[str, Any]) -> str:
    keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    return "".join(f"{values[k]}\n" for k in keys)


# --- loading: files, the environment, the default chain ---------------------------------


def test_loaders_never_show_a_secret(
    sweep: Sweep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = account_values()
    second = account_values(access_token="5678-other", screen_name="other", user_id="5678")
    files = {
        "list.json": json.dumps([good, second]),
        "one.json": json.dumps(good),
        "app.json": json.dumps(
            {
                "app": {"consumer_key": KEY, "consumer_secret": CANARY},
                "accounts": [{"access_token": TOKEN, "access_token_secret": CANARY2}],
            }
        ),
        "creds-twitter": lines_text(good),
        "bot.env": env_text(good),
        "multi.env": env_text(good, "BOT1_") + env_text(second, "BOT2_"),
        "app-twitter": f"{KEY}\n{CANARY}\n",
    }
    paths = {name: write_private(tmp_path / name, text) for name, text in files.items()}

    # Success, every loader and format.
    for name, path in paths.items():
        if name == "app-twitter":
            sweep.ok(load_app, path)
            continue
        prefix = "BOT2_" if name == "multi.env" else "TWITTER_"
        accounts = sweep.ok(load_accounts, path, prefix=prefix)
        sweep.ok(load_app, path, prefix=prefix)
        sweep.ok(load_account, path, account=0, prefix=prefix)
        with sweep.ok(load_client, path, account=0, prefix=prefix) as client:
            sweep.show("client", client)
        for account, client in sweep.ok(load_clients, path, prefix=prefix):
            sweep.show("load_clients account", account)
            sweep.show("load_clients client", client)
            client.close()
        with sweep.ok(make_client, accounts[0]) as client:
            sweep.show("make_client", client)
    sweep.ok(load_account, paths["list.json"], account="@Other")

    # Failures on good files: a missing account, an ambiguous choice, a bad choice.
    sweep.fails(CredentialsError, load_account, paths["list.json"])
    sweep.fails(CredentialsError, load_account, paths["list.json"], account="nobody")
    sweep.fails(CredentialsError, load_account, paths["list.json"], account=7)
    sweep.fails(CredentialsError, load_app, paths["list.json"].with_name("nothing.json"))
    sweep.fails(CredentialsError, load_accounts, paths["app-twitter"])
    sweep.fails(CredentialsError, load_accounts, paths["list.json"], format="yaml")
    sweep.fails(CredentialsError, load_client, paths["list.json"], api_base="ftp://x")
    sweep.fails(
        CredentialsError,
        make_client,
        sweep.ok(load_account, paths["one.json"]),
        api_base="http://exa mple",
    )

    # Bad files, every format, secrets in them.
    bad = {
        "spaced.json": json.dumps(account_values(consumer_secret=f"{CANARY} x")),
        "long.json": json.dumps(account_values(access_token_secret=CANARY * 100)),
        "typo.json": json.dumps(account_values(access_token_secret=..., acces_token_secret=CANARY)),
        "broken.json": json.dumps(good)[:-20],
        "dupe.json": json.dumps([good, good]),
        # A secret pasted as a screen name, in an entry that fails: not quoted as its name.
        "swapped.json": json.dumps(
            [account_values(screen_name=CANARY, user_id=None, access_token_secret=""), second]
        ),
        "secret-key.json": json.dumps({CANARY: CANARY2, **good, "access_token": ""}),
        "spaced.env": env_text(account_values(access_token_secret=f"'{CANARY}\t{CANARY2}'")),
        "unparsable.env": env_text(good) + f'TWITTER_CONSUMER_SECRET="{CANARY}\n',
        "typo.env": env_text(account_values(access_token_secret=...))
        + f"TWITTER_ACCES_TOKEN_SECRET={CANARY2}\n",
        "five-lines": lines_text(good) + f"{CANARY}\n",
        "spaced-lines": lines_text(account_values(consumer_secret=f"{CANARY} {CANARY2}")),
    }
    for name, text in bad.items():
        path = write_private(tmp_path / name, text)
        for load in (load_accounts, load_account, load_client, load_clients):
            sweep.fails(CredentialsError, load, path)
        if name in ("typo.env", "dupe.json"):  # the consumer half is sound
            sweep.ok(load_app, path)
    sweep.fails(CredentialsError, load_app, tmp_path / "spaced.json")
    sweep.fails(CredentialsNotFoundError, load_accounts, tmp_path / "missing.json")

    # A file others may read: the warning names it and the fix, never a value.
    loose = tmp_path / "loose.json"
    loose.write_text(json.dumps(good), encoding="utf-8")
    loose.chmod(0o644)
    sweep.ok(load_accounts, loose)

    # The default chain: the environment, TWCREDS_FILE, ./.env, the store.
    for key, value in good.items():
        monkeypatch.setenv(f"TWITTER_{key.upper()}", value)
    sweep.ok(load_accounts)
    sweep.ok(load_account)
    sweep.ok(load_client).close()
    monkeypatch.setenv("TWITTER_ACCESS_TOKEN_SECRET", f"{CANARY2}\n{CANARY}")
    sweep.fails(CredentialsError, load_account)
    monkeypatch.setenv("TWITTER_ACCESS_TOKEN_SECRET", "")
    monkeypatch.setenv("TWCREDS_FILE", str(tmp_path / "spaced.json"))
    sweep.fails(CredentialsError, load_account)
    monkeypatch.setenv("TWCREDS_FILE", str(paths["list.json"]))
    monkeypatch.setenv("TWCREDS_ACCOUNT", "nobody")
    sweep.fails(CredentialsError, load_account)
    monkeypatch.setenv("TWCREDS_ACCOUNT", "other")
    sweep.ok(load_account)
    for name in ("TWCREDS_FILE", "TWCREDS_ACCOUNT", *(f"TWITTER_{k.upper()}" for k in good)):
        monkeypatch.delenv(name)
    write_private(Path(".env"), env_text(account_values(consumer_secret=f"{CANARY}\x00")))
    sweep.fails(CredentialsError, load_account)
    Path(".env").unlink()
    sweep.fails(CredentialsNotFoundError, load_account)

    assert sweep.warnings, "the loose file should have warned"
    assert sweep.errors > 60
    sweep.check()


# --- the models -------------------------------------------------------------------------------


def test_models_never_show_a_secret(sweep: Sweep) -> None:
    account = sweep.ok(Account, **account_values())
    app = sweep.ok(App, consumer_key=KEY, consumer_secret=CANARY)
    pending = sweep.ok(
        PendingAuthorization,
        auth_url="http://127.0.0.1/oauth/authorize?oauth_token=req",
        oauth_token="req",
        oauth_token_secret=CANARY2,
        app=app,
    )
    sweep.ok(AccountList, [account])
    sweep.show("account.app", account.app)
    sweep.show("model_dump", account.model_dump())
    sweep.show("pending model_dump", pending.model_dump())
    sweep.ok(Account.model_validate_json, account.model_dump_json())
    sweep.ok(PendingAuthorization.model_validate_json, pending.model_dump_json())
    sweep.ok(account.model_copy, update={"screen_name": "renamed"})

    sweep.fails(CredentialsError, Account, **account_values(consumer_secret=f"{CANARY} {CANARY}"))
    sweep.fails(CredentialsError, Account, **account_values(access_token_secret=CANARY * 50))
    sweep.fails(CredentialsError, Account, **account_values(screen_name=f"{CANARY}\n{CANARY}"))
    sweep.fails(CredentialsError, App, consumer_key=KEY, consumer_secret=[CANARY])
    sweep.fails(CredentialsError, AccountList, [account, account])
    sweep.fails(CredentialsError, Account.model_validate_json, f'{{"consumer_secret": "{CANARY}"')
    sweep.fails(CredentialsError, Account.model_validate, {CANARY: CANARY2})
    sweep.fails(
        CredentialsError,
        PendingAuthorization.model_validate_json,
        pending.model_dump_json().replace('"req"', f'"{CANARY} x"'),
    )
    sweep.fails(
        CredentialsError, account.model_copy, update={"access_token_secret": f"{CANARY}\t{CANARY}"}
    )
    sweep.fails(AttributeError, setattr, account, "consumer_secret", CANARY)
    sweep.fails(KeyError, account_list_get, AccountList([account]), "nobody")
    sweep.check()


def account_list_get(accounts: AccountList, name: str) -> Account | OAuth2Account:
    return accounts[name]


# --- the network: verify, post, the PIN flow -----------------------------------------------------


def test_twitter_calls_never_show_a_secret(sweep: Sweep, fake_twitter: FakeTwitter) -> None:
    fake = fake_twitter
    sweep.fakes.append(fake)
    url = fake.url
    app = fake.create_app()
    owner = fake.issue_token(app, "sweepowner")
    sweep.plant(app, owner)

    # Success.
    sweep.ok(verify_account, owner, api_base=url)
    with sweep.ok(make_client, owner, api_base=url) as client:
        sweep.ok(verify_account, client)
        sweep.ok(post_tweet, client, "hello from the sweep")

    # A wrong consumer secret, a wrong token secret (both the canary), a revoked token.
    wrong_app = owner.model_copy(update={"consumer_secret": CANARY})
    wrong_token = owner.model_copy(update={"access_token_secret": CANARY2})
    for bad in (wrong_app, wrong_token):
        sweep.fails(CredentialsRejectedError, verify_account, bad, api_base=url)
        with make_client(bad, api_base=url) as client:
            sweep.fails(CredentialsRejectedError, post_tweet, client, "rejected")
            sweep.fails(CredentialsRejectedError, verify_account, client)
    other = fake.issue_token(app, "sweeprevoked")
    sweep.plant(other)
    fake.revoke(other)
    sweep.fails(CredentialsRejectedError, verify_account, other, api_base=url)

    # A read-only token, a duplicate tweet, Twitter's faults, the rate limit.
    reader_app = fake.create_app(permissions="read")
    reader = fake.issue_token(reader_app, "sweepreader")
    sweep.plant(reader_app, reader)
    with make_client(reader, api_base=url) as client:
        sweep.fails(TwitterAPIError, post_tweet, client, "no write")
    with make_client(owner, api_base=url) as client:
        sweep.fails(TwitterAPIError, post_tweet, client, "hello from the sweep")
        for kind in ("close", "html", "garbage"):
            fake.fail_next(kind)
            sweep.fails(TwcredsError, post_tweet, client, f"fault {kind}")
            fake.fail_next(kind)
            sweep.fails(TwcredsError, verify_account, client)
    fake.rate_limit = 1
    fake.reset_rate_limits()
    sweep.ok(verify_account, owner, api_base=url)
    sweep.fails(RateLimitError, verify_account, owner, api_base=url)
    fake.rate_limit = None
    with make_client(owner, api_base="http://127.0.0.1:9", timeout=2) as client:
        sweep.fails(TwitterConnectionError, post_tweet, client, "nowhere")

    # The PIN flow, step by step and whole.
    pending = sweep.ok(start_authorization, app, api_base=url, force_login=True)
    sweep.plant(pending)
    pin = fake.approve(pending.oauth_token, "sweepnew")
    sweep.fails(AuthorizationError, complete_authorization, pending, "0000000")
    pending = sweep.ok(start_authorization, owner, api_base=url, screen_name="@sweepnew")
    sweep.plant(pending)
    pin = fake.approve(pending.oauth_token, "sweepnew")
    sweep.ok(PendingAuthorization.model_validate_json, pending.model_dump_json())
    new = sweep.ok(complete_authorization, pending, pin)
    sweep.plant(new)
    sweep.fails(AuthorizationError, complete_authorization, pending, pin)  # used already
    sweep.fails(AuthorizationError, complete_authorization, pending, "not a pin")
    sweep.fails(AuthorizationError, start_authorization, wrong_app, api_base=url)
    pending = sweep.ok(start_authorization, app, api_base=url)
    fake.deny(pending.oauth_token)
    sweep.fails(AuthorizationError, complete_authorization, pending, 1234567)
    fake.confirm_callback = False
    sweep.fails(AuthorizationError, start_authorization, app, api_base=url)
    fake.confirm_callback = True
    fake.fail_next("close")
    sweep.fails(TwitterConnectionError, start_authorization, app, api_base=url)

    echoed: list[str] = []

    def prompt(_: str) -> str:
        [pending_token] = _pending_tokens(echoed)
        return fake.approve(pending_token, "sweepwhole")

    whole = sweep.ok(
        authorize, app, api_base=url, open_browser=False, prompt=prompt, echo=echoed.append
    )
    sweep.plant(whole)
    sweep.shown.extend(("authorize echo", line) for line in echoed)
    echoed.clear()
    sweep.fails(
        AuthorizationError,
        authorize,
        wrong_app,
        api_base=url,
        open_browser=False,
        prompt=prompt,
        echo=echoed.append,
    )
    sweep.shown.extend(("authorize echo", line) for line in echoed)
    # Logging really was on: the HTTP and OAuth layers logged every request at DEBUG.
    logged = {record.name.split(".")[0] for record in sweep.caplog.records}
    assert {"urllib3", "oauthlib", "requests_oauthlib", "twcreds"} <= logged
    sweep.check()


def _pending_tokens(echoed: list[str]) -> list[str]:
    """The request token of the last authorize URL shown."""
    from urllib.parse import parse_qs, urlsplit

    urls = [line.strip() for line in echoed if "oauth_token=" in line]
    return parse_qs(urlsplit(urls[-1]).query)["oauth_token"][:1]


# --- storage --------------------------------------------------------------------------------------


def test_storage_never_shows_a_secret(sweep: Sweep, tmp_path: Path, private_umask: None) -> None:
    first = Account(**account_values())
    second = Account(
        **account_values(access_token="5678-other", screen_name="other", user_id="5678")
    )
    store = tmp_path / "store" / "accounts.json"

    sweep.ok(save_accounts, store, [first])
    sweep.ok(add_account, store, second)
    sweep.ok(add_account, store, second.model_copy(update={"access_token_secret": CANARY + "x"}))
    sweep.secrets.add(CANARY + "x")
    sweep.ok(load_accounts, store)
    sweep.ok(remove_account, store, "@other")
    sweep.ok(remove_account, store, "1234")
    sweep.ok(save_accounts, store, [first, second])

    sweep.fails(CredentialsError, save_accounts, store, [first, first])
    sweep.fails(CredentialsError, save_accounts, tmp_path, [first])  # a directory in the way
    sweep.fails(CredentialsError, remove_account, store, "nobody")
    sweep.fails(CredentialsNotFoundError, remove_account, tmp_path / "none.json", "x")
    # Renamed to the screen name of another stored account: two @other after the update.
    renamed = first.model_copy(update={"screen_name": "Other"})
    sweep.fails(CredentialsError, add_account, store, renamed)
    broken = write_private(tmp_path / "broken.json", json.dumps([account_values()])[:-30])
    sweep.fails(CredentialsError, add_account, broken, first)
    sweep.fails(CredentialsError, remove_account, broken, "sweepbot")
    spaced = json.dumps([account_values(consumer_secret=f"{CANARY} {CANARY2}")])
    sweep.fails(CredentialsError, add_account, write_private(tmp_path / "s.json", spaced), second)
    blocker = write_private(tmp_path / "file", "")
    sweep.fails(CredentialsError, save_accounts, blocker / "sub" / "accounts.json", [first])
    sweep.check()


def test_the_sweep_finds_a_planted_leak(caplog: pytest.LogCaptureFixture) -> None:
    """The sweep's own check: a secret in a log, a warning, an error or a repr is found."""
    leaks: list[Callable[[Sweep], object]] = [
        lambda s: logging.getLogger("urllib3.connectionpool").debug("sent %s", CANARY),
        lambda s: logging.getLogger("twcreds").info(CANARY2),
        lambda s: warnings.warn(f"oops {CANARY}", UserWarning, stacklevel=1),
        lambda s: s.fails(ValueError, int, CANARY),
        lambda s: s.ok(dict, secret=CANARY),
    ]
    for leak in leaks:
        caplog.clear()
        for name in LOGGERS:
            caplog.set_level(logging.DEBUG, logger=name or None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sweep = Sweep(caplog)
            sweep.warnings = caught
            sweep.calls = 1
            leak(sweep)
            with pytest.raises(AssertionError, match="secrets shown in"):
                sweep.check()


# --- app-only bearer tokens ----------------------------------------------------------------------


def test_bearer_tokens_never_show_a_secret(
    sweep: Sweep, tmp_path: Path, fake_twitter: FakeTwitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_twitter
    sweep.fakes.append(fake)
    app = fake.create_app()
    issued = fake.create_bearer_token(app)
    sweep.secrets.add(issued.bearer_token.get_secret_value())
    token = sweep.ok(BearerToken, bearer_token=CANARY, consumer_key=KEY)
    sweep.show("model_dump", token.model_dump())
    sweep.ok(BearerToken.model_validate_json, token.model_dump_json())
    good = write_private(tmp_path / "b.json", json.dumps([{"bearer_token": CANARY}]))
    sweep.ok(load_bearer_tokens, good)
    env = write_private(tmp_path / "b.env", f"TWITTER_BEARER_TOKEN={CANARY2}\n")
    sweep.ok(load_bearer_tokens, env)
    sweep.fails(CredentialsError, load_accounts, good)
    for bad in (f"{CANARY} {CANARY}", [CANARY], CANARY * 50, f"${{{CANARY}}}"):
        path = write_private(tmp_path / "bad.json", json.dumps({"bearer_token": bad}))
        sweep.fails(CredentialsError, load_bearer_tokens, path)
    sweep.fails(CredentialsError, BearerToken.model_validate, {"bearer-token": CANARY})
    sweep.fails(CredentialsError, BearerToken.model_validate_json, f'{{"bearer_token": "{CANARY}')
    sweep.fails(AttributeError, setattr, token, "bearer_token", CANARY)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", f"{CANARY}\t{CANARY2}")
    sweep.fails(CredentialsError, load_bearer_tokens)
    client = sweep.ok(make_client, issued, api_base=fake.url)
    sweep.fails(CredentialsError, post_tweet, client, "hello")
    sweep.fails(CredentialsError, verify_account, client)
    sweep.ok(client.client.get, f"{fake.url}/2/users/me")
    sweep.check()


# --- media and today's refusals --------------------------------------------------------------


def test_media_and_todays_refusals_never_show_a_secret(sweep: Sweep, tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from twcreds import CreditsDepletedError, upload_media

    png = b"\x89PNG\r\n\x1a\n" + bytes(2000)
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(5 * 1024 * 1024))
    with FakeTwitter(daily_limit=2, credits=2) as fake:
        sweep.fakes.append(fake)
        url = fake.url
        app = fake.create_app()
        owner = fake.issue_token(app, "sweepmedia")
        sweep.plant(app, owner)
        client2 = fake.create_oauth2_app()
        modern = fake.issue_oauth2_token(client2, "sweepmodern")
        narrow = fake.issue_oauth2_token(client2, "sweepnarrow", scopes=("tweet.read",))
        for account in (modern, narrow):
            for secret in (account.access_token, account.refresh_token, client2.client_secret):
                if secret is not None:
                    sweep.secrets.add(secret.get_secret_value())
        bearer = fake.create_bearer_token(app)
        sweep.secrets.add(bearer.bearer_token.get_secret_value())
        mistaken = OAuth2Account(
            client_id=client2.client_id,
            access_token=bearer.bearer_token,
            expires_at=datetime.now(timezone.utc) + timedelta(hours=2),
        )

        with make_client(owner, api_base=url) as client:
            sweep.ok(upload_media, client, png)
            sweep.ok(post_tweet, client, "with a video", media=[video])
            sweep.fails(CredentialsError, upload_media, client, png + bytes(6 * 1024 * 1024))
            sweep.fails(CredentialsError, post_tweet, client, CANARY * 10)
            fake.fail_next_media("Unsupported video format")
            sweep.fails(TwitterAPIError, upload_media, client, video)
            sweep.ok(post_tweet, client, "the last credit")
            sweep.fails(CreditsDepletedError, post_tweet, client, "no credit left")
            sweep.fails(CreditsDepletedError, verify_account, client)
            fake.credits = None
            sweep.fails(RateLimitError, post_tweet, client, "over the daily cap")
        with make_client(modern, api_base=url, on_refresh=lambda _: None) as client:
            sweep.ok(upload_media, client, png)
        with make_client(narrow, api_base=url, on_refresh=lambda _: None) as client:
            sweep.fails(CredentialsError, upload_media, client, png)
        with make_client(mistaken, api_base=url, on_refresh=lambda _: None) as client:
            sweep.fails(TwitterAPIError, upload_media, client, png)
            sweep.fails(TwitterAPIError, verify_account, client)
        fake.set_app_enrolled(app, False)
        sweep.fails(TwitterAPIError, verify_account, owner, api_base=url)
        with make_client(bearer, api_base=url) as client:
            sweep.fails(CredentialsError, upload_media, client, png)
        sweep.show("fake.media", fake.media)


# --- OAuth 2.0 ------------------------------------------------------------------------------


def test_oauth2_never_shows_a_secret(
    sweep: Sweep,
    fake_twitter: FakeTwitter,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from twcreds import (
        OAuth2Account,
        OAuth2App,
        PendingOAuth2Authorization,
        authorize_oauth2,
        complete_oauth2_authorization,
        refresh_account,
        start_oauth2_authorization,
    )
    from twcreds.cli import main

    fake = fake_twitter
    sweep.fakes.append(fake)
    url = fake.url
    app = fake.create_oauth2_app()
    public = fake.create_oauth2_app(confidential=False)
    sweep.plant(app, public)

    # The PKCE flow: success, then every refusal.
    pending = sweep.ok(start_oauth2_authorization, app, api_base=url)
    sweep.plant(pending)
    redirect = fake.approve_oauth2(pending.auth_url, "sweep2")
    sweep.secrets.add(parse_qs(urlsplit(redirect).query)["code"][0])
    sweep.ok(PendingOAuth2Authorization.model_validate_json, pending.model_dump_json())
    account = sweep.ok(complete_oauth2_authorization, pending, redirect)
    sweep.plant(account)
    sweep.fails(AuthorizationError, complete_oauth2_authorization, pending, redirect)  # used
    sweep.fails(AuthorizationError, complete_oauth2_authorization, pending, redirect + "x")
    pending = sweep.ok(start_oauth2_authorization, public, api_base=url)
    sweep.plant(pending)
    sweep.fails(
        AuthorizationError,
        complete_oauth2_authorization,
        pending,
        fake.deny_oauth2(pending.auth_url),
    )
    wrong = OAuth2App(client_id=app.client_id, client_secret=CANARY)
    pending = sweep.ok(start_oauth2_authorization, wrong, api_base=url)
    sweep.fails(
        AuthorizationError,
        complete_oauth2_authorization,
        pending,
        fake.approve_oauth2(pending.auth_url, "sweep2"),
    )
    echoed: list[str] = []

    def paste(_: str) -> str:
        return fake.approve_oauth2(
            next(line.strip() for line in echoed if "authorize?" in line), "sweep3"
        )

    whole = sweep.ok(
        authorize_oauth2, app, headless=True, prompt=paste, echo=echoed.append, api_base=url
    )
    sweep.plant(whole)
    sweep.shown.extend(("authorize_oauth2 echo", line) for line in echoed)

    # Clients, refreshes, and refused refreshes.
    with sweep.ok(make_client, account, api_base=url) as client:
        sweep.ok(verify_account, client)
        sweep.ok(post_tweet, client, "hello from the OAuth 2.0 sweep")
    expired = fake.issue_oauth2_token(app, "sweepdue", expires_in=0)
    sweep.plant(expired)
    store = tmp_path / "accounts.json"
    save_accounts(store, [expired])
    copy = tmp_path / "copy.json"
    save_accounts(copy, [expired])
    client = sweep.ok(load_client, store, api_base=url)
    sweep.ok(post_tweet, client, "after a refresh")
    sweep.plant(*load_accounts(store))
    sweep.fails(CredentialsRejectedError, refresh_account, copy, "sweepdue", api_base=url)
    fake.fail_next("html", path="/2/oauth2/token", status=503)
    sweep.fails(TwitterAPIError, refresh_account, store, "sweepdue", api_base=url)
    fake.fail_next("close", path="/2/oauth2/token")
    sweep.fails(TwitterConnectionError, refresh_account, store, "sweepdue", api_base=url)
    renewed = sweep.ok(refresh_account, store, "sweepdue", api_base=url)
    sweep.plant(renewed)
    sweep.ok(verify_account, renewed, api_base=url)
    # An account from the environment: its refresh warns (the sweep keeps the warning).
    from_env = fake.issue_oauth2_token(app, "sweepenv", expires_in=0)
    sweep.plant(from_env)
    values = from_env.model_dump(mode="json")
    for key, var in (
        ("client_id", "CLIENT_ID"),
        ("client_secret", "CLIENT_SECRET"),
        ("access_token", "OAUTH2_ACCESS_TOKEN"),
        ("refresh_token", "OAUTH2_REFRESH_TOKEN"),
        ("expires_at", "OAUTH2_EXPIRES_AT"),
    ):
        monkeypatch.setenv(f"TWITTER_{var}", values[key])
    sweep.ok(post_tweet, sweep.ok(load_client, api_base=url), "from the environment")
    assert any("now spent" in str(w.message) for w in sweep.warnings)
    monkeypatch.setenv("TWITTER_OAUTH2_EXPIRES_AT", "soon")
    sweep.fails(CredentialsError, load_client)
    for name in (
        "CLIENT_ID",
        "CLIENT_SECRET",
        "OAUTH2_ACCESS_TOKEN",
        "OAUTH2_REFRESH_TOKEN",
        "OAUTH2_EXPIRES_AT",
    ):
        monkeypatch.delenv(f"TWITTER_{name}")
    sweep.plant(*load_accounts(store))

    # The command line: nothing but `token`'s stdout may show a token.
    capsys.readouterr()
    for argv in (
        ["list", str(store)],
        ["list", str(store), "--json"],
        ["check", str(store), "--api-base", url],
        ["check", str(copy), "--api-base", url],
        ["token", "sweepdue", "--file", str(copy), "--api-base", url],
        ["authorize", "--oauth2", str(copy), "--headless", "--api-base", "http://127.0.0.1:9"],
    ):
        main(argv)
        out, err = capsys.readouterr()
        sweep.shown.append((f"twcreds {argv[0]} stdout", out))
        sweep.shown.append((f"twcreds {argv[0]} stderr", err))
    main(["token", "sweepdue", "--file", str(store), "--min-valid", "99999", "--api-base", url])
    out, err = capsys.readouterr()
    sweep.shown.append(("twcreds token stderr", err))
    [latest] = load_accounts(store)
    assert isinstance(latest, OAuth2Account)
    assert out == latest.access_token.get_secret_value() + "\n"  # its one job
    logged = {record.name.split(".")[0] for record in sweep.caplog.records}
    assert {"urllib3", "twcreds"} <= logged
    sweep.check()


# --- the sources of issue 13: peer files, VAR_FILE, directories, credential_process ---------


def test_more_sources_never_show_a_secret(
    sweep: Sweep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from tests.test_peers import TWARC, TWARC2, TWURLRC, XURL
    from twcreds import load_bearer_tokens

    good = account_values()
    # Peer files: every format, sound and broken, and their bearer tokens.
    (tmp_path / "twarc").mkdir()
    (tmp_path / ".xurl").mkdir()
    peers = {
        ".twurlrc": TWURLRC,
        ".twarc": TWARC,
        "twarc/config": TWARC2,
        ".xurl/auth.yml": XURL,
    }
    for name, text in peers.items():
        path = write_private(tmp_path / name, text)
        sweep.ok(load_accounts, path)
        sweep.ok(load_account, path)
        if name != ".twarc":
            sweep.ok(load_bearer_tokens, path)
        broken = write_private(
            tmp_path / f"broken-{path.name}",
            text.replace("token", "tokn").replace("secret", "s3cret"),
        )
        sweep.fails(CredentialsError, load_accounts, broken, format=_peer_format(name))
    sweep.fails(CredentialsError, load_accounts, write_private(tmp_path / ".xrc", f"a: [{CANARY}"))

    # VAR_FILE: sound, both set, missing, loose (warns).
    secret_file = write_private(tmp_path / "secret", CANARY + "\n")
    for key, value in good.items():
        monkeypatch.setenv(f"TWITTER_{key.upper()}", value)
    monkeypatch.delenv("TWITTER_CONSUMER_SECRET")
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET_FILE", str(secret_file))
    sweep.ok(load_account)
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET", CANARY2)
    sweep.fails(CredentialsError, load_account)
    monkeypatch.delenv("TWITTER_CONSUMER_SECRET")
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET_FILE", str(tmp_path / "nothing"))
    sweep.fails(CredentialsError, load_account)
    secret_file.chmod(0o644)
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET_FILE", str(secret_file))
    sweep.ok(load_account)
    for key in good:
        monkeypatch.delenv(f"TWITTER_{key.upper()}", raising=False)
    monkeypatch.delenv("TWITTER_CONSUMER_SECRET_FILE")

    # A secrets directory: sound, a link out of it, a value with a space.
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for key, value in good.items():
        write_private(secrets / key, value)
    sweep.ok(load_account, secrets)
    (secrets / "access_token_secret").unlink()
    (secrets / "access_token_secret").symlink_to(secret_file)
    sweep.fails(CredentialsError, load_account, secrets)
    (secrets / "access_token_secret").unlink()
    write_private(secrets / "access_token_secret", f"{CANARY} {CANARY2}")
    sweep.fails(CredentialsError, load_account, secrets)

    # credential_process: sound, failing, garbage, hanging.
    def helper(name: str, body: str) -> str:
        path = tmp_path / name
        path.write_text(f"#!{sys.executable}\nimport json, sys, time\n{body}\n", encoding="utf-8")
        path.chmod(0o700)
        return str(path)

    printed = json.dumps({"Version": 1, **good})
    runs = {
        "good": (f"print({printed!r})", None),
        "failing": (f"print({printed!r}); print({CANARY!r}); sys.exit(2)", CredentialsError),
        "garbage": (f"print({CANARY!r} + '{{')", CredentialsError),
        "unversioned": (f"print({json.dumps(good)!r})", CredentialsError),
        "hanging": (f"print({printed!r}, flush=True); time.sleep(60)", CredentialsError),
    }
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS_TIMEOUT", "1")
    for name, (body, error) in runs.items():
        monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", helper(name, body))
        if error is None:
            sweep.ok(load_accounts)
        else:
            sweep.fails(error, load_account)
    monkeypatch.delenv("TWCREDS_CREDENTIAL_PROCESS")
    entry = [{"credential_process": helper("entry", f"print({printed!r})")}]
    store = write_private(tmp_path / "store.json", json.dumps(entry))
    sweep.ok(load_accounts, store)
    sweep.fails(CredentialsError, add_account, store, Account(**account_values(user_id=None)))

    assert sweep.warnings, "the loose value file should have warned"
    sweep.check()


def _peer_format(name: str) -> str:
    return {".twurlrc": "twurlrc", ".twarc": "twarc", "twarc/config": "twarc2"}.get(name, "xurl")


def test_the_keyring_never_shows_a_secret(
    sweep: Sweep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pass_store: Path
) -> None:
    pytest.importorskip("keyring_pass", reason="keyring-pass is in the test extra")
    from twcreds.store import add_accounts

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring_pass.PasswordStoreBackend")
    store = tmp_path / "accounts.json"
    account = Account(**account_values())
    sweep.ok(add_accounts, store, [account], keyring="twcreds")
    assert CANARY not in store.read_text(encoding="utf-8")
    sweep.ok(load_accounts, store)
    sweep.ok(load_account, store)
    sweep.ok(add_account, store, Account(**account_values(access_token="9-x", user_id=None)))
    sweep.ok(remove_account, store, "sweepbot")
    stub = {"keyring": "twcreds", "consumer_key": KEY, "access_token": "1234-gone"}
    sweep.fails(
        CredentialsError, load_accounts, write_private(tmp_path / "gone.json", json.dumps([stub]))
    )
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    sweep.fails(CredentialsError, add_accounts, tmp_path / "new.json", [account], keyring="x")
    sweep.check()
