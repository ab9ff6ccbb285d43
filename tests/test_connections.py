"""Clients built inside `shared_connections` share one kept-alive connection, not credentials.

`twcreds check` verifies each account on a worker thread; each worker's clients share one
connection pool (`twcreds._twython.shared_connections`), so a connection is opened once per
worker, not once per account. The offline Twitter checks every signature, so an account
verified as itself proves its request was signed with its own credentials.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests.sessions
import urllib3.util.connection

from twcreds import make_client, verify_account
from twcreds._twython import shared_connections
from twcreds.errors import TwitterConnectionError
from twcreds.models import Account
from twcreds.testing import FakeTwitter


@pytest.fixture
def fake() -> Iterator[FakeTwitter]:
    with FakeTwitter() as server:
        yield server


@pytest.fixture
def accounts(fake: FakeTwitter) -> list[Account]:
    app = fake.create_app()
    return [fake.issue_token(app, f"bot{i}") for i in range(4)]


def counting(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[object]:
    """Count the calls of ``owner.name`` (by appending to the list returned)."""
    calls: list[object] = []
    original: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[:1])
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def verify_all(accounts: list[Account], url: str) -> list[str | None]:
    return [verify_account(account, api_base=url).screen_name for account in accounts]


def test_clients_in_a_block_share_one_connection_and_sign_as_themselves(
    fake: FakeTwitter, accounts: list[Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    connections = counting(monkeypatch, urllib3.util.connection, "create_connection")
    names = [account.screen_name for account in accounts]

    assert verify_all(accounts, fake.url) == names
    assert len(connections) == len(accounts)  # outside a block: one per client

    with shared_connections():
        assert verify_all(accounts, fake.url) == names
    assert len(connections) == len(accounts) + 1


def test_closing_a_client_leaves_the_pool_open_until_the_block_ends(
    fake: FakeTwitter, accounts: list[Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    connections = counting(monkeypatch, urllib3.util.connection, "create_connection")
    with shared_connections():
        first = make_client(accounts[0], api_base=fake.url)
        adapter = first.client.get_adapter(fake.url)
        with first:
            verify_account(first)
        assert adapter.poolmanager.pools  # the client's close() left it open
        with make_client(accounts[1], api_base=fake.url) as second:
            assert second.client.get_adapter(fake.url) is adapter
            verify_account(second)
    assert len(connections) == 1
    assert not adapter.poolmanager.pools  # the block's end closed it


def test_the_environment_is_read_once_per_origin_and_still_obeyed(
    fake: FakeTwitter, accounts: list[Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = counting(monkeypatch, requests.sessions, "get_environ_proxies")
    verify_all(accounts[:2], fake.url)
    assert len(lookups) == 2
    with shared_connections():
        verify_all(accounts, fake.url)
    assert len(lookups) == 3

    # A proxy named by the environment is used in a block too (here: one that is down).
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with shared_connections(), pytest.raises(TwitterConnectionError):
        verify_account(accounts[0], api_base=fake.url, timeout=5)


def test_a_block_lends_its_pool_to_its_own_thread_only(
    fake: FakeTwitter, accounts: list[Account]
) -> None:
    seen: list[object] = []

    def build() -> None:
        with make_client(accounts[1], api_base=fake.url) as client:
            seen.append(client.client.get_adapter(fake.url))

    with shared_connections(), make_client(accounts[0], api_base=fake.url) as client:
        mine = client.client.get_adapter(fake.url)
        thread = threading.Thread(target=build)
        thread.start()
        thread.join()
        with make_client(accounts[2], api_base=fake.url) as again:
            assert again.client.get_adapter(fake.url) is mine
    assert len(seen) == 1
    assert seen[0] is not mine
