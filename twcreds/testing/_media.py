"""The offline Twitter's media: multipart bodies, uploads kept on disk, X's limits and states.

Uploaded bytes go to a private temporary folder, one file per media item (appended parts
are kept apart until finalize, since they may come in any order), so a 500 MB video costs
the fake no more memory than the largest request. The folder is removed when the fake is
garbage-collected or :meth:`MediaStore.close` is called.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from twcreds.testing._records import MediaRecord

__all__ = [
    "APPEND_LIMIT",
    "LIMITS",
    "MEDIA_BODY_LIMIT",
    "MEDIA_TYPES",
    "MediaStore",
    "Upload",
    "parse_multipart",
    "sniff",
]

MiB = 1024 * 1024
#: X's limits per kind, in bytes.
LIMITS = {"image": 5 * MiB, "gif": 15 * MiB, "video": 512 * MiB}
#: X takes at most 5 MB per append.
APPEND_LIMIT = 5 * MiB
#: The largest request body the media endpoints read: an image or an append part, and the
#: multipart framing around it. Past it the fake answers 413, as X's edge does.
MEDIA_BODY_LIMIT = 5 * MiB + 64 * 1024
#: Media types X takes for posts -> their kind.
MEDIA_TYPES = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/webp": "image",
    "image/gif": "gif",
    "video/mp4": "video",
    "video/quicktime": "video",
}
#: X's media key prefixes per kind.
_KEY_PREFIX = {"image": "3", "gif": "16", "video": "7"}
_CATEGORIES = {
    "image": ("tweet_image", "dm_image"),
    "gif": ("tweet_gif", "dm_gif"),
    "video": ("tweet_video", "dm_video"),
}


def sniff(head: bytes) -> str | None:
    """The media type the first bytes announce (PNG, JPEG, GIF, WebP, MP4), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    return None


def categories(kind: str) -> tuple[str, ...]:
    """The media categories that fit a kind."""
    return _CATEGORIES[kind]


def parse_multipart(content_type: str | None, body: bytes) -> dict[str, memoryview] | None:
    """The parts of a ``multipart/form-data`` body by name, as views into ``body``; None if
    the body is not one.

    The boundary and each part's headers are read with the standard library's email
    parser (``cgi`` is gone); the parts' contents are cut out of the body by the boundary,
    without copying: the email parser would decode megabytes of binary into text first.
    """
    if not content_type:
        return None
    header = email.parser.BytesHeaderParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    )
    if header.get_content_type() != "multipart/form-data":
        return None
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    view = memoryview(body)
    parts: dict[str, memoryview] = {}
    position = body.find(delimiter)
    if position < 0:
        return None
    while True:
        start = position + len(delimiter)
        if body[start : start + 2] == b"--":
            return parts
        if body[start : start + 2] != b"\r\n":
            return None
        headers_end = body.find(b"\r\n\r\n", start + 2)
        if headers_end < 0:
            return None
        following = body.find(b"\r\n" + delimiter, headers_end + 4)
        if following < 0:
            return None
        part = email.parser.BytesHeaderParser(policy=email.policy.HTTP).parsebytes(
            body[start + 2 : headers_end + 4]
        )
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            parts[name] = view[headers_end + 4 : following]
        position = following + 2


@dataclass
class Upload:
    """One media item being uploaded or held.

    Attributes:
        id: The media id (digits).
        user_id: Who uploaded it: only they can append, finalize and post it.
        media_type: Its MIME type.
        kind: ``"image"``, ``"gif"`` or ``"video"``.
        category: X's media category.
        total_bytes: The size announced at initialize (the size, for one shot).
        state: ``"initialized"`` (parts coming), then ``"pending"`` /
            ``"in_progress"`` / ``"succeeded"`` / ``"failed"``.
        parts: segment index -> size, until finalize.
        finalized_at: When finalize was called (the fake's clock).
        failure: X's processing error message, for a failed item.
        size: The bytes held, once finalized.
        sha256: Their digest, once finalized.
    """

    id: str
    user_id: str
    screen_name: str
    media_type: str
    kind: str
    category: str
    total_bytes: int
    state: str = "initialized"
    parts: dict[int, int] = field(default_factory=dict)
    finalized_at: float = 0.0
    failure: str | None = None
    size: int = 0
    sha256: str = ""

    @property
    def media_key(self) -> str:
        """X's media key: the kind's prefix, ``_``, the id."""
        return f"{_KEY_PREFIX[self.kind]}_{self.id}"

    def record(self) -> MediaRecord:
        """What a test sees of it."""
        return MediaRecord(
            id=self.id,
            media_key=self.media_key,
            media_type=self.media_type,
            category=self.category,
            size=self.size,
            sha256=self.sha256,
            state=self.state,
            screen_name=self.screen_name,
        )


class MediaStore:
    """Media items and their bytes on disk; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._items: dict[str, Upload] = {}
        self._folder: Path | None = None
        self._cleanup: weakref.finalize[[str], MediaStore] | None = None
        self._next_id = 1_900_000_000_000_000_000 + int.from_bytes(os.urandom(6), "big")
        self.fail_next: str | None = None

    def _dir(self) -> Path:
        with self._lock:
            if self._folder is None:
                folder = tempfile.mkdtemp(prefix="twcreds-fake-media-")
                self._folder = Path(folder)
                # No ResourceWarning (tests run warnings as errors), unlike TemporaryDirectory.
                self._cleanup = weakref.finalize(self, _remove, folder)
            return self._folder

    def close(self) -> None:
        """Remove every held byte from disk; the records stay."""
        with self._lock:
            if self._cleanup is not None:
                self._cleanup()
            self._folder = self._cleanup = None

    def create(
        self,
        user_id: str,
        screen_name: str,
        media_type: str,
        category: str,
        total_bytes: int,
    ) -> Upload:
        """A new item, waiting for its bytes."""
        with self._lock:
            self._next_id += 1 + int.from_bytes(os.urandom(2), "big")
            kind = MEDIA_TYPES[media_type]
            upload = Upload(
                str(self._next_id), user_id, screen_name, media_type, kind, category, total_bytes
            )
            self._items[upload.id] = upload
            return upload

    def get(self, media_id: str) -> Upload | None:
        """The item with that id, if any."""
        with self._lock:
            return self._items.get(media_id)

    def write_part(self, upload: Upload, index: int, data: memoryview) -> None:
        """Keep one appended part (a later part with the same index replaces it)."""
        path = self._dir() / f"{upload.id}.{index}"
        with path.open("wb") as out:
            out.write(data)
        with self._lock:
            upload.parts[index] = len(data)

    def hold_whole(self, upload: Upload, data: memoryview) -> None:
        """Keep a one-shot upload: it is complete and processed at once."""
        path = self._dir() / upload.id
        with path.open("wb") as out:
            out.write(data)
        with self._lock:
            upload.size = len(data)
            upload.sha256 = hashlib.sha256(data).hexdigest()
            upload.state = "succeeded"

    def assemble(self, upload: Upload) -> None:
        """Join the parts in index order into the item's one file, and digest it."""
        folder = self._dir()
        digest = hashlib.sha256()
        size = 0
        with (folder / upload.id).open("wb") as out:
            for index in sorted(upload.parts):
                part = folder / f"{upload.id}.{index}"
                with part.open("rb") as stream:
                    while chunk := stream.read(1024 * 1024):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                part.unlink()
        with self._lock:
            upload.parts.clear()
            upload.size = size
            upload.sha256 = digest.hexdigest()

    def content(self, media_id: str) -> bytes:
        """The bytes held for a finalized item.

        Raises:
            KeyError: No such item, or its bytes are not complete.
        """
        with self._lock:
            upload = self._items.get(media_id)
            if upload is None or upload.state == "initialized" or self._folder is None:
                msg = f"no finalized media {media_id!r} on this FakeTwitter"
                raise KeyError(msg)
            return (self._folder / upload.id).read_bytes()

    def records(self) -> list[MediaRecord]:
        """Every item, oldest first."""
        with self._lock:
            return [upload.record() for upload in self._items.values()]

    def advance(self, upload: Upload, now: float, processing: float) -> None:
        """Move a finalized video or GIF along: in progress for ``processing`` seconds."""
        with self._lock:
            if upload.state not in ("pending", "in_progress"):
                return
            if upload.failure is not None:
                upload.state = "failed"
            elif now - upload.finalized_at >= processing:
                upload.state = "succeeded"
            else:
                upload.state = "in_progress"


def _remove(folder: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)
