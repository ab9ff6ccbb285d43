"""Media on today's API: v2 uploads for both kinds of account, against the offline Twitter.

Everything X would refuse is refused before any request (the fake's records prove no call
was made); everything else goes over real HTTP, OAuth 1.0a signatures and OAuth 2.0 bearer
tokens checked by the fake, with the fake holding the bytes on disk to compare.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from twcreds import (
    CredentialsError,
    TwitterAPIError,
    load_client,
    make_client,
    post_tweet,
    upload_media,
)
from twcreds.api import call
from twcreds.media import CHUNK_SIZE, LIMITS, Piece, sniff_type
from twcreds.testing import FakeTwitter

MiB = 1024 * 1024
PNG_HEAD = b"\x89PNG\r\n\x1a\n"
JPEG_HEAD = b"\xff\xd8\xff\xe0"
GIF_HEAD = b"GIF89a"
WEBP_HEAD = b"RIFF\x00\x00\x00\x00WEBPVP8 "
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42"


def png(size: int = 2000) -> bytes:
    return PNG_HEAD + os.urandom(size - len(PNG_HEAD))


def mp4_file(path: Path, size: int) -> Path:
    """A file that starts as an MP4 does, written in pieces (never whole in memory)."""
    with path.open("wb") as out:
        out.write(MP4_HEAD)
        left = size - len(MP4_HEAD)
        while left:
            piece = min(left, MiB)
            out.write(os.urandom(piece))
            left -= piece
    return path


def endpoints(fake: FakeTwitter) -> list[str]:
    return [record.endpoint for record in fake.requests]


@pytest.fixture
def fake() -> Iterator[FakeTwitter]:
    with FakeTwitter() as server:
        yield server


def test_the_type_is_sniffed_from_the_first_bytes() -> None:
    assert sniff_type(png()) == "image/png"
    assert sniff_type(JPEG_HEAD + b"rest") == "image/jpeg"
    assert sniff_type(GIF_HEAD + b"rest") == "image/gif"
    assert sniff_type(b"GIF87a" + b"rest") == "image/gif"
    assert sniff_type(WEBP_HEAD) == "image/webp"
    assert sniff_type(MP4_HEAD) == "video/mp4"
    assert sniff_type(b"\x00\x00\x00\x14ftypqt  ") == "video/quicktime"
    assert sniff_type(b"%PDF-1.7") is None
    assert sniff_type(b"") is None


def test_a_post_with_one_to_four_images(fake: FakeTwitter, tmp_path: Path) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    first = tmp_path / "first.png"
    first.write_bytes(png(3000))
    images: list[str | os.PathLike[str] | bytes] = [
        first,
        JPEG_HEAD + os.urandom(5000),
        WEBP_HEAD + os.urandom(700),
        png(800),
    ]
    for count in (1, 4):
        data = post_tweet(client, f"{count} pictures", media=images[:count])
        tweet = fake.tweets[-1]
        assert tweet.id == data["id"]
        assert len(tweet.media_ids) == count
    held = {record.id: record for record in fake.media}
    last = [held[media_id] for media_id in fake.tweets[-1].media_ids]
    assert [m.media_type for m in last] == ["image/png", "image/jpeg", "image/webp", "image/png"]
    assert [m.category for m in last] == ["tweet_image"] * 4
    assert fake.media_content(last[0].id) == first.read_bytes()
    assert fake.media_content(last[1].id) == images[1]
    assert all(m.state == "succeeded" and m.screen_name == "alice" for m in last)
    # Images go up in one request each, signed (the multipart body is not in the signature).
    assert endpoints(fake)[-5:] == ["POST /2/media/upload"] * 4 + ["POST /2/tweets"]
    assert all(r.verified and r.status < 300 for r in fake.requests)


def test_a_gif_goes_up_in_chunks(fake: FakeTwitter) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    gif = GIF_HEAD + os.urandom(CHUNK_SIZE + 10)
    post_tweet(client, "a GIF", media=[gif])
    assert endpoints(fake) == [
        "POST /2/media/upload/initialize",
        "POST /2/media/upload/:id/append",
        "POST /2/media/upload/:id/append",
        "POST /2/media/upload/:id/finalize",
        "GET /2/media/upload",
        "POST /2/tweets",
    ]
    assert fake.media[0].category == "tweet_gif"
    assert fake.media[0].media_key.startswith("16_")
    assert fake.media_content(fake.media[0].id) == gif


def test_a_20_mb_video_goes_up_in_chunks_the_fake_holds_exactly(
    fake: FakeTwitter, tmp_path: Path
) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    video = mp4_file(tmp_path / "clip.mp4", 20 * MiB + 12345)
    post_tweet(client, "a video", media=[video])

    appends = [e for e in endpoints(fake) if e == "POST /2/media/upload/:id/append"]
    assert len(appends) == -(-video.stat().st_size // CHUNK_SIZE) >= 3
    (record,) = fake.media
    assert record.media_type == "video/mp4"
    assert record.category == "tweet_video"
    assert record.size == video.stat().st_size
    assert record.sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
    assert fake.media_content(record.id) == video.read_bytes()
    assert fake.tweets[-1].media_ids == (record.id,)
    assert all(r.status < 300 and r.verified for r in fake.requests)


def test_an_oversized_image_is_refused_before_any_request(
    fake: FakeTwitter, tmp_path: Path
) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    big = tmp_path / "huge.png"
    with big.open("wb") as out:
        out.write(PNG_HEAD)
        out.truncate(LIMITS["image"] + 1)
    with pytest.raises(CredentialsError) as caught:
        post_tweet(client, "too big", media=[png(), big])
    message = str(caught.value)
    assert str(big) in message
    assert f"{LIMITS['image'] + 1:,} bytes" in message
    assert f"{LIMITS['image']:,} bytes (5 MB)" in message
    assert isinstance(caught.value, ValueError)
    with pytest.raises(CredentialsError, match=r"media \(bytes\): .* over X's limit for a GIF"):
        upload_media(client, GIF_HEAD + bytes(LIMITS["gif"]))
    assert fake.requests == []  # not even the first, small image went up


@pytest.mark.parametrize(
    ("media", "kwargs", "expected"),
    [
        (b"%PDF-1.7 not media", {}, "not a PNG, JPEG, GIF, WebP or MP4"),
        (PNG_HEAD, {"media_type": "application/pdf"}, "is not one X takes"),
        (PNG_HEAD, {"category": "tweet_video"}, "does not fit an image; use tweet_image"),
        (b"", {"media_type": "image/png"}, "is empty"),
    ],
)
def test_what_x_would_refuse_costs_no_request(
    fake: FakeTwitter, media: bytes, kwargs: dict[str, str], expected: str
) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    with pytest.raises(CredentialsError, match=expected):
        upload_media(client, media, **kwargs)
    assert fake.requests == []


def test_a_post_holds_four_images_or_one_video(fake: FakeTwitter, tmp_path: Path) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    with pytest.raises(CredentialsError, match="at most 4"):
        post_tweet(client, "five", media=[png() for _ in range(5)])
    video = mp4_file(tmp_path / "v.mp4", 1000)
    with pytest.raises(CredentialsError, match="a video, which must be a post's only media"):
        post_tweet(client, "mixed", media=[png(), video])
    with pytest.raises(CredentialsError, match="no such file"):
        post_tweet(client, "missing", media=[tmp_path / "missing.png"])
    with pytest.raises(CredentialsError, match="reply_to must be the id of a post"):
        post_tweet(client, "reply", reply_to="not-an-id")
    assert fake.requests == []


def test_a_single_path_replies_and_keeps_the_plain_post(fake: FakeTwitter, tmp_path: Path) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    first = post_tweet(client, "plain, as before")
    assert fake.tweets[-1].media_ids == ()
    picture = tmp_path / "p.png"
    picture.write_bytes(png())
    answer = post_tweet(client, "a reply with a picture", media=picture, reply_to=first["id"])
    assert fake.tweets[-1].reply_to == first["id"]
    assert len(fake.tweets[-1].media_ids) == 1
    assert answer["id"] == fake.tweets[-1].id


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview], ids=lambda w: w.__name__)
def test_one_picture_in_any_bytes_like_is_one_item(fake: FakeTwitter, wrap: type) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    picture = png()
    post_tweet(client, "one picture", media=wrap(picture))
    assert len(fake.tweets[-1].media_ids) == 1
    assert fake.media_content(fake.tweets[-1].media_ids[0]) == picture


def test_processing_is_awaited_as_x_asks(tmp_path: Path) -> None:
    with FakeTwitter(media_processing=1.5) as fake:
        client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
        video = mp4_file(tmp_path / "v.mp4", 3 * MiB)
        started = time.monotonic()
        media_id = upload_media(client, video)
        elapsed = time.monotonic() - started
    # finalize said check_after_secs=2: one pause, then one status call that succeeded.
    assert elapsed >= 1.5
    statuses = [r for r in fake.requests if r.endpoint == "GET /2/media/upload"]
    assert len(statuses) == 1
    assert fake.media[0].id == media_id
    assert fake.media[0].state == "succeeded"


def test_a_processing_failure_is_reported(fake: FakeTwitter, tmp_path: Path) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    fake.fail_next_media("Unsupported video codec: prores")
    with pytest.raises(TwitterAPIError) as caught:
        post_tweet(client, "broken video", media=[mp4_file(tmp_path / "v.mp4", 2000)])
    error = caught.value
    assert "X could not process it: Unsupported video codec: prores" in str(error)
    assert error.detail == "Unsupported video codec: prores"
    assert error.title == "InvalidMedia"
    assert error.hint is not None
    assert "ffmpeg" in error.hint
    assert fake.media[0].state == "failed"
    assert fake.tweets == []  # nothing was posted with it


def test_oauth2_media_write_scope(fake: FakeTwitter, tmp_path: Path) -> None:
    app = fake.create_oauth2_app()
    client = make_client(fake.issue_oauth2_token(app, "carol"), api_base=fake.url)
    video = mp4_file(tmp_path / "v.mp4", 9 * MiB)
    post_tweet(client, "from OAuth 2.0", media=[video])
    assert fake.media[-1].sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
    assert all(r.verified for r in fake.requests)

    scopes = ("tweet.read", "tweet.write", "users.read", "offline.access")
    lacking = fake.issue_oauth2_token(app, "dave", scopes=scopes)
    fake.clear_records()
    with pytest.raises(CredentialsError, match=r"lacks the media\.write scope"):
        post_tweet(make_client(lacking, api_base=fake.url), "no scope", media=[png()])
    with pytest.raises(CredentialsError, match=r"lacks the media\.write scope"):
        upload_media(make_client(lacking, api_base=fake.url), png())
    assert fake.requests == []
    # An account that does not record its scopes goes out, and X's 403 comes back.
    unknown = lacking.model_copy(update={"scopes": ()})
    with pytest.raises(TwitterAPIError) as caught:
        upload_media(make_client(unknown, api_base=fake.url), png())
    assert caught.value.status == 403
    assert [r.status for r in fake.requests] == [403]


def test_a_chunk_sent_again_after_a_401_is_whole(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    account = fake.issue_oauth2_token(app, "erin")
    renewed: list[object] = []
    client = make_client(account, api_base=fake.url, on_refresh=renewed.append)
    image = png(50_000)
    fake.revoke(account.access_token.get_secret_value())  # refresh token still live
    media_id = upload_media(client, image)
    assert [r.status for r in fake.requests if r.path.startswith("/2/media")] == [401, 200]
    assert fake.media_content(media_id) == image  # rewound, not sent empty
    assert len(renewed) == 1


def test_pieces_rewind_and_never_overrun() -> None:
    import io

    stream = io.BytesIO(b"0123456789")
    piece = Piece(stream, 3, 4, "media")
    assert len(piece) == 4
    assert piece.read(2) == b"34"
    assert piece.read() == b"56"
    assert piece.read() == b""
    piece.seek(0)
    assert piece.read() == b"3456"
    short = Piece(io.BytesIO(b"01"), 0, 4, "clip.mp4")
    with pytest.raises(CredentialsError, match=r"clip\.mp4: the file changed"):
        short.read()


def test_app_only_clients_never_upload(fake: FakeTwitter) -> None:
    bearer = fake.create_bearer_token(fake.create_app())
    client = make_client(bearer, api_base=fake.url)
    with pytest.raises(CredentialsError, match="app-only bearer token cannot post"):
        upload_media(client, png())
    with pytest.raises(CredentialsError, match="app-only bearer token cannot post"):
        post_tweet(client, "hi", media=[png()])
    assert fake.requests == []


def test_the_fake_refuses_what_x_refuses(fake: FakeTwitter) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    other = make_client(fake.issue_token(fake.create_app(), "bob"), api_base=fake.url)
    bobs = upload_media(other, png())
    tweets = "https://api.twitter.com/2/tweets"
    media_upload = "https://api.twitter.com/2/media/upload"

    def refused(url: str, params: dict[str, object], **kwargs: object) -> int:
        with pytest.raises(TwitterAPIError) as caught:
            call(client, "raw", lambda: client.request(url, method="POST", params=params, **kwargs))
        assert caught.value.status is not None
        return caught.value.status

    assert refused(tweets, {"text": "x", "media": {"media_ids": [bobs]}}, json_encoded=True) == 400
    assert refused(tweets, {"text": "a" * 281}, json_encoded=True) == 403
    assert (
        refused(tweets, {"text": "x", "reply": {"in_reply_to_tweet_id": "1"}}, json_encoded=True)
        == 400
    )
    big = {"media_type": "video/mp4", "total_bytes": LIMITS["video"] + 1}
    assert refused(f"{media_upload}/initialize", big, json_encoded=True) == 400
    gif = {"media_type": "image/gif", "total_bytes": 10, "media_category": "tweet_video"}
    assert refused(f"{media_upload}/initialize", gif, json_encoded=True) == 400
    ok = {"media_type": "video/mp4", "total_bytes": 10}
    started = call(
        client,
        "raw",
        lambda: client.request(
            f"{media_upload}/initialize", method="POST", params=ok, json_encoded=True
        ),
    )
    media_id = started["data"]["id"]
    assert refused(f"{media_upload}/{media_id}/finalize", {}) == 400  # nothing appended
    assert (
        refused(tweets, {"text": "x", "media": {"media_ids": [media_id]}}, json_encoded=True) == 400
    )
    # Weighted as X weighs: 140 CJK characters are 280, a long URL is 23.
    post_tweet(client, "漢" * 140)
    post_tweet(client, "see https://example.com/" + "x" * 300)
    assert refused(tweets, {"text": "漢" * 141}, json_encoded=True) == 403


def test_the_text_is_counted_as_x_counts_it_before_any_request(fake: FakeTwitter) -> None:
    client = make_client(fake.issue_token(fake.create_app(), "alice"), api_base=fake.url)
    for text, weighted in (("a" * 281, 281), ("漢" * 141, 282), ("😀" * 141, 282)):
        with pytest.raises(CredentialsError, match=f"is {weighted} characters as X counts"):
            post_tweet(client, text, media=[png()])
    assert fake.requests == []
    post_tweet(client, "👩‍👩‍👧‍👦" * 140)  # a family emoji sequence weighs 2
    assert len(fake.tweets) == 1


def test_memory_stays_flat_while_a_200_mb_file_goes_up(tmp_path: Path) -> None:
    video = mp4_file(tmp_path / "big.mp4", 200 * MiB)
    # The fake serves from its own process: only this process's memory is measured.
    server = subprocess.Popen(
        [sys.executable, "-m", "twcreds.testing"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        env: dict[str, str] = {}
        for line in server.stdout:
            name, _, value = line.strip().partition("=")
            if value and not name.startswith("#"):
                env[name] = value
            if name == "TWITTER_USER_ID":
                break
        env_file = tmp_path / "fake.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
        env_file.chmod(0o600)
        client = load_client(env_file, api_base=env["TWCREDS_API_BASE"])
        upload_media(client, png())  # imports and connections made before measuring
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            upload_media(client, video)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
    assert peak - baseline < 16 * MiB
