"""Uploaded import files kept between the preview and the confirmation, under instance/imports/.

Shared by the household and the entry imports: the file is stored once under a random
token, the preview and the confirmation read it by that token, and abandoned uploads
are removed after a day.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import time
from pathlib import Path
from typing import BinaryIO, Optional

from flask import current_app, flash, redirect, render_template, send_file, session, url_for
from flask_login import current_user

from .. import import_claims
from ..exports import XLSX_MIMETYPE
from ..import_claims import AlreadyImported, ClaimedElsewhere
from ..models import ImportClaim, Village

# The stored upload's name: a random token and the extension, nothing a path could hide in.
TOKEN_PATTERN = r"^[0-9a-f]{32}\.(xlsx|xls|ods|csv)$"
# Uploads abandoned at the preview are removed after a day.
STALE_SECONDS = 24 * 3600
# How much of a plan the preview page lists; the command line's --dry-run shows all of it.
PROBLEMS_SHOWN = 500
SAMPLE_ROWS = 20


class UploadTooLarge(Exception):
    """The upload is over the import size limit."""


class UploadGone(Exception):
    """The stored upload is no longer there (expired, or never stored)."""


# What a confirm that applies nothing may meet; ``not_applied`` answers each.
NOT_APPLIED = (AlreadyImported, ClaimedElsewhere, UploadGone)


def folder() -> Path:
    """Return the folder uploads wait in, creating it on first use."""
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored(token: str) -> Path:
    """Return the path of a stored upload; the token's pattern keeps it inside the folder."""
    if not re.fullmatch(TOKEN_PATTERN, token or ""):
        return folder() / "missing"
    return folder() / token


def store(stream: BinaryIO, filename: str) -> str:
    """Copy the upload under instance/imports/ with a random name, refusing it past the size limit."""
    where = folder()
    remove_stale(where)
    extension = os.path.splitext(filename)[1].lower().lstrip(".")
    token = f"{secrets.token_hex(16)}.{extension}"
    limit = current_app.config["IMPORT_MAX_BYTES"]
    path = where / token
    size = 0
    with open(path, "wb") as out:
        while chunk := stream.read(1 << 16):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    if size > limit:
        path.unlink(missing_ok=True)
        raise UploadTooLarge()
    return token


def remove_stale(where: Path) -> None:
    """Delete uploads older than STALE_SECONDS."""
    cutoff = time.time() - STALE_SECONDS
    for path in where.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def display_name(filename: Optional[str]) -> str:
    """Return the file's own name as the browser sent it, without any client path."""
    # Some browsers send the full client path; only the last part is the file's name.
    name = re.split(r"[\\/]", filename or "")[-1].strip()
    return name[-200:] or "未命名文件"


def max_mb() -> int:
    """Return the upload size limit in whole megabytes, as the pages state it."""
    return current_app.config["IMPORT_MAX_BYTES"] // 1024 // 1024


def receive(upload) -> Optional[str]:
    """Store an uploaded file and return its token, or flash the size refusal and return None."""
    try:
        return store(upload.stream, display_name(upload.filename))
    except UploadTooLarge:
        flash(f"文件超过 {max_mb()} MB 的上限，请拆分后分批导入", "danger")
        return None


def expired(upload_endpoint: str, village: Village):
    """Send the user back to the upload page when the stored file is gone."""
    flash("上传的文件已找不到（可能已经导入过，或已过期），请重新上传", "warning")
    return redirect(url_for(upload_endpoint, slug=village.slug))


def claim(village: Village, kind: str, token: str) -> ImportClaim:
    """Claim a confirmed upload for this request's transaction before reading it; see import_claims.

    Raises AlreadyImported when the upload was imported already (a double click, several
    tabs), UploadGone when its file is not there. Set the claim's ``outcome`` before committing.
    """
    made = import_claims.claim(current_user, village, kind, token)
    if not stored(token).exists():
        raise UploadGone(token)
    return made


def not_applied(exc: Exception, key: str, result_endpoint: str, upload_endpoint: str, village: Village):
    """Answer a confirm that imported nothing: show the earlier import's result, or ask for a new upload."""
    if isinstance(exc, AlreadyImported):
        session[key] = exc.outcome
        flash("这个文件已经导入过（可能点了不止一次确认），下面是那次导入的结果，没有重复导入", "info")
        return redirect(url_for(result_endpoint, slug=village.slug))
    return expired(upload_endpoint, village)


def finish(token: str, key: str, outcome: dict, summary: str, result_endpoint: str, village: Village):
    """Drop the imported file, keep the outcome for the result page, and go there."""
    stored(token).unlink(missing_ok=True)
    session[key] = outcome
    flash(f"导入完成：{summary}", "success")
    return redirect(url_for(result_endpoint, slug=village.slug))


def show_result(key: str, template: str, upload_endpoint: str, village: Village):
    """Show an import's outcome once; a reload or a direct visit goes to the upload page."""
    outcome = session.pop(key, None)
    if outcome is None:
        return redirect(url_for(upload_endpoint, slug=village.slug))
    return render_template(template, village=village, outcome=outcome)


def send_template(data: bytes, download_name: str):
    """Send an import template workbook as a download."""
    return send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=download_name)


# Where on a preview page each import refusal's ``field`` points (ids in the preview templates).
REFUSAL_TARGETS = {"problems": "problems", "confirm_identity": "identity-1"}


def refusals(refusal: Optional[Exception], plan) -> list[tuple[str, str]]:
    """The error summary's lines for a refused import confirm: (message, id of what it names, or "")."""
    if refusal is None:
        return []
    target = REFUSAL_TARGETS.get(getattr(refusal, "field", ""), "")
    if target == "problems" and not plan.problems:
        target = ""
    if target == "identity-1" and not (plan.identity_rows or plan.held_back):
        target = ""
    return [(str(refusal), target)]
