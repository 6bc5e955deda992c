"""What a resident may see without logging in: the public board and their own household."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Optional

from . import cards, store, throttle
from .extensions import db
from .ledger import HouseholdScores, balance, scores_for
from .models import Entry, Household, Publication, Village
from .personal_data import mask_name
from .publication import latest_publication, snapshot_of

LOOKUP_PER_HOUSEHOLD = 5
LOOKUP_PER_ADDRESS = 20
LOOKUP_WINDOW_MINUTES = 15


class LookupRefused(ValueError):
    """A resident's lookup that found nothing or was throttled; the message is safe to show."""


class LookupThrottled(LookupRefused):
    """A lookup refused because of too many recent failures, whatever was typed."""


def public_name(row: dict, naming: str) -> str:
    """Name a black-listed household as the village chose: full name, 张*, or the group only."""
    if naming == "full":
        return row["head_name"]
    if naming == "group":
        return f"{row['group'] or '未分组'}某户"
    return mask_name(row["head_name"])


def board(village: Village, today: Optional[dt.date] = None) -> Optional[dict]:
    """Return the latest published quarter for the public board, or None when nothing is published.

    Only names, groups and codes leave here; black-list names follow the village's policy.
    """
    publication = latest_publication(village)
    if publication is None:
        return None
    today = today or dt.date.today()
    snap = snapshot_of(publication)
    black_ids = {row["household_id"] for row in snap["black"]}

    def named(row: dict) -> dict:
        # The ranking names black-listed households the same way as the black list:
        # their rank and score would otherwise point back to the full name.
        if row["household_id"] not in black_ids:
            return row
        return {**row, "head_name": public_name(row, village.black_naming),
                "code": row["code"] if village.black_naming == "full" else ""}

    ranked = ("code", "head_name", "group", "score", "rank")
    listed = ranked + ("reasons",)
    return {
        "label": snap["label"],
        "quarter": publication.quarter,
        "version": publication.version,
        "notice_starts_on": publication.notice_starts_on,
        "notice_ends_on": publication.notice_ends_on,
        "notice_open": publication.notice_starts_on <= today <= publication.notice_ends_on,
        "contact": publication.contact,
        "ranking": [{k: r[k] for k in ranked} for r in map(named, snap["tally"])],
        "red": [{k: r[k] for k in listed} for r in snap["red"]],
        "black": [{k: r[k] for k in listed} for r in map(named, snap["black"])],
    }


def ranking_by_group(village: Village, ranking: list[dict]) -> list[tuple[str, list[dict]]]:
    """Split the board's ranking into the village's groups, in the village's order, each by rank.

    Ranks stay village-wide; a group renamed or removed since publishing, and 未分组, come last.
    """
    order = {g.name: i for i, g in enumerate(village.groups)}
    by_group: dict[str, list[dict]] = {}
    for row in ranking:
        by_group.setdefault(row["group"] or "未分组", []).append(row)
    names = sorted(by_group, key=lambda name: (name not in order, order.get(name, 0), name))
    return [(name, by_group[name]) for name in names]


def ranking_page(ranking: list[dict], page: int, size: int) -> tuple[list[dict], int, int]:
    """Return one page of the ranking for the big screen, the page shown (1-based) and the page count.

    A page past the end starts over at the first, so a screen that keeps turning pages loops.
    """
    pages = max(1, -(-len(ranking) // size))
    page = page if 1 <= page <= pages else 1
    return ranking[(page - 1) * size: page * size], page, pages


@dataclass
class HouseholdLookup:
    code: str
    head_name: str
    group: str
    balance: int
    quarters: list[dict] = field(default_factory=list)


def lookup(village: Village, code: str, id_tail: str, remote_addr: str) -> HouseholdLookup:
    """Show one household's published scores, list appearances and balance to its own members.

    The code and the last 4 characters of the head's ID number must match; failures are
    throttled per household and per address so the digits cannot be guessed.
    """
    code = (code or "").strip()
    id_tail = (id_tail or "").strip().upper()
    key = f"{village.id}:{code}"
    try:
        throttle.check("lookup", key, remote_addr, per_key=LOOKUP_PER_HOUSEHOLD, per_addr=LOOKUP_PER_ADDRESS,
                       window_minutes=LOOKUP_WINDOW_MINUTES)
    except throttle.Throttled as exc:
        raise LookupThrottled(f"查询次数过多，请{LOOKUP_WINDOW_MINUTES}分钟后再试") from exc
    household = db.session.execute(
        db.select(Household).filter_by(village_id=village.id, code=code)
    ).scalar_one_or_none()
    if household is None or not household.id_number or len(id_tail) != 4 or not household.id_number.endswith(id_tail):
        throttle.fail("lookup", key, remote_addr)
        raise LookupRefused("户编号或身份证号后4位不对，请核对后再查")
    throttle.clear("lookup", key)
    return HouseholdLookup(household.code, household.head_name, household.group.name if household.group else "",
                           balance(household.id), published_quarters(village, household))


def published_quarters(village: Village, household: Household) -> list[dict]:
    """Return the household's row of every current publication, newest quarter first.

    Each has the quarter's label and version, score, rank, plus, minus, the number of
    households ranked, and the red and black reasons (None when not on that list).
    """
    quarters = []
    publications = db.session.execute(
        db.select(Publication).filter_by(village_id=village.id, status="current").order_by(Publication.quarter.desc())
    ).scalars()
    for publication in publications:
        snap = json.loads(publication.snapshot)
        row = next((r for r in snap["tally"] if r["household_id"] == household.id), None)
        if row is None:
            continue
        quarters.append({
            "quarter": publication.quarter,
            "label": snap["label"], "version": publication.version, "score": row["score"], "rank": row["rank"],
            "plus": row["plus"], "minus": row["minus"], "households": len(snap["tally"]),
            "red": next((r["reasons"] for r in snap["red"] if r["household_id"] == household.id), None),
            "black": next((r["reasons"] for r in snap["black"] if r["household_id"] == household.id), None),
        })
    return quarters


CARD_PER_ADDRESS = 20
CARD_WINDOW_MINUTES = 15
# Enough to read a household's history on a phone; older entries are on the passbook.
OWN_PAGE_ENTRIES = 100


class CardNotFound(LookupRefused):
    """An unknown or revoked card token: the page says only "not found"."""


@dataclass
class OwnPage:
    """What a household sees on its own card page (户码): never an ID number or a phone."""

    household: Household
    code: str
    head_name: str
    group: str
    scores: HouseholdScores
    spendable: int
    expiry: list = field(default_factory=list)
    quarters: list[dict] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    redemptions: list = field(default_factory=list)


def open_card(token: str, remote_addr: str) -> Household:
    """Return the household of a live card; unknown tokens are throttled per address.

    Unknown and revoked tokens are refused alike, with CardNotFound; too many of them
    from one address within the window give LookupThrottled, whatever the token.
    """
    try:
        # Tokens are not guessed one household at a time: only the address is counted.
        throttle.check("card", remote_addr, remote_addr, per_key=CARD_PER_ADDRESS, per_addr=CARD_PER_ADDRESS,
                       window_minutes=CARD_WINDOW_MINUTES)
    except throttle.Throttled as exc:
        raise LookupThrottled(f"打开次数过多，请{CARD_WINDOW_MINUTES}分钟后再试") from exc
    household = cards.household_for_token(token)
    if household is None:
        throttle.fail("card", remote_addr, remote_addr)
        raise CardNotFound("找不到这个户码")
    return household


def own_page(household: Household, today: Optional[dt.date] = None) -> OwnPage:
    """Gather a household's own page: live quarter score, published quarters, balance, history."""
    today = today or dt.date.today()
    village = household.village
    entries = db.session.execute(
        db.select(Entry).where(Entry.household_id == household.id, Entry.status != "withdrawn")
        .order_by(Entry.entry_date.desc(), Entry.id.desc()).limit(OWN_PAGE_ENTRIES)
    ).scalars().all()
    return OwnPage(
        household=household, code=household.code, head_name=household.head_name,
        group=household.group.name if household.group else "",
        scores=scores_for(household, today), spendable=store.spendable(household, today),
        expiry=store.expiry_outlook(household, today), quarters=published_quarters(village, household),
        entries=list(entries), redemptions=store.household_redemptions(household),
    )
