"""OAuth 1.0a request parsing and HMAC-SHA1 verification, with oauthlib's RFC 5849 code.

The server side of what requests-oauthlib does for a client: gather the parameters from the
``Authorization`` header, the query string and a form-encoded body (RFC 5849 section 3.4.1.3;
a JSON body is not signed), rebuild the base string URI from the URL the client addressed
(the fake's public URL when it has one, else ``http://`` and the ``Host`` header it sent),
and let oauthlib compute and compare the signature.

An ``oauth_*`` parameter may come twice with one value, as twitter-api-v2's PIN login sends
``oauth_token`` in the header and the body, and X accepts it. Clients then disagree on what
they signed: RFC 5849 counts every occurrence, twitter-api-v2 merges the sources into one
object first, so the name counts once. Both readings are checked; two different values for
one name are refused before any signature is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from oauthlib.common import Request  # type: ignore[import-untyped]
from oauthlib.oauth1.rfc5849 import signature  # type: ignore[import-untyped]

__all__ = ["MalformedOAuth", "SignedRequest", "parse_signed_request", "verify_hmac_sha1"]

_REQUIRED = (
    "oauth_consumer_key",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
)
FORM_URLENCODED = "application/x-www-form-urlencoded"


class MalformedOAuth(Exception):
    """The request carries no usable OAuth 1.0a parameters (Twitter's code 215).

    Args:
        reason: A short account of what is missing or malformed, free of secrets.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SignedRequest:
    """The OAuth 1.0a view of one request, ready to be verified.

    Attributes:
        method: The HTTP method, upper case.
        base_uri: The base string URI, as the client must have signed it.
        consumer_key: ``oauth_consumer_key``.
        token: ``oauth_token``, if sent.
        signature_method: ``oauth_signature_method``.
        timestamp: ``oauth_timestamp``, as sent.
        nonce: ``oauth_nonce``.
        version: ``oauth_version``, if sent.
        callback: ``oauth_callback``, if sent.
        verifier: ``oauth_verifier``, if sent.
        params: Every collected parameter but the signature, for the signature base string.
        signature: ``oauth_signature``.
        merged: ``params`` with each repeated ``oauth_*`` pair counted once: what a client
            that merges the header, query and body into one mapping signs. Equal to
            ``params`` unless a pair was repeated.
    """

    method: str
    base_uri: str
    consumer_key: str
    token: str | None
    signature_method: str
    timestamp: str
    nonce: str
    version: str | None
    callback: str | None
    verifier: str | None
    params: tuple[tuple[str, str], ...] = field(repr=False)
    signature: str = field(repr=False)
    merged: tuple[tuple[str, str], ...] = field(repr=False, default=())


def parse_signed_request(
    *,
    method: str,
    host: str,
    path: str,
    query: str,
    authorization: str | None,
    content_type: str | None,
    body: bytes,
    public_url: str | None = None,
) -> SignedRequest:
    """Collect a request's OAuth 1.0a parameters.

    Args:
        method: The HTTP method.
        host: The ``Host`` header (``127.0.0.1:PORT``), part of what the client signed
            unless ``public_url`` is given.
        path: The raw request path, without the query string.
        query: The raw query string, without ``?``.
        authorization: The ``Authorization`` header, if any.
        content_type: The ``Content-Type`` header, if any.
        body: The request body; its parameters count only when it is form-encoded.
        public_url: The base URL clients address (``https://api.x.com``, no trailing
            ``/``), which ``path`` is appended to for the base string URI; None for
            ``http://`` and ``host``.

    Returns:
        The parsed request.

    Raises:
        MalformedOAuth: A required ``oauth_*`` parameter is missing or repeated with
            another value, or the header, query or body cannot be parsed.
    """
    form_body: str | None = None
    if content_type and content_type.split(";")[0].strip().lower() == FORM_URLENCODED:
        try:
            form_body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedOAuth("form body is not UTF-8") from None
    headers = {"Authorization": authorization} if authorization else None
    try:
        collected: list[tuple[str, str]] = signature.collect_parameters(
            uri_query=query, body=form_body, headers=headers, exclude_oauth_signature=False
        )
    except ValueError:
        raise MalformedOAuth("malformed Authorization header, query or form body") from None

    oauth: dict[str, str] = {}
    merged: list[tuple[str, str]] = []
    for name, value in collected:
        if name.startswith("oauth_") and name in oauth:
            if oauth[name] != value:
                raise MalformedOAuth(f"{name} sent twice with different values")
            continue
        if name.startswith("oauth_"):
            oauth[name] = value
        if name != "oauth_signature":
            merged.append((name, value))
    missing = [name for name in _REQUIRED if not oauth.get(name)]
    if missing:
        raise MalformedOAuth(f"missing {', '.join(missing)}")
    return SignedRequest(
        method=method.upper(),
        base_uri=f"{public_url}{path}" if public_url is not None else f"http://{host}{path}",
        consumer_key=oauth["oauth_consumer_key"],
        token=oauth.get("oauth_token") or None,
        signature_method=oauth["oauth_signature_method"],
        timestamp=oauth["oauth_timestamp"],
        nonce=oauth["oauth_nonce"],
        version=oauth.get("oauth_version"),
        callback=oauth.get("oauth_callback"),
        verifier=oauth.get("oauth_verifier"),
        params=tuple((name, value) for name, value in collected if name != "oauth_signature"),
        signature=oauth["oauth_signature"],
        merged=tuple(merged),
    )


def verify_hmac_sha1(signed: SignedRequest, consumer_secret: str, token_secret: str | None) -> bool:
    """Check a request's HMAC-SHA1 signature with oauthlib.

    Args:
        signed: The parsed request.
        consumer_secret: The app's consumer secret.
        token_secret: The request or access token's secret; None when no token is involved.

    Returns:
        True when the signature matches, compared in constant time, over the parameters as
        collected or, when an ``oauth_*`` pair was repeated, as merged.
    """
    readings = [signed.params]
    if signed.merged and signed.merged != signed.params:
        readings.append(signed.merged)
    for params in readings:
        try:
            request = Request(signed.base_uri, http_method=signed.method)
            request.params = list(params)
            request.signature = signed.signature
            if signature.verify_hmac_sha1(request, consumer_secret, token_secret):
                return True
        except ValueError:
            # An unparsable Host header or port: the client cannot have signed this URI.
            return False
    return False
