"""The HTML pages of the fake's authorize steps, for people trying the flows by hand.

``/oauth/authorize`` (the PIN flow) and ``/i/oauth2/authorize`` (OAuth 2.0 with PKCE).

Every value put into a page goes through :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

__all__ = [
    "authorize_page",
    "denied_page",
    "invalid_token_page",
    "oauth2_authorize_page",
    "oauth2_error_page",
    "pin_page",
]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34em;margin:3em auto;padding:0 1em}"
    "code{font-size:2em;letter-spacing:.15em}"
    "button{font-size:1em;padding:.4em 1em;margin-right:.5em}"
    ".note{color:#666;font-size:.9em}"
)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} | twcreds offline Twitter</title>"
        f"<style>{_STYLE}</style></head>\n"
        f"<body>\n{body}\n"
        '<p class="note">This is twcreds\' offline Twitter: no real account is involved.</p>\n'
        "</body></html>\n"
    )


def authorize_page(
    *,
    action: str,
    oauth_token: str,
    app_name: str,
    permissions: str,
    screen_name: str,
    known_users: Iterable[str],
) -> str:
    """The "Authorize app" page: pick or type a screen name, then authorize or cancel.

    Args:
        action: The path the form posts back to.
        oauth_token: The pending request token (public: it is in the page's URL).
        app_name: The app asking for access.
        permissions: ``"read"`` or ``"read-write"``.
        screen_name: The screen name to pre-fill, possibly empty.
        known_users: Screen names offered as suggestions.
    """
    options = "".join(f'<option value="{escape(name)}">' for name in known_users)
    can = "read and post tweets" if permissions == "read-write" else "read tweets"
    body = (
        f"<h1>Authorize {escape(app_name)} to access your account?</h1>\n"
        f"<p>This application will be able to {can} for the account you choose.</p>\n"
        f'<form method="post" action="{escape(action)}">\n'
        f'<input type="hidden" name="oauth_token" value="{escape(oauth_token)}">\n'
        '<p><label>Screen name <input name="screen_name" id="screen_name" required '
        f'pattern="@?[A-Za-z0-9_]{{1,15}}" list="users" value="{escape(screen_name)}">'
        f'</label><datalist id="users">{options}</datalist></p>\n'
        '<p><button type="submit" name="action" value="authorize" id="allow">'
        "Authorize app</button>"
        '<button type="submit" name="action" value="cancel" id="cancel">Cancel</button></p>\n'
        "</form>"
    )
    return _page(f"Authorize {app_name}", body)


def pin_page(*, app_name: str, screen_name: str, pin: str) -> str:
    """The page shown after "Authorize app": the PIN to type into the app.

    Args:
        app_name: The app that was authorized.
        screen_name: The account that authorized it.
        pin: The 7-digit verifier.
    """
    body = (
        f"<h1>You authorized {escape(app_name)} as @{escape(screen_name)}</h1>\n"
        f"<p>Next, return to {escape(app_name)} and enter this PIN to complete the "
        "authorization process:</p>\n"
        f'<p><kbd><code id="oauth_pin">{escape(pin)}</code></kbd></p>'
    )
    return _page("Authorized", body)


def denied_page(*, app_name: str) -> str:
    """The page shown after "Cancel".

    Args:
        app_name: The app that was refused.
    """
    body = (
        f"<h1>You did not authorize {escape(app_name)}</h1>\n"
        "<p>The application has no access to your account.</p>"
    )
    return _page("Not authorized", body)


def invalid_token_page(*, detail: str) -> str:
    """Twitter's "Whoa there!" page for an unknown, used or missing request token.

    Args:
        detail: What is wrong, for the person reading the page.
    """
    body = (
        "<h1>Whoa there!</h1>\n"
        "<p>The request token for this page is invalid. It may have already been used, "
        "or expired because it is too old. Please go back to the site or application "
        "that sent you here and try again; it was probably just a mistake.</p>\n"
        f"<p>{escape(detail)}</p>"
    )
    return _page("Error", body)


def oauth2_authorize_page(
    *, action: str, query: str, app_name: str, scopes: Iterable[str], known_users: Iterable[str]
) -> str:
    """X's OAuth 2.0 consent page: pick or type a screen name, then authorize or cancel.

    Args:
        action: The path the form posts back to.
        query: The authorize request's query string, posted back as it came (public: it is
            the page's own URL; it holds the PKCE challenge, never the verifier).
        app_name: The app asking for access.
        scopes: The scopes it asks for.
        known_users: Screen names offered as suggestions.
    """
    options = "".join(f'<option value="{escape(name)}">' for name in known_users)
    asked = "".join(f"<li><code>{escape(scope)}</code></li>" for scope in scopes)
    body = (
        f"<h1>{escape(app_name)} wants to access your X account</h1>\n"
        f"<p>It asks for:</p><ul>{asked}</ul>\n"
        f'<form method="post" action="{escape(action)}">\n'
        f'<input type="hidden" name="query" value="{escape(query)}">\n'
        '<p><label>Screen name <input name="screen_name" id="screen_name" required '
        'pattern="@?[A-Za-z0-9_]{1,15}" list="users">'
        f'</label><datalist id="users">{options}</datalist></p>\n'
        '<p><button type="submit" name="action" value="authorize" id="allow">'
        "Authorize app</button>"
        '<button type="submit" name="action" value="cancel" id="cancel">Cancel</button></p>\n'
        "</form>"
    )
    return _page(f"Authorize {app_name}", body)


def oauth2_error_page(*, detail: str) -> str:
    """The page for an authorize request that cannot be sent back to the app.

    Args:
        detail: What is wrong (an unknown client, a redirect URI not registered, ...).
    """
    body = (
        "<h1>Something went wrong</h1>\n"
        "<p>You weren't able to give access to the App. Go back and try logging in again.</p>\n"
        f"<p>{escape(detail)}</p>"
    )
    return _page("Error", body)
