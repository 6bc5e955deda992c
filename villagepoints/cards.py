"""Household cards (户码): unguessable tokens that open a household's own page.

The token is printed on the card as a QR code; the database keeps only its sha256
hash, so a card's QR can be printed only at the moment its token is issued. Cards
are therefore issued when they are printed: printing a group's cards issues a new
token for every printed household, and any card printed before for those
households stops working at once. Tokens are not made ahead for every household:
a token nobody printed could never be printed later, and would only be one more
secret to guess at.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Optional, Sequence

from . import audit
from .extensions import db
from .ledger import LedgerError, household_label, lock_households
from .models import Group, Household, HouseholdCard, User, Village, utcnow

# 32 random bytes: 43 URL-safe characters, far beyond guessing even without the throttle.
TOKEN_BYTES = 32


class CardError(LedgerError):
    """A card that cannot be issued; the message says why in Chinese."""


@dataclass
class IssuedCard:
    """A card just issued: the only moment its token exists outside the holder's card."""

    household: Household
    token: str
    replaced: bool  # the household had a live card, now revoked


def card_url(base_url: str, token: str) -> str:
    """Return the address a card's QR carries: the household's own page under base_url."""
    return f"{base_url.rstrip('/')}/h/{token}"


def token_from_scan(text: str) -> Optional[str]:
    """Return the token in what a scanner read off a card (its full address), or None.

    A handheld scanner at the store counter types the address like a keyboard; the
    camera picker sends it as read.
    """
    text = (text or "").strip()
    if "/h/" not in text:
        return None
    token = text.rsplit("/h/", 1)[1].split("?", 1)[0].split("#", 1)[0].strip("/")
    return token or None


def hash_token(token: str) -> str:
    """Return the sha256 hex digest a card's token is stored as."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def live_card(household: Household) -> Optional[HouseholdCard]:
    """Return the household's card in use, if it has one."""
    return db.session.execute(
        db.select(HouseholdCard).where(HouseholdCard.household_id == household.id, HouseholdCard.revoked_at.is_(None))
        .order_by(HouseholdCard.id.desc())
    ).scalars().first()


def live_cards(household_ids: Sequence[int]) -> dict[int, HouseholdCard]:
    """Return the live card of each household that has one, by household id."""
    if not household_ids:
        return {}
    rows = db.session.execute(
        db.select(HouseholdCard).where(
            HouseholdCard.household_id.in_(list(household_ids)), HouseholdCard.revoked_at.is_(None)
        )
    ).scalars()
    return {card.household_id: card for card in rows}


def household_for_token(token: str) -> Optional[Household]:
    """Return the household whose live card carries this token, or None (unknown or revoked)."""
    token = (token or "").strip()
    if not token or len(token) > 100:
        return None
    wanted = hash_token(token)
    card = db.session.execute(
        db.select(HouseholdCard).where(HouseholdCard.token_hash == wanted)
    ).scalar_one_or_none()
    # The lookup is by hash already; the constant-time compare keeps the check itself from
    # telling anything by its timing, should the query ever change.
    if card is None or card.revoked_at is not None or not hmac.compare_digest(card.token_hash, wanted):
        return None
    return db.session.get(Household, card.household_id)


def _issue(actor: Optional[User], household: Household, now: dt.datetime) -> IssuedCard:
    old = live_card(household)
    if old is not None:
        old.revoked_at = now
        # Written before the new card, which the one-live-card index would otherwise refuse.
        db.session.flush()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(HouseholdCard(
        village_id=household.village_id, household_id=household.id, token_hash=hash_token(token),
        issued_at=now, issued_by_name=audit.actor_name(actor),
    ))
    return IssuedCard(household, token, old is not None)


def reissue(actor: Optional[User], household: Household) -> IssuedCard:
    """Issue a new card to one household; its old card, if any, stops working at once."""
    lock_households([household.id], reload=True)
    if not household.is_active:
        raise CardError(f"农户 {household_label(household)} 已注销，不能发放户码")
    issued = _issue(actor, household, utcnow())
    db.session.flush()
    audit.record(
        actor, "card.reissue" if issued.replaced else "card.issue", village_id=household.village_id,
        household_id=household.id, target=f"农户 {household_label(household)}",
        summary="补发户码，原户码作废" if issued.replaced else "发放户码",
    )
    return issued


def households_to_print(village: Village, group: Optional[Group] = None) -> list[Household]:
    """Return the active households whose cards a print covers, by group then code."""
    stmt = (
        db.select(Household).outerjoin(Group, Household.group_id == Group.id)
        .where(Household.village_id == village.id, Household.status == "active")
        .order_by(Group.sort_order, Group.id, Household.code)
    )
    if group is not None:
        stmt = stmt.where(Household.group_id == group.id)
    return list(db.session.execute(stmt).scalars())


@dataclass
class PrintPlan:
    """What printing would do: how many cards, and how many already printed would stop working."""

    households: list[Household]
    replacing: int


def print_plan(village: Village, group: Optional[Group] = None) -> PrintPlan:
    """Say how many cards a print issues and how many live cards it replaces."""
    chosen = households_to_print(village, group)
    return PrintPlan(chosen, len(live_cards([h.id for h in chosen])))


def issue_for_print(actor: Optional[User], village: Village, group: Optional[Group] = None) -> list[IssuedCard]:
    """Issue new cards to every active household of the village (or group), for printing.

    Every card printed before for these households stops working. One audit row for
    the batch. Households are locked in id order first, so two prints cannot interleave.
    """
    chosen = households_to_print(village, group)
    if not chosen:
        where = f"{village.name}{group.name}" if group is not None else village.name
        raise CardError(f"{where}没有在册农户，没有户码可打印")
    lock_households([h.id for h in chosen])
    now = utcnow()
    issued = [_issue(actor, household, now) for household in chosen]
    db.session.flush()
    replaced = sum(1 for card in issued if card.replaced)
    where = f"{group.name}" if group is not None else "全村"
    audit.record(
        actor, "card.print", village_id=village.id, target=f"村 {village.name} {where}",
        summary=f"打印户码 {len(issued)} 户，其中 {replaced} 户原有户码作废",
        after={"households": [c.household.code for c in issued], "replaced": replaced},
    )
    return issued
