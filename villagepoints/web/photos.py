"""Evidence photos sent with a form (an entry, a household's application): read, checked, kept.

Shared by the entry pages and the household's card page, so both take photos the same
way: the request size they need, every photo checked before anything is written, and
the folder the photos are kept in.
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from wtforms import MultipleFileField

from .. import evidence
from ..evidence import MAX_PHOTO_BYTES, MAX_PHOTOS, PhotoUpload

# Four photos at the size limit plus the form fields; the app-wide limit is sized for imports.
PHOTO_REQUEST_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024


def read_photos(field: MultipleFileField, already: int = 0) -> list[PhotoUpload]:
    """Read the photos chosen in a file field and check them all (with ``already`` kept) before anything is written."""
    uploads = []
    for storage in field.data or []:
        if not getattr(storage, "filename", None):
            continue
        # One byte over the limit is enough for check_uploads to refuse it.
        uploads.append(PhotoUpload(storage.read(MAX_PHOTO_BYTES + 1), storage.filename))
    evidence.check_uploads(uploads, already=already)
    return [u for u in uploads if u.data]


def storage_root() -> Path:
    """Return the folder evidence photos are kept in."""
    return Path(current_app.instance_path) / "evidence"
