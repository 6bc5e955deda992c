"""Photos taken as evidence for entries: checked to be images, size-limited, kept under instance/."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .extensions import db
from .ledger import LedgerError
from .models import Entry, EntryPhoto

MAX_PHOTOS = 4
MAX_PHOTO_BYTES = 8 * 1024 * 1024

# Recognised by their first bytes, not by the name or the browser's word for them.
_SIGNATURES = (
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"GIF87a", "gif", "image/gif"),
    (b"GIF89a", "gif", "image/gif"),
)


class EvidenceError(LedgerError):
    """A photo that cannot be kept as evidence."""


@dataclass
class PhotoUpload:
    data: bytes
    filename: str = ""


def sniff(data: bytes) -> tuple[str, str] | None:
    """Return (extension, content type) of a JPEG, PNG, GIF or WebP image, else None."""
    for signature, ext, content_type in _SIGNATURES:
        if data.startswith(signature):
            return ext, content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", "image/webp"
    return None


def check_uploads(uploads: Sequence[PhotoUpload], already: int = 0) -> list[tuple[PhotoUpload, str, str]]:
    """Check every photo before any is stored; return each with its extension and type."""
    uploads = [u for u in uploads if u.data]
    if len(uploads) + already > MAX_PHOTOS:
        raise EvidenceError(f"每条记录最多 {MAX_PHOTOS} 张照片", "photos")
    checked = []
    for upload in uploads:
        name = upload.filename or "照片"
        if len(upload.data) > MAX_PHOTO_BYTES:
            raise EvidenceError(f"照片“{name}”超过 {MAX_PHOTO_BYTES // 1024 // 1024} MB，请压缩后再传", "photos")
        kind = sniff(upload.data)
        if kind is None:
            raise EvidenceError(f"“{name}”不是图片（只收 JPG、PNG、GIF、WebP）", "photos")
        checked.append((upload, *kind))
    return checked


def attach_photos(entry: Entry, uploads: Sequence[PhotoUpload], storage_root: Path) -> list[EntryPhoto]:
    """Store checked photos for an entry and record them; names are random, never the uploader's."""
    return share_photos([entry], uploads, storage_root, already=len(entry.photos))


def carry_photos(entry: Entry, photos: Sequence[EntryPhoto]) -> list[EntryPhoto]:
    """Give an entry the same photo files as another entry of its village (改正后重新提交).

    The files are linked, not copied: each new row names the same ``stored_name``.
    """
    made = []
    for photo in photos:
        if photo.entry.village_id != entry.village_id:
            raise EvidenceError("照片不属于本村的记录", "photos")
        copy = EntryPhoto(
            stored_name=photo.stored_name, original_name=photo.original_name,
            content_type=photo.content_type, size=photo.size,
        )
        entry.photos.append(copy)
        made.append(copy)
    db.session.flush()
    return made


def share_photos(
    entries: Sequence[Entry], uploads: Sequence[PhotoUpload], storage_root: Path, *, already: int = 0
) -> list[EntryPhoto]:
    """Store each checked photo once and record it for every entry (a bulk entry's households share it).

    ``already`` is how many photos the entries have (0 for entries just made). The entries
    are of one village. A file is never removed while an entry names it: entries are
    withdrawn, rejected or reversed, never deleted, and keep their photos as evidence.
    """
    checked = check_uploads(uploads, already=already)
    if not entries or not checked:
        return []
    [village_id] = {entry.village_id for entry in entries}
    folder = Path(storage_root) / str(village_id)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for upload, ext, content_type in checked:
        stored = f"{secrets.token_hex(16)}.{ext}"
        (folder / stored).write_bytes(upload.data)
        for entry in entries:
            # By id, so that a bulk entry of hundreds of households loads no photo lists.
            photo = EntryPhoto(
                entry_id=entry.id, stored_name=stored, original_name=(upload.filename or "")[:200],
                content_type=content_type, size=len(upload.data),
            )
            db.session.add(photo)
            made.append(photo)
    db.session.flush()
    return made


def photo_path(photo: EntryPhoto, storage_root: Path) -> Path:
    """Return where a stored photo lives on disk."""
    return Path(storage_root) / str(photo.entry.village_id) / photo.stored_name
