"""Post a picture (up to four), a GIF or a video, and say plainly why X refused, if it did.

The media go up through X's v2 media endpoints (a video in 4 MiB parts, streamed from
disk); anything X would refuse (too long a text, too big a file, a type X does not take,
an OAuth 2.0 token without media.write) is refused before a billed call. Run it offline
against the built-in Twitter emulator::

    twcreds emulator --port 8080 > fake.env &
    set -a; . ./fake.env; set +a
    python examples/post_with_media.py cat.png --text "a cat"
"""

from __future__ import annotations

import argparse
import sys

from twcreds import (
    CredentialsError,
    CreditsDepletedError,
    RateLimitError,
    TwcredsError,
    load_client,
    post_tweet,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("media", nargs="+", help="image, GIF or video files (up to 4 images)")
    parser.add_argument("--text", default="", help="the post's text (up to 280, as X counts)")
    parser.add_argument("--account", help="which account of the source, by name or index")
    parser.add_argument("--source", help="credentials file (default: twcreds' chain)")
    parser.add_argument("--reply-to", help="the id of a post to answer")
    args = parser.parse_args(argv)

    try:
        client = load_client(args.source, account=args.account)
        tweet = post_tweet(client, args.text, media=args.media, reply_to=args.reply_to)
    except CredentialsError as exc:  # nothing was sent
        print(f"not posted (no call made): {exc}", file=sys.stderr)
        return 1
    except CreditsDepletedError as exc:
        print(f"not posted: X says the app's credits are spent: {exc.hint}", file=sys.stderr)
        return 1
    except RateLimitError as exc:
        when = f"{exc.reset_at:%Y-%m-%d %H:%M} UTC" if exc.reset_at else "later"
        print(
            f"not posted: the {exc.window} limit is used up; try again at {when}", file=sys.stderr
        )
        return 1
    except TwcredsError as exc:
        print(f"not posted: {exc}", file=sys.stderr)
        return 1
    print(f"posted tweet {tweet['id']} with {len(args.media)} media")
    return 0


if __name__ == "__main__":
    sys.exit(main())
