"""Print household cards (户码) as an A4 PDF: 8 cards a page, each with its QR code.

The QR is drawn as vector squares from segno's module matrix, so it stays sharp at
any printer resolution. Chinese text uses reportlab's built-in CID font STSong-Light:
the PDF names a standard Adobe CJK font that every PDF reader supplies, so no font
file has to exist on the server.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Sequence

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
COLUMNS, ROWS = 2, 4
CARDS_PER_PAGE = COLUMNS * ROWS
MARGIN = 10 * mm
GAP = 4 * mm
QR_SIZE = 40 * mm
# Four modules of white around the code, as the QR standard asks, so a camera finds it.
QUIET_MODULES = 4
HOW_TO = "用手机相机或微信扫码，查看本户积分、申请加分"


@dataclass
class CardFace:
    """What one printed card shows."""

    village: str
    group: str
    code: str
    head_name: str
    url: str


def faces(issued: Sequence, base_url: str) -> list[CardFace]:
    """Return what each just-issued card (cards.IssuedCard) prints."""
    from .cards import card_url

    return [
        CardFace(
            village=card.household.village.name, group=card.household.group.name if card.household.group else "",
            code=card.household.code, head_name=card.household.head_name, url=card_url(base_url, card.token),
        )
        for card in issued
    ]


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _draw_qr(pdf: canvas.Canvas, url: str, x: float, y: float, size: float) -> None:
    qr = segno.make_qr(url, error="m")
    matrix = [list(row) for row in qr.matrix]
    count = len(matrix) + 2 * QUIET_MODULES
    module = size / count
    pdf.setFillColorRGB(1, 1, 1)
    pdf.rect(x, y, size, size, stroke=0, fill=1)
    pdf.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        top = y + size - (r + QUIET_MODULES + 1) * module
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # One rectangle per run of dark modules, slightly overlapping so no hairline shows.
            pdf.rect(x + (start + QUIET_MODULES) * module, top, (c - start) * module + 0.05, module + 0.05,
                     stroke=0, fill=1)


def _fit(pdf: canvas.Canvas, text: str, font: str, size: float, width: float) -> float:
    while size > 6 and pdf.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _draw_card(pdf: canvas.Canvas, face: CardFace, x: float, y: float, w: float, h: float) -> None:
    font = _font()
    pdf.setStrokeColorRGB(0.6, 0.6, 0.6)
    pdf.setDash(3, 3)
    pdf.rect(x, y, w, h, stroke=1, fill=0)
    pdf.setDash()
    pad = 4 * mm
    qr_x = x + w - pad - QR_SIZE
    qr_y = y + (h - QR_SIZE) / 2 + 3 * mm
    _draw_qr(pdf, face.url, qr_x, qr_y, QR_SIZE)
    text_w = qr_x - x - pad - 2 * mm
    pdf.setFillColorRGB(0, 0, 0)
    title = f"{face.village} 户码"
    pdf.setFont(font, _fit(pdf, title, font, 13, text_w))
    pdf.drawString(x + pad, y + h - pad - 5 * mm, title)
    lines = [("小组", face.group or "未分组"), ("户编号", face.code), ("户主", face.head_name)]
    top = y + h - pad - 15 * mm
    for i, (label, value) in enumerate(lines):
        line = f"{label}：{value}"
        pdf.setFont(font, _fit(pdf, line, font, 11, text_w))
        pdf.drawString(x + pad, top - i * 8 * mm, line)
    pdf.setFont(font, _fit(pdf, HOW_TO, font, 8, w - 2 * pad))
    pdf.drawString(x + pad, y + pad, HOW_TO)


def render(faces: Sequence[CardFace], title: str = "户码") -> bytes:
    """Return the PDF of the cards, 8 to an A4 page in 2 columns and 4 rows."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(title)
    page_w, page_h = A4
    card_w = (page_w - 2 * MARGIN - (COLUMNS - 1) * GAP) / COLUMNS
    card_h = (page_h - 2 * MARGIN - (ROWS - 1) * GAP) / ROWS
    for index, face in enumerate(faces):
        slot = index % CARDS_PER_PAGE
        if index and slot == 0:
            pdf.showPage()
        col, row = slot % COLUMNS, slot // COLUMNS
        x = MARGIN + col * (card_w + GAP)
        y = page_h - MARGIN - (row + 1) * card_h - row * GAP
        _draw_card(pdf, face, x, y, card_w, card_h)
    pdf.showPage()
    pdf.save()
    return out.getvalue()
