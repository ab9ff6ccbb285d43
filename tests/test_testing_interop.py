"""FakeTwitter against what other clients and Twitter's own documents send.

Real HTTP on 127.0.0.1 and real signatures: requests-oauthlib, oauthlib's RFC 5849 code
(where a request must be built by hand, as another client would build it), and, when it can
be installed from the local npm cache, the Node client twitter-api-v2 itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
from oauthlib.oauth1 import Client as OAuth1Client  # type: ignore[import-untyped]
from oauthlib.oauth1.rfc5849 import signature  # type: ignore[import-untyped]
from requests_oauthlib import OAuth1  # type: ignore[import-untyped]

from twcreds.models import Account, App
from twcreds.testing import FakeTwitter

FORM = "application/x-www-form-urlencoded"
MISSING_ALL = (
    "missing oauth_consumer_key, oauth_signature, oauth_signature_method, oauth_timestamp, "
    "oauth_nonce"
)
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}


@pytest.fixture
def fake() -> Iterator[FakeTwitter]:
    with FakeTwitter() as server:
        yield server


@pytest.fixture
def app(fake: FakeTwitter) -> App:
    return fake.create_app()


@pytest.fixture
def account(fake: FakeTwitter, app: App) -> Account:
    return fake.issue_token(app, "alice")


def secret(value: Any) -> str:
    return str(value.get_secret_value())


def oauth1(account: Account, **options: Any) -> OAuth1:
    return OAuth1(
        account.consumer_key,
        secret(account.consumer_secret),
        account.access_token,
        secret(account.access_token_secret),
        **options,
    )


def header(oauth: dict[str, str]) -> str:
    """An ``Authorization`` header as RFC 5849 section 3.5.1 writes it."""
    return "OAuth " + ", ".join(f'{k}="{quote(v, safe="~")}"' for k, v in oauth.items())


def hmac_sha1(
    method: str, uri: str, params: list[tuple[str, str]], consumer_secret: str, token_secret: str
) -> str:
    """oauthlib's signature over exactly ``params`` (as a client that merges them signs)."""
    base = signature.signature_base_string(
        method, signature.base_string_uri(uri), signature.normalize_parameters(params)
    )
    keys = OAuth1Client("", client_secret=consumer_secret, resource_owner_secret=token_secret)
    return str(signature.sign_hmac_sha1_with_client(base, keys))


def oauth_params(consumer_key: str, token: str | None = None) -> dict[str, str]:
    params = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": os.urandom(16).hex(),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(int(time.time())),
        "oauth_version": "1.0",
    }
    if token is not None:
        params["oauth_token"] = token
    return params


def request_token(fake: FakeTwitter, app: App) -> tuple[str, str]:
    auth = OAuth1(app.consumer_key, secret(app.consumer_secret), callback_uri="oob")
    answer = requests.post(fake.url + "/oauth/request_token", auth=auth, timeout=5)
    assert answer.status_code == 200, answer.text
    values = dict(pair.split("=", 1) for pair in answer.text.split("&"))
    return values["oauth_token"], values["oauth_token_secret"]


# --- 13: an oauth_* parameter repeated with the same value ---------------------------------


def _merged_exchange(
    fake: FakeTwitter, app: App, token: str, token_secret: str, body_token: str, pin: str
) -> requests.Response:
    """``/oauth/access_token`` as twitter-api-v2's ``login()`` sends it.

    ``oauth_token`` goes in the header and, with ``oauth_verifier``, in the form body; the
    signature covers the merged parameters, where the repeated name counts once.
    """
    url = fake.url + "/oauth/access_token"
    oauth = oauth_params(app.consumer_key, token)
    form = {"oauth_token": body_token, "oauth_verifier": pin}
    merged = {**oauth, **form}
    oauth["oauth_signature"] = hmac_sha1(
        "POST", url, list(merged.items()), secret(app.consumer_secret), token_secret
    )
    return requests.post(
        url,
        data=urlencode(form),
        headers={"Authorization": header(oauth), "Content-Type": FORM},
        timeout=5,
    )


def _rfc_exchange(
    fake: FakeTwitter, app: App, token: str, token_secret: str, body_token: str, pin: str
) -> requests.Response:
    """The same request signed by oauthlib's client, which counts every occurrence."""
    url = fake.url + "/oauth/access_token"
    client = OAuth1Client(
        app.consumer_key,
        client_secret=secret(app.consumer_secret),
        resource_owner_key=token,
        resource_owner_secret=token_secret,
    )
    body = urlencode({"oauth_token": body_token, "oauth_verifier": pin})
    uri, headers, signed_body = client.sign(url, "POST", body, {"Content-Type": FORM})
    return requests.post(uri, data=signed_body, headers=headers, timeout=5)


@pytest.mark.parametrize("send", [_merged_exchange, _rfc_exchange], ids=["merged", "rfc5849"])
def test_oauth_token_in_the_header_and_the_body_with_the_same_value(
    fake: FakeTwitter, app: App, send: Any
) -> None:
    token, token_secret = request_token(fake, app)
    pin = fake.approve(token, "nodebot")
    answer = send(fake, app, token, token_secret, token, pin)
    assert answer.status_code == 200, answer.text
    values = dict(pair.split("=", 1) for pair in answer.text.split("&"))
    assert values["screen_name"] == "nodebot"
    record = fake.requests[-1]
    assert (record.endpoint, record.status, record.verified) == (
        "POST /oauth/access_token",
        200,
        True,
    )


@pytest.mark.parametrize("send", [_merged_exchange, _rfc_exchange], ids=["merged", "rfc5849"])
def test_an_oauth_parameter_repeated_with_another_value_is_refused(
    fake: FakeTwitter, app: App, send: Any
) -> None:
    token, token_secret = request_token(fake, app)
    other, _ = request_token(fake, app)
    pin = fake.approve(token, "nodebot")
    answer = send(fake, app, token, token_secret, other, pin)
    assert answer.status_code == 400
    assert answer.json() == {"errors": [{"code": 215, "message": "Bad Authentication data."}]}
    record = fake.requests[-1]
    assert (record.error_code, record.verified) == (215, False)
    assert record.reason == "oauth_token sent twice with different values"
    # The request token is still good: nothing was exchanged.
    assert send(fake, app, token, token_secret, token, pin).status_code == 200


def test_a_repeated_value_does_not_cover_a_tampered_signature(fake: FakeTwitter, app: App) -> None:
    token, token_secret = request_token(fake, app)
    pin = fake.approve(token, "nodebot")
    answer = _merged_exchange(fake, app, token, token_secret + "x", token, pin)
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == 32
    assert fake.requests[-1].reason == "bad signature"


# twitter-api-v2 addresses https://api.x.com; this agent hands its requests, unencrypted, to
# the fake, which checks them against that URL (public_url).
_NODE_SCRIPT = textwrap.dedent(
    """
    const http = require("http");
    const net = require("net");
    const { TwitterApi } = require("twitter-api-v2");

    const env = process.env;
    const agent = new http.Agent();
    agent.protocol = "https:";
    agent.createConnection = () => net.connect(Number(env.FAKE_PORT), "127.0.0.1");
    const settings = { httpAgent: agent };
    const keys = { appKey: env.APP_KEY, appSecret: env.APP_SECRET };

    async function main() {
      if (process.argv[2] === "request") {
        const link = await new TwitterApi(keys, settings).generateAuthLink("oob");
        return { oauth_token: link.oauth_token, oauth_token_secret: link.oauth_token_secret };
      }
      const pending = new TwitterApi(
        { ...keys, accessToken: env.OAUTH_TOKEN, accessSecret: env.OAUTH_TOKEN_SECRET },
        settings,
      );
      const { client, screenName, userId } = await pending.login(env.PIN);
      const me = await client.v2.me();
      const tweet = await client.v2.tweet("hello from twitter-api-v2");
      return { screenName, userId, me: me.data, tweet: tweet.data };
    }

    main().then(
      (result) => console.log(JSON.stringify(result)),
      (error) => {
        console.error(String(error), JSON.stringify(error.data || null));
        process.exit(1);
      },
    );
    """
)


# twitter-api-v2's OAuth 2.0 user context: the link (PKCE, "s256"), the code exchange,
# calls with the bearer token, a refresh (which must rotate) and a revoke. Every call goes
# to https://api.x.com, handed to the fake by the same agent as above.
_NODE_OAUTH2_SCRIPT = textwrap.dedent(
    """
    const http = require("http");
    const net = require("net");
    const { TwitterApi } = require("twitter-api-v2");

    const env = process.env;
    const agent = new http.Agent();
    agent.protocol = "https:";
    agent.createConnection = () => net.connect(Number(env.FAKE_PORT), "127.0.0.1");
    const settings = { httpAgent: agent };
    const app = () => new TwitterApi(
      { clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET || undefined }, settings,
    );
    const scope = ["tweet.read", "tweet.write", "users.read", "offline.access"];

    async function main() {
      if (process.argv[2] === "link") {
        const link = app().generateOAuth2AuthLink(env.REDIRECT, { scope });
        return { url: link.url, state: link.state, codeVerifier: link.codeVerifier };
      }
      const login = await app().loginWithOAuth2({
        code: env.CODE, codeVerifier: env.CODE_VERIFIER, redirectUri: env.REDIRECT,
      });
      const me = await login.client.v2.me();
      const renewed = await app().refreshOAuth2Token(login.refreshToken);
      let reuse = null;
      try {
        await app().refreshOAuth2Token(login.refreshToken);
      } catch (error) {
        reuse = { code: error.code, data: error.data };
      }
      const tweet = await renewed.client.v2.tweet("hello from twitter-api-v2 over OAuth 2.0");
      await app().revokeOAuth2Token(renewed.accessToken, "access_token");
      let revoked = null;
      try {
        await renewed.client.v2.me();
      } catch (error) {
        revoked = { code: error.code, data: error.data };
      }
      return {
        scope: login.scope, expiresIn: login.expiresIn, me: me.data, tweet: tweet.data,
        rotated: renewed.refreshToken !== login.refreshToken, reuse, revoked,
      };
    }

    main().then(
      (result) => console.log(JSON.stringify(result)),
      (error) => {
        console.error(String(error), JSON.stringify(error.data || null));
        process.exit(1);
      },
    );
    """
)


#: Where `.ci/run` installs twitter-api-v2 (ignored by git): `npm install --prefix .ci/node`.
NODE_PREFIX = Path(__file__).resolve().parents[1] / ".ci" / "node"


@pytest.fixture(scope="module")
def twitter_api_v2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where ``require("twitter-api-v2")`` works.

    `.ci/run` installs the package into ``.ci/node``; failing that, it is installed from the
    local npm cache only (no network), and the test is skipped when it is not there either.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("twitter-api-v2 test: node and npm are not installed")
    folder = tmp_path_factory.mktemp("node")
    if (NODE_PREFIX / "node_modules" / "twitter-api-v2").is_dir():
        (folder / "node_modules").symlink_to(NODE_PREFIX / "node_modules")
    else:
        done = subprocess.run(
            [
                npm,
                "install",
                "--offline",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(folder),
                "twitter-api-v2@1",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            said = [line for line in done.stderr.splitlines() if "log of this run" not in line]
            pytest.skip(
                "twitter-api-v2 test: not in .ci/node (`.ci/run` installs it there) nor in "
                "the npm cache; npm said: " + " / ".join(said[:2])
            )
    (folder / "client.js").write_text(_NODE_SCRIPT, encoding="utf-8")
    (folder / "oauth2.js").write_text(_NODE_OAUTH2_SCRIPT, encoding="utf-8")
    return folder


def _node(folder: Path, mode: str, env: dict[str, str], script: str = "client.js") -> Any:
    done = subprocess.run(
        ["node", str(folder / script), mode],
        cwd=folder,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_twitter_api_v2_pin_login_reads_me_and_posts(twitter_api_v2: Path) -> None:
    with FakeTwitter(public_url="https://api.x.com") as fake:
        app = fake.create_app()
        env = {
            "FAKE_PORT": str(fake.port),
            "APP_KEY": app.consumer_key,
            "APP_SECRET": secret(app.consumer_secret),
        }
        pending = _node(twitter_api_v2, "request", env)
        pin = fake.approve(pending["oauth_token"], "nodebot", pin="0012345")
        env.update(
            OAUTH_TOKEN=pending["oauth_token"],
            OAUTH_TOKEN_SECRET=pending["oauth_token_secret"],
            PIN=pin,
        )
        done = _node(twitter_api_v2, "login", env)
        user_id = fake.create_user("nodebot")
        assert (done["screenName"], done["userId"]) == ("nodebot", user_id)
        assert done["me"] == {"id": user_id, "name": "nodebot", "username": "nodebot"}
        assert done["tweet"]["text"] == "hello from twitter-api-v2"
        assert [(t.text, t.screen_name) for t in fake.tweets] == [
            ("hello from twitter-api-v2", "nodebot")
        ]
        assert [(r.endpoint, r.status, r.verified) for r in fake.requests] == [
            ("POST /oauth/request_token", 200, True),
            ("POST /oauth/access_token", 200, True),
            ("GET /2/users/me", 200, True),
            ("POST /2/tweets", 201, True),
        ]


@pytest.mark.parametrize("confidential", [True, False], ids=["confidential", "public"])
def test_twitter_api_v2_oauth2_login_refresh_and_revoke(
    twitter_api_v2: Path, confidential: bool
) -> None:
    redirect_uri = "http://127.0.0.1:8976/callback"
    with FakeTwitter() as fake:
        app = fake.create_oauth2_app(confidential=confidential, redirect_uris=[redirect_uri])
        env = {"FAKE_PORT": str(fake.port), "CLIENT_ID": app.client_id, "REDIRECT": redirect_uri}
        if app.client_secret is not None:
            env["CLIENT_SECRET"] = secret(app.client_secret)
        link = _node(twitter_api_v2, "link", env, "oauth2.js")
        assert "code_challenge_method=s256" in link["url"]
        redirect = fake.approve_oauth2(link["url"], "nodebot")
        query = dict(pair.split("=", 1) for pair in redirect.split("?", 1)[1].split("&"))
        assert query["state"] == link["state"]
        env.update(CODE=query["code"], CODE_VERIFIER=link["codeVerifier"])
        done = _node(twitter_api_v2, "login", env, "oauth2.js")
        user_id = fake.create_user("nodebot")
        assert done["me"] == {"id": user_id, "name": "nodebot", "username": "nodebot"}
        assert done["scope"] == ["tweet.read", "tweet.write", "users.read", "offline.access"]
        assert done["expiresIn"] == 7200
        assert done["rotated"] is True
        assert done["reuse"]["code"] == 400
        assert done["reuse"]["data"]["error"] == "invalid_request"
        assert done["revoked"] == {"code": 401, "data": UNAUTHORIZED}
        assert [(t.text, t.consumer_key) for t in fake.tweets] == [
            ("hello from twitter-api-v2 over OAuth 2.0", app.client_id)
        ]
        assert fake.oauth2_refreshes == 1
        assert [(r.endpoint, r.status) for r in fake.requests] == [
            ("POST /2/oauth2/token", 200),
            ("GET /2/users/me", 200),
            ("POST /2/oauth2/token", 200),
            ("POST /2/oauth2/token", 400),
            ("POST /2/tweets", 201),
            ("POST /2/oauth2/revoke", 200),
            ("GET /2/users/me", 401),
        ]


# --- 14: public_url, and Twitter's documented signature ------------------------------------

# Twitter's "Creating a signature" example. The page first used api.twitter.com; docs.x.com
# now shows the same request to api.x.com, whose signature differs by the host alone.
DOC_KEY = "xvz1evFS4wEEPTGEFPHBog"
DOC_SECRET = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
DOC_TOKEN = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"
DOC_TOKEN_SECRET = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
DOC_NONCE = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
DOC_TIMESTAMP = 1318622958
DOC_BODY = "status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21"
DOC_STATUS = "Hello Ladies + Gentlemen, a signed OAuth request!"


def _documented_request(fake: FakeTwitter, oauth_signature: str) -> requests.Response:
    oauth = {
        "oauth_consumer_key": DOC_KEY,
        "oauth_nonce": DOC_NONCE,
        "oauth_signature": oauth_signature,
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(DOC_TIMESTAMP),
        "oauth_token": DOC_TOKEN,
        "oauth_version": "1.0",
    }
    return requests.post(
        fake.url + "/1.1/statuses/update.json?include_entities=true",
        data=DOC_BODY,
        headers={"Authorization": header(oauth), "Content-Type": FORM},
        timeout=5,
    )


@pytest.mark.parametrize(
    ("public_url", "oauth_signature"),
    [
        ("https://api.twitter.com", "hCtSmYh+iHYCEqBWrE7C7hYmtUk="),
        ("https://api.x.com", "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="),
    ],
)
def test_twitters_documented_signature_example(public_url: str, oauth_signature: str) -> None:
    # The fake's clock is set back to the example's moment.
    skew = DOC_TIMESTAMP - time.time()
    with FakeTwitter(public_url=public_url, legacy_v1=True, clock_skew=skew) as fake:
        app = fake.create_app("OAuth gem", consumer_key=DOC_KEY, consumer_secret=DOC_SECRET)
        account = fake.issue_token(
            app, "twitterapi", access_token=DOC_TOKEN, access_token_secret=DOC_TOKEN_SECRET
        )
        assert account.user_id == "370773112"
        answer = _documented_request(fake, oauth_signature)
        assert answer.status_code == 200, answer.text
        assert answer.json()["text"] == DOC_STATUS
        assert [(t.text, t.user_id, t.api) for t in fake.tweets] == [
            (DOC_STATUS, "370773112", "v1.1")
        ]
        assert fake.requests[-1].verified
        # The same bytes replayed: the nonce is spent.
        assert _documented_request(fake, oauth_signature).status_code == 401
        assert fake.requests[-1].reason == "replayed nonce"


def test_documented_example_fails_against_the_wrong_url() -> None:
    skew = DOC_TIMESTAMP - time.time()
    with FakeTwitter(legacy_v1=True, clock_skew=skew) as fake:
        app = fake.create_app(consumer_key=DOC_KEY, consumer_secret=DOC_SECRET)
        fake.issue_token(
            app, "twitterapi", access_token=DOC_TOKEN, access_token_secret=DOC_TOKEN_SECRET
        )
        answer = _documented_request(fake, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=")
        assert answer.status_code == 401
        assert fake.requests[-1].reason == "bad signature"
        fake.public_url = "https://api.x.com"
        answer = _documented_request(fake, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=")
        assert answer.status_code == 401
        assert fake.requests[-1].reason == "bad signature"
        fake.public_url = "https://api.twitter.com/"
        assert fake.public_url == "https://api.twitter.com"
        assert _documented_request(fake, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=").status_code == 200


def _behind_a_tls_terminator(public: str, fake: FakeTwitter, account: Account) -> requests.Response:
    """A request signed for ``public`` + path, delivered to the fake as a proxy would."""
    path = "/2/users/me"
    signed = requests.Request("GET", public + path, auth=oauth1(account)).prepare()
    signed.url = fake.url + path
    signed.headers["Host"] = public.split("://", 1)[1].split("/", 1)[0]
    with requests.Session() as session:
        return session.send(signed, timeout=5)


@pytest.mark.parametrize(
    "public", ["https://api.example.test", "https://example.test:8443", "http://example.test/x"]
)
def test_public_url_checks_what_clients_signed(
    fake: FakeTwitter, account: Account, public: str
) -> None:
    # Without public_url the fake rebuilds http://<Host><path>, which the client did not sign
    # (another scheme, another port, or the prefix /x a proxy strips).
    answer = _behind_a_tls_terminator(public, fake, account)
    assert answer.status_code == 401
    fake.public_url = public
    answer = _behind_a_tls_terminator(public, fake, account)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["username"] == "alice"
    # A client that signs the loopback URL is now the one refused.
    assert (
        requests.get(fake.url + "/2/users/me", auth=oauth1(account), timeout=5).status_code == 401
    )


@pytest.mark.parametrize(
    "bad",
    [
        "api.twitter.com",
        "ftp://api.twitter.com",
        "https://",
        "https://api.twitter.com/?x=1",
        "https://api.twitter.com/#top",
        "https://user:pass@api.twitter.com",
        "https://api.twitter.com:99999",
        "https://api.twitter.com/a b",
    ],
)
def test_public_url_is_validated(bad: str) -> None:
    with pytest.raises(ValueError, match="public_url"):
        FakeTwitter(public_url=bad)
    fake = FakeTwitter()
    with pytest.raises(ValueError, match="public_url"):
        fake.public_url = bad
    assert fake.public_url is None


# --- 15: fixed credentials ----------------------------------------------------------------


def test_create_app_with_given_credentials(fake: FakeTwitter) -> None:
    app = fake.create_app("fixed", consumer_key="key1", consumer_secret="secret1")
    assert (app.consumer_key, secret(app.consumer_secret)) == ("key1", "secret1")
    half = fake.create_app(consumer_key="key2")
    assert half.consumer_key == "key2"
    assert len(secret(half.consumer_secret)) == 50
    with pytest.raises(ValueError, match="consumer key 'key1' is already registered"):
        fake.create_app(consumer_key="key1")
    for bad in ("", " key3", "key 3", "key\n3", "k" * 201):
        with pytest.raises(ValueError, match="consumer_key"):
            fake.create_app(consumer_key=bad)
    with pytest.raises(ValueError, match="consumer_secret"):
        fake.create_app(consumer_key="key4", consumer_secret="two words")
    assert fake.create_app(consumer_key="key4").consumer_key == "key4"  # nothing was kept


def test_issue_token_with_given_credentials(fake: FakeTwitter) -> None:
    app = fake.create_app(consumer_key="key1", consumer_secret="secret1")
    account = fake.issue_token(
        app, "fixed", user_id="42", access_token="42-token", access_token_secret="tsecret"
    )
    assert (account.access_token, secret(account.access_token_secret)) == ("42-token", "tsecret")
    assert (account.screen_name, account.user_id) == ("fixed", "42")
    assert fake.create_user("FIXED") == "42"
    answer = requests.get(fake.url + "/2/users/me", auth=oauth1(account), timeout=5)
    assert answer.json() == {"data": {"id": "42", "name": "fixed", "username": "fixed"}}

    # The user id comes from the token when not given.
    assert fake.issue_token(app, "other", access_token="77-abc").user_id == "77"
    # A user id alone: a random token for it.
    assert fake.issue_token(app, "third", user_id="99").access_token.startswith("99-")


@pytest.mark.parametrize(
    ("screen_name", "options", "message"),
    [
        ("fixed", {"access_token": "42-token"}, "access token is already registered"),
        ("fixed", {"user_id": "43"}, "'fixed' already has user id 42"),
        ("newname", {"user_id": "42"}, "user id 42 is already @fixed"),
        ("newname", {"user_id": "50", "access_token": "51-x"}, "starts with 51- but the user"),
        ("fixed", {"access_token": "51-x"}, "starts with 51- but the user"),
        ("newname", {"user_id": "0"}, "user_id"),
        ("newname", {"user_id": "12a"}, "user_id"),
        ("newname", {"access_token": ""}, "access_token"),
        ("newname", {"access_token_secret": "a\tb"}, "access_token_secret"),
        ("not a name", {}, "screen name"),
    ],
)
def test_issue_token_refuses_duplicates_and_bad_values(
    fake: FakeTwitter, screen_name: str, options: dict[str, str], message: str
) -> None:
    app = fake.create_app()
    fake.issue_token(app, "fixed", user_id="42", access_token="42-token")
    before = fake.create_app()  # any state change would show in the summary
    summary = repr(fake)
    with pytest.raises(ValueError, match=message):
        fake.issue_token(before, screen_name, **options)
    assert repr(fake) == summary
    # Nothing was registered: the refused values are all still free.
    assert fake.create_user("newname", user_id="8") == "8"
    assert fake.issue_token(before, "fixed", access_token="42-other").user_id == "42"


def test_create_user_with_a_given_id(fake: FakeTwitter) -> None:
    assert fake.create_user("someone", user_id="123") == "123"
    assert fake.create_user("@Someone", user_id="123") == "123"
    assert fake.create_user("someone") == "123"
    with pytest.raises(ValueError, match="already has user id 123"):
        fake.create_user("someone", user_id="124")
    with pytest.raises(ValueError, match="user id 123 is already @someone"):
        fake.create_user("another", user_id="123")


def test_a_revoked_given_token_cannot_be_issued_again(fake: FakeTwitter, app: App) -> None:
    account = fake.issue_token(app, "fixed", access_token="5-token")
    fake.revoke(account)
    with pytest.raises(ValueError, match="already registered"):
        fake.issue_token(app, "fixed", access_token="5-token")


def test_given_secrets_stay_out_of_messages_and_reprs(fake: FakeTwitter) -> None:
    canary = "CANARYsecretDoNotLeak0123456789abcdef"
    app = fake.create_app(consumer_key="key1", consumer_secret=canary)
    with pytest.raises(ValueError, match="already registered") as first:
        fake.create_app(consumer_key="key1", consumer_secret=canary)
    fake.issue_token(app, "fixed", access_token="9-" + canary, access_token_secret=canary)
    with pytest.raises(ValueError, match="already registered") as second:
        fake.issue_token(app, "fixed", access_token="9-" + canary, access_token_secret=canary)
    for text in (str(first.value), str(second.value), repr(fake), repr(fake.requests)):
        assert canary not in text


# --- 16: answers owed instead of 500s; v2's problem shape ----------------------------------


def _signed_with_timestamp(fake: FakeTwitter, account: Account, path: str, ts: str) -> Any:
    method = "POST" if path == "/oauth/request_token" else "GET"
    options: dict[str, Any] = {"timestamp": ts}
    if path == "/oauth/request_token":
        auth = OAuth1(
            account.consumer_key, secret(account.consumer_secret), callback_uri="oob", **options
        )
    else:
        auth = oauth1(account, **options)
    return requests.request(method, fake.url + path, auth=auth, timeout=5)


@pytest.mark.parametrize("ts", ["9" * 5000, "1" * 400, "1" * 16], ids=["5000", "400", "16"])
@pytest.mark.parametrize(
    "path", ["/oauth/request_token", "/1.1/account/verify_credentials.json", "/2/users/me"]
)
def test_an_absurd_timestamp_is_out_of_bounds(
    fake: FakeTwitter, account: Account, path: str, ts: str
) -> None:
    answer = _signed_with_timestamp(fake, account, path, ts)
    assert answer.status_code == 401
    if path.startswith("/2/"):
        assert answer.json() == UNAUTHORIZED
    else:
        assert answer.json() == {"errors": [{"code": 135, "message": "Timestamp out of bounds."}]}
    assert fake.requests[-1].reason == "timestamp out of bounds"


def test_a_zero_padded_timestamp_is_read_as_its_value(fake: FakeTwitter, account: Account) -> None:
    ts = str(int(time.time())).rjust(5000, "0")
    answer = _signed_with_timestamp(fake, account, "/2/users/me", ts)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("depth", [50_000, 2_000])
def test_a_deeply_nested_tweet_body_is_400(fake: FakeTwitter, account: Account, depth: int) -> None:
    for body in ("[" * depth + "]" * depth, '{"text": ' + "[" * depth + "]" * depth + "}"):
        answer = requests.post(
            fake.url + "/2/tweets",
            data=body,
            headers={"Content-Type": "application/json"},
            auth=oauth1(account),
            timeout=5,
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["title"] == "Invalid Request"
    assert fake.tweets == []
    assert {r.status for r in fake.requests} == {400}


def _v2_failures(fake: FakeTwitter, app: App, account: Account) -> dict[str, Any]:
    revoked = fake.issue_token(app, "gone")
    fake.revoke(revoked)
    wrong = Account(
        consumer_key=account.consumer_key,
        consumer_secret=account.consumer_secret,
        access_token=account.access_token,
        access_token_secret="X" * 45,
    )
    no_token = OAuth1(account.consumer_key, secret(account.consumer_secret))
    return {
        "no authorization": (None, MISSING_ALL),
        "unknown consumer key": (OAuth1("X" * 25, "Y" * 50, "1-a", "b"), "unknown consumer key"),
        "wrong secret": (oauth1(wrong), "bad signature"),
        "revoked": (oauth1(revoked), "revoked token"),
        "no token": (no_token, "missing oauth_token"),
        "skewed": (
            oauth1(account, timestamp=str(int(time.time()) - 1000)),
            "timestamp out of bounds",
        ),
    }


@pytest.mark.parametrize(
    "kind",
    ["no authorization", "unknown consumer key", "wrong secret", "revoked", "no token", "skewed"],
)
@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/2/users/me"), ("POST", "/2/tweets"), ("DELETE", "/2/tweets/1")]
)
def test_v2_authentication_failures_are_401_problems(
    fake: FakeTwitter, app: App, account: Account, kind: str, method: str, path: str
) -> None:
    auth, reason = _v2_failures(fake, app, account)[kind]
    answer = requests.request(
        method,
        fake.url + path,
        json={"text": "x"} if method == "POST" else None,
        auth=auth,
        timeout=5,
    )
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json() == UNAUTHORIZED
    record = fake.requests[-1]
    assert (record.status, record.error_code, record.verified) == (401, None, False)
    assert record.reason == reason
    assert fake.tweets == []


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("no authorization", 400, 215),
        ("unknown consumer key", 401, 32),
        ("wrong secret", 401, 32),
        ("revoked", 401, 89),
        ("no token", 400, 215),
        ("skewed", 401, 135),
    ],
)
def test_v1_authentication_failures_keep_their_codes(
    fake: FakeTwitter, app: App, account: Account, kind: str, status: int, code: int
) -> None:
    auth, reason = _v2_failures(fake, app, account)[kind]
    answer = requests.get(fake.url + "/1.1/account/verify_credentials.json", auth=auth, timeout=5)
    assert answer.status_code == status
    assert answer.json()["errors"][0]["code"] == code
    assert fake.requests[-1].reason == reason


@pytest.mark.parametrize("skew", [3600.0, -7200.0, 0.0])
def test_the_date_header_follows_the_fakes_clock(
    fake: FakeTwitter, account: Account, skew: float
) -> None:
    # On v2 the Date header is all that tells a client its clock is off: the problem
    # answer is the same for every cause.
    fake.clock_skew = skew
    for answer in (
        requests.get(fake.url + "/2/users/me", auth=oauth1(account), timeout=5),
        requests.get(fake.url + "/2/users/me", timeout=5),
    ):
        served = parsedate_to_datetime(answer.headers["Date"]).timestamp()
        assert abs(served - (time.time() + skew)) < 5
