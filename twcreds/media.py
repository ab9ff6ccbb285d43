"""Media for posts, checked before anything is sent: type, size, X's limits, and the chunks.

Nothing here touches the network (`twcreds.api.upload_media` sends what this prepares). A
media item is a path or bytes; its type is sniffed from its first bytes (PNG, JPEG, GIF,
WebP, MP4) unless given, and X's limit for its kind (image 5 MB, GIF 15 MB, video 512 MB)
is checked from its size alone, so an oversized item costs no request. A file is never
read whole: `Piece` hands requests one chunk of it at a time, read when the request is
built, and can be rewound for a retry.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from twcreds.errors import CredentialsError, printable

__all__ = [
    "CHUNK_SIZE",
    "LIMITS",
    "MAX_IMAGES",
    "MediaItem",
    "Piece",
    "check_post_media",
    "prepare_media",
    "sniff_type",
]

MiB = 1024 * 1024
#: X's limits per kind of media, in bytes ("5 MB", "15 MB", "512 MB" in X's documents).
LIMITS: dict[str, int] = {"image": 5 * MiB, "gif": 15 * MiB, "video": 512 * MiB}
#: Bytes per append: X takes at most 5 MB per request, and its edge has answered 413 near
#: that, so 4 MiB.
CHUNK_SIZE = 4 * MiB
#: A post holds up to four images, or one GIF, or one video.
MAX_IMAGES = 4

Kind = Literal["image", "gif", "video"]

#: The media types twcreds uploads, and their kind.
MEDIA_TYPES: dict[str, Kind] = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/webp": "image",
    "image/gif": "gif",
    "video/mp4": "video",
    "video/quicktime": "video",
}
#: X's categories for posts and direct messages; the kind gives the default.
CATEGORIES: dict[Kind, tuple[str, str]] = {
    "image": ("tweet_image", "dm_image"),
    "gif": ("tweet_gif", "dm_gif"),
    "video": ("tweet_video", "dm_video"),
}


def sniff_type(head: bytes) -> str | None:
    """The media type the first bytes of a file announce, or None if none of ours.

    Args:
        head: at least the first 12 bytes (fewer: a file that short is nothing we know).
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        # ISO base media: "qt  " is QuickTime's brand; every other one plays as MP4.
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    return None


@dataclass(frozen=True)
class MediaItem:
    """One media item, checked and ready to upload.

    Attributes:
        label: how messages name it: its path, or ``media[1] (bytes)``.
        size: its size in bytes.
        media_type: its MIME type (``image/png``).
        kind: ``"image"``, ``"gif"`` or ``"video"``.
        category: X's media category (``tweet_image``, ...).
        path: the file, or None for bytes.
        data: the bytes, or None for a file.
    """

    label: str
    size: int
    media_type: str
    kind: Kind
    category: str
    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)

    @property
    def chunked(self) -> bool:
        """Whether it goes up in chunks (GIFs and videos), not in one request."""
        return self.kind != "image"

    def open(self) -> BinaryIO:
        """A binary stream of the content, from its start.

        Raises:
            CredentialsError: the file can no longer be read.
        """
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        try:
            return self.path.open("rb")
        except OSError as exc:
            msg = f"{self.label}: cannot read it ({exc.strerror or type(exc).__name__})"
            raise CredentialsError(msg) from None

    def pieces(self, stream: BinaryIO, size: int = CHUNK_SIZE) -> Iterator[Piece]:
        """The content as consecutive pieces of at most ``size`` bytes, over ``stream``."""
        for start in range(0, self.size, size):
            yield Piece(stream, start, min(size, self.size - start), self.label)


class Piece:
    """One stretch of a stream, as a file-like object requests reads when it builds a request.

    Twython sends a parameter with a ``read`` method as a multipart file, and requests reads
    it whole at that moment: so at most one piece is in memory at a time. ``seek(0)``
    rewinds it, for a request sent again (an OAuth 2.0 client retries once after a 401).
    """

    #: The file name in the multipart part (X ignores it; requests wants one).
    name = "media"

    def __init__(self, stream: BinaryIO, start: int, length: int, label: str) -> None:
        self._stream = stream
        self._start = start
        self._length = length
        self._label = label
        self._offset = 0

    def __len__(self) -> int:
        return self._length

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._offset, 2: self._length}[whence]
        self._offset = max(0, min(self._length, base + offset))
        return self._offset

    def tell(self) -> int:
        return self._offset

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when negative) of this piece.

        Raises:
            CredentialsError: the file shrank while it was being sent.
        """
        left = self._length - self._offset
        wanted = left if size is None or size < 0 else min(size, left)
        self._stream.seek(self._start + self._offset)
        data = self._stream.read(wanted)
        if len(data) != wanted:
            msg = f"{self._label}: the file changed while it was being uploaded; try again"
            raise CredentialsError(msg)
        self._offset += wanted
        return data


def _name(media: str | os.PathLike[str] | bytes | bytearray | memoryview, index: int | None) -> str:
    where = "media" if index is None else f"media[{index}]"
    if isinstance(media, bytes | bytearray | memoryview):
        return f"{where} (bytes)"
    return printable(os.fspath(media))


def prepare_media(
    media: str | os.PathLike[str] | bytes | bytearray | memoryview,
    *,
    media_type: str | None = None,
    category: str | None = None,
    index: int | None = None,
) -> MediaItem:
    """Check one media item against X's rules, without sending anything.

    Args:
        media: a path, or the content as bytes.
        media_type: its MIME type; None sniffs it from the first bytes.
        category: X's media category; None takes the post's one for the kind.
        index: its place in a post's list, for messages.

    Raises:
        CredentialsError: the file is missing or unreadable, the type is unknown or not
            one X takes for posts, the category does not fit, or the item is empty or
            over X's limit for its kind (the message names the item, its size and the
            limit).
        TypeError: ``media`` is neither a path nor bytes.
    """
    path: Path | None = None
    data: bytes | None = None
    if isinstance(media, bytes | bytearray | memoryview):
        data = bytes(media)
        size = len(data)
        head = data[:16]
    elif isinstance(media, str | os.PathLike):
        path = Path(os.fspath(media)).expanduser()
        size, head = _stat_and_head(path)
    else:
        msg = f"media must be a path or bytes, not {type(media).__name__}"
        raise TypeError(msg)
    label = _name(media, index)
    if media_type is None:
        media_type = sniff_type(head)
        if media_type is None:
            msg = (
                f"{label}: not a PNG, JPEG, GIF, WebP or MP4 by its first bytes; convert it,"
                " or pass media_type= if X takes its type"
            )
            raise CredentialsError(msg)
    kind = MEDIA_TYPES.get(media_type.strip().lower())
    if kind is None:
        known = ", ".join(MEDIA_TYPES)
        msg = (
            f"{label}: media_type {printable(media_type)!r} is not one X takes for posts ({known})"
        )
        raise CredentialsError(msg)
    media_type = media_type.strip().lower()
    if category is None:
        category = CATEGORIES[kind][0]
    elif category not in CATEGORIES[kind]:
        fits = " or ".join(CATEGORIES[kind])
        msg = f"{label}: category {printable(category)!r} does not fit {_kinds(kind)}; use {fits}"
        raise CredentialsError(msg)
    if size == 0:
        raise CredentialsError(f"{label}: is empty; there is nothing to upload")
    limit = LIMITS[kind]
    if size > limit:
        msg = (
            f"{label}: {size:,} bytes is over X's limit for {_kinds(kind)}, {limit:,} bytes"
            f" ({limit // MiB} MB); make it smaller"
        )
        raise CredentialsError(msg)
    return MediaItem(label, size, media_type, kind, category, path, data)


def _kinds(kind: Kind) -> str:
    return {"image": "an image", "gif": "a GIF", "video": "a video"}[kind]


def _stat_and_head(path: Path) -> tuple[int, bytes]:
    label = printable(str(path))
    try:
        with path.open("rb") as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CredentialsError(f"{label}: not a regular file; name a media file")
            return info.st_size, stream.read(16)
    except FileNotFoundError:
        raise CredentialsError(f"{label}: no such file; check the path") from None
    except IsADirectoryError:
        raise CredentialsError(f"{label}: is a directory; name a media file") from None
    except OSError as exc:
        msg = f"{label}: cannot read it ({exc.strerror or type(exc).__name__})"
        raise CredentialsError(msg) from None


def check_post_media(items: Sequence[MediaItem]) -> None:
    """A post holds up to four images, or one GIF, or one video; never a mix.

    Raises:
        CredentialsError: the items do not fit in one post.
    """
    moving = [item for item in items if item.kind != "image"]
    if moving and len(items) > 1:
        what = "a GIF" if moving[0].kind == "gif" else "a video"
        msg = (
            f"post tweet: {moving[0].label} is {what}, which must be a post's only media"
            f" (it has {len(items)}); post it alone"
        )
        raise CredentialsError(msg)
    if len(items) > MAX_IMAGES:
        msg = (
            f"post tweet: {len(items)} images; a post holds at most {MAX_IMAGES}:"
            " split them over several posts (a thread, with reply_to=)"
        )
        raise CredentialsError(msg)
