"""OAuth 1.0a request parsing and HMAC-SHA1 verification, with oauthlib's RFC 5849 code.

The server side of what requests-oauthlib does for a client: gather the parameters from the
``Authorization`` header, the query string and a form-encoded body (RFC 5849 section 3.4.1.3;
a JSON body is not signed), rebuild the base string URI from the ``Host`` header the client
sent, and let oauthlib compute and compare the signature.
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


def parse_signed_request(
    *,
    method: str,
    host: str,
    path: str,
    query: str,
    authorization: str | None,
    content_type: str | None,
    body: bytes,
) -> SignedRequest:
    """Collect a request's OAuth 1.0a parameters.

    Args:
        method: The HTTP method.
        host: The ``Host`` header (``127.0.0.1:PORT``), part of what the client signed.
        path: The raw request path, without the query string.
        query: The raw query string, without ``?``.
        authorization: The ``Authorization`` header, if any.
        content_type: The ``Content-Type`` header, if any.
        body: The request body; its parameters count only when it is form-encoded.

    Returns:
        The parsed request.

    Raises:
        MalformedOAuth: A required ``oauth_*`` parameter is missing or repeated, or the
            header, query or body cannot be parsed.
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
    for name, value in collected:
        if not name.startswith("oauth_"):
            continue
        if name in oauth:
            raise MalformedOAuth(f"{name} sent twice")
        oauth[name] = value
    missing = [name for name in _REQUIRED if not oauth.get(name)]
    if missing:
        raise MalformedOAuth(f"missing {', '.join(missing)}")
    return SignedRequest(
        method=method.upper(),
        base_uri=f"http://{host}{path}",
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
    )


def verify_hmac_sha1(signed: SignedRequest, consumer_secret: str, token_secret: str | None) -> bool:
    """Check a request's HMAC-SHA1 signature with oauthlib.

    Args:
        signed: The parsed request.
        consumer_secret: The app's consumer secret.
        token_secret: The request or access token's secret; None when no token is involved.

    Returns:
        True when the signature matches, compared in constant time.
    """
    try:
        request = Request(signed.base_uri, http_method=signed.method)
        request.params = list(signed.params)
        request.signature = signed.signature
        return bool(signature.verify_hmac_sha1(request, consumer_secret, token_secret))
    except ValueError:
        # An unparsable Host header or port: the client cannot have signed this URI.
        return False
