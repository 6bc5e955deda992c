"""Reading a household card (户码) from a photo, for phones whose browser cannot scan.

The entry form and the store counter pick a household by its card. Where the browser
has no BarcodeDetector (iPhones, most cheap phones), the page sends a photo of the card
instead and the server reads the QR here with zxing-cpp. The photo is read in memory
and dropped: nothing of it is stored. Each photo counts against the staff member's
limit, as searches by ID digits do, because reading a photo costs the server far more
than a search.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Optional

import zxingcpp
from PIL import Image, UnidentifiedImageError

from . import cards, throttle
from .extensions import db
from .models import Household, HouseholdCard, User, Village

# A phone photo is 2–6 MB; the entry form's photo limit fits any of them.
MAX_SCAN_BYTES = 8 * 1024 * 1024
# A 50-megapixel camera's full frame; beyond that a "photo" is more likely a decompression bomb.
MAX_SCAN_PIXELS = 50_000_000
# A card filmed from a hand's length fills a good part of the frame: 2,000 pixels across
# keeps its modules several pixels wide and reads ten times faster than a full frame.
READ_SIDE = 2000
SCAN_LIMIT = 60
SCAN_WINDOW_MINUTES = 10


class ScanRefused(cards.CardError):
    """A photo that picks no household; the message says why in Chinese."""


class PhotoUnreadable(ScanRefused):
    """The photo is not an image, or no QR code can be read in it."""


class ScanThrottled(ScanRefused):
    """The staff member sent too many photos in a short time."""


def count_scan(
    actor: User, remote_addr: str = "", *, limit: int = SCAN_LIMIT, window_minutes: int = SCAN_WINDOW_MINUTES,
    now: Optional[dt.datetime] = None,
) -> None:
    """Count one photo against the staff member's limit; raise ScanThrottled once it is used up."""
    done = throttle.spend("card_scan", f"user:{actor.id}", remote_addr, limit=limit,
                          window_minutes=window_minutes, now=now)
    if done:
        raise ScanThrottled(
            f"拍照识别户码过于频繁（{window_minutes}分钟内已识别{done}次），请{window_minutes}分钟后再试，"
            "或输入姓名、户编号"
        )


def read_qr_texts(data: bytes) -> list[str]:
    """Return the texts of the QR codes in a photo (JPG, PNG, WebP …), largest photo side scaled to READ_SIDE.

    Raises PhotoUnreadable for data that is not an image or is too large to read.
    """
    if not data:
        raise PhotoUnreadable("没有收到照片，请拍一张户码卡的照片")
    if len(data) > MAX_SCAN_BYTES:
        raise PhotoUnreadable(f"照片超过 {MAX_SCAN_BYTES // 1024 // 1024} MB，请重新拍一张")
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_SCAN_PIXELS:
            raise PhotoUnreadable("照片像素太多，请用手机相机的普通模式重新拍一张")
        # JPEG decodes straight to a smaller size: much faster on a 12-megapixel photo.
        image.draft("L", (READ_SIDE, READ_SIDE))
        image = image.convert("L")
        image.thumbnail((READ_SIDE, READ_SIDE))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoUnreadable("无法读取这张照片，请用相机拍一张 JPG 或 PNG 照片") from exc
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [barcode.text for barcode in found if barcode.text]


def household_from_photo(village: Village, data: bytes) -> Household:
    """Return the active household of this village whose live card is in the photo.

    Refuses, each with its own message: a photo with no QR code, a QR code that is not
    a card, an unknown card, a revoked (reissued) card, another village's card, and the
    card of a household no longer registered.
    """
    texts = read_qr_texts(data)
    if not texts:
        raise PhotoUnreadable("照片里没有识别到二维码：请把户码卡放平，二维码占满画面的一半左右，拍清楚后重试")
    tokens = [t for t in (cards.token_from_scan(text) for text in texts) if t]
    if not tokens:
        raise ScanRefused("照片里的二维码不是户码卡，请拍农户的户码卡")
    card = _card_for_token(tokens[0])
    if card is None:
        raise ScanRefused("没有找到这张户码卡对应的农户，请输入姓名或户编号")
    if card.village_id != village.id:
        other = db.session.get(Village, card.village_id)
        raise ScanRefused(f"这是{other.name}的户码卡，不是{village.name}的，不能在这里使用")
    if card.revoked_at is not None:
        raise ScanRefused("这张户码卡已作废（该户已补发新卡），请出示新卡，或输入姓名、户编号")
    household = db.session.get(Household, card.household_id)
    if not household.is_active:
        raise ScanRefused(f"农户 {household.head_name}（{household.code}）已注销")
    return household


def _card_for_token(token: str) -> Optional[HouseholdCard]:
    """Return the card, live or revoked, that carries this token."""
    if len(token) > 100:
        return None
    return db.session.execute(
        db.select(HouseholdCard).where(HouseholdCard.token_hash == cards.hash_token(token))
    ).scalar_one_or_none()
