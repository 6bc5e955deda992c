"""Database models (SQLAlchemy 2 style). Domain rules live in the service modules."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import false as sa_false
from sqlalchemy import text as sa_text
from sqlalchemy import true as sa_true
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    JSON,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

ROLES = ("admin", "clerk", "reviewer", "storekeeper", "viewer", "township_admin", "township_viewer")
# Roles that reach every village of one township instead of a list of villages.
TOWNSHIP_ROLES = ("township_admin", "township_viewer")
ROLE_LABELS = {
    "admin": "管理员",
    "clerk": "录入员",
    "reviewer": "审核员",
    "storekeeper": "超市管理员",
    "viewer": "只读用户",
    "township_admin": "乡镇管理员",
    "township_viewer": "乡镇只读用户",
}
DEFAULT_CATEGORIES = ("一般户", "党员户", "脱贫户", "监测户", "低保户", "五保户", "村干部户")
HOUSEHOLD_STATUSES = {"active": "在册", "inactive": "已注销"}
DEACTIVATION_REASONS = {"moved": "迁出", "merged": "合户", "ended": "户消亡"}


def utcnow() -> dt.datetime:
    """Return the current UTC time without tzinfo, as every timestamp column stores it."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


user_villages = Table(
    "user_villages",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("village_id", ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True),
)


class Township(db.Model):
    """A township (乡镇): a group of villages whose township users reach all of them."""

    __tablename__ = "townships"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    villages: Mapped[list["Village"]] = relationship(back_populates="township", order_by="Village.id")

    def __repr__(self) -> str:
        return f"<Township {self.slug}>"


class Village(db.Model):
    __tablename__ = "villages"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    # A village belongs to at most one township.
    township_id: Mapped[Optional[int]] = mapped_column(ForeignKey("townships.id"), index=True)
    base_score: Mapped[int] = mapped_column(Integer, default=100)
    require_review: Mapped[bool] = mapped_column(Boolean, default=True)
    red_list_size: Mapped[int] = mapped_column(Integer, default=3)
    # The village's own list of household categories, joined by "、" in display order.
    category_list: Mapped[str] = mapped_column(Text, default="、".join(DEFAULT_CATEGORIES))
    # Which criteria of DESIGN §4 the village uses for its red and black lists.
    red_top_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    red_honours_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    black_below_base_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    black_aid_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    black_trigger_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # How the public board names black-listed households: full, masked (张*) or group only.
    black_naming: Mapped[str] = mapped_column(String(10), default="masked", server_default="masked")
    notice_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    objection_contact: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The public titles of the two lists, as the village's notices have always called them.
    red_list_title: Mapped[str] = mapped_column(String(10), default="光荣榜", server_default="光荣榜")
    black_list_title: Mapped[str] = mapped_column(String(10), default="臊皮榜", server_default="臊皮榜")
    # Points earned in a year can be spent until the end of the next year (DESIGN §6, issue 5).
    points_expire: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    groups: Mapped[list[Group]] = relationship(
        back_populates="village", order_by="(Group.sort_order, Group.id)"
    )
    township: Mapped[Optional[Township]] = relationship(back_populates="villages")

    @property
    def categories(self) -> list[str]:
        return [c for c in (self.category_list or "").split("、") if c]

    def __repr__(self) -> str:
        return f"<Village {self.slug}>"


class Group(db.Model):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("village_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    village: Mapped[Village] = relationship(back_populates="groups")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Raised by logout and by a password change: every cookie issued before (session and
    # remember-me alike) names the old version and stops working at its next request.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The township a township admin or viewer reaches (every village in it); None for other roles.
    township_id: Mapped[Optional[int]] = mapped_column(ForeignKey("townships.id"), index=True)

    villages: Mapped[list[Village]] = relationship(secondary=user_villages, order_by=Village.id)
    township: Mapped[Optional[Township]] = relationship()

    def get_id(self) -> str:
        """Name the user and the session version in the login cookie: ``"12:3"``."""
        return f"{self.id}:{self.session_version or 0}"

    def end_sessions(self) -> None:
        """End every session and remember-me cookie of this user, on every device."""
        self.session_version = (self.session_version or 0) + 1

    def set_password(self, password: str) -> None:
        # Tests lower the work factor through config; production keeps Werkzeug's scrypt.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of disabled users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def label(self) -> str:
        return self.display_name or self.username

    @property
    def is_township_user(self) -> bool:
        return self.role in TOWNSHIP_ROLES

    def can_access(self, village: Village) -> bool:
        """Admins see every village; township users every village of their township and no
        other; everyone else only the villages they are scoped to."""
        if self.is_admin:
            return True
        if self.is_township_user:
            return self.township_id is not None and village.township_id == self.township_id
        return any(v.id == village.id for v in self.villages)

    def has_role(self, *roles: str) -> bool:
        """Admins may do everything a narrower role may; inside its villages a township
        admin may do everything a village admin may; a township viewer only reads."""
        if self.role == "admin" or self.role in roles:
            return True
        return self.role == "township_admin" and any(r not in TOWNSHIP_ROLES for r in roles)


class ThrottleKey(db.Model):
    """One row per throttled name or address, locked while its attempts are counted, so
    that attempts made at the same moment are counted one after the other."""

    __tablename__ = "throttle_keys"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(120))


class LoginFailure(db.Model):
    """One failed attempt (a login, a resident's lookup) or one counted search; recent rows
    throttle further attempts of the same kind, and being rows they count across every worker."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="login", server_default="login", index=True)
    username: Mapped[str] = mapped_column(String(50), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class HouseholdCategory(db.Model):
    __tablename__ = "household_categories"

    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)


class Household(db.Model):
    __tablename__ = "households"
    __table_args__ = (
        UniqueConstraint("village_id", "code"),
        UniqueConstraint("village_id", "id_number"),
        Index("ix_households_village_status", "village_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    code: Mapped[str] = mapped_column(String(30))
    head_name: Mapped[str] = mapped_column(String(50))
    # Pinyin initials of the head's name ("zs" for 张三), for quick search on a phone.
    name_initials: Mapped[str] = mapped_column(String(50), default="")
    id_number: Mapped[Optional[str]] = mapped_column(String(18))
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    group_id: Mapped[Optional[int]] = mapped_column(ForeignKey("groups.id"), index=True)
    members: Mapped[int] = mapped_column(Integer, default=1)
    address: Mapped[str] = mapped_column(String(200), default="")
    joined_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")
    deactivated_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    deactivation_reason: Mapped[Optional[str]] = mapped_column(String(20))
    deactivation_note: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    village: Mapped[Village] = relationship()
    group: Mapped[Optional[Group]] = relationship()
    category_rows: Mapped[list[HouseholdCategory]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=HouseholdCategory.name
    )

    @property
    def categories(self) -> list[str]:
        """Categories in the village's display order, unknown ones last."""
        order = {name: i for i, name in enumerate(self.village.categories)}
        names = [row.name for row in self.category_rows]
        return sorted(names, key=lambda n: (order.get(n, len(order)), n))

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class HouseholdCard(db.Model):
    """A household's printed QR card (户码): the token it carries is kept only as a sha256 hash.

    A household has at most one live card (``revoked_at`` empty); issuing a new one
    revokes the old at once.
    """

    __tablename__ = "household_cards"
    __table_args__ = (
        # At most one live card per household, whatever two clerks do at once.
        Index(
            "uq_household_cards_live", "household_id", unique=True,
            sqlite_where=sa_text("revoked_at IS NULL"), postgresql_where=sa_text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    issued_by_name: Mapped[str] = mapped_column(String(50), default="")
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    household: Mapped[Household] = relationship()


class AuditEntry(db.Model):
    """Who changed what and when, with the before and after as JSON text.

    The user, village and household ids carry no foreign keys (migration 0015): the log
    records what the code just did with rows it had read, and nothing is ever deleted,
    so the keys refused nothing and cost PostgreSQL a lookup and a row lock per row logged.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(50))
    village_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    # The household a change concerns, so its history survives a change of code or name.
    household_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(50), index=True)
    target: Mapped[str] = mapped_column(String(100), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[Optional[str]] = mapped_column(Text)
    after: Mapped[Optional[str]] = mapped_column(Text)

    village: Mapped[Optional[Village]] = relationship(primaryjoin="foreign(AuditEntry.village_id) == Village.id")


RULE_KINDS = {"plus": "加分", "minus": "扣分"}
ENTRY_STATUSES = {
    "pending": "待审核", "approved": "已通过", "rejected": "已驳回", "withdrawn": "已撤回",
    # A household's own application (积分申请) before a clerk has checked it, and one declined.
    "applied": "申请待核实", "declined": "申请未通过",
}
QUARTER_STATUSES = {"open": "未公示", "published": "公示中", "closed": "已结束"}


class Rule(db.Model):
    """A plus or minus situation in the village's rulebook (积分细则).

    Points are signed: a plus rule's range is positive, a minus rule's negative.
    """

    __tablename__ = "rules"
    __table_args__ = (UniqueConstraint("village_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    default_points: Mapped[int] = mapped_column(Integer)
    min_points: Mapped[int] = mapped_column(Integer)
    max_points: Mapped[int] = mapped_column(Integer)
    # Largest net points one household may get from this rule in one quarter (absolute).
    quarter_cap: Mapped[Optional[int]] = mapped_column(Integer)
    black_list_trigger: Mapped[bool] = mapped_column(Boolean, default=False)
    requires_evidence: Mapped[bool] = mapped_column(Boolean, default=False)
    # Households may apply for this (plus) rule from their own card page (积分申请).
    open_to_applications: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    village: Mapped[Village] = relationship()

    @property
    def is_plus(self) -> bool:
        return self.kind == "plus"


class QuarterState(db.Model):
    """Where a village's quarter stands: open, published (notice period) or closed."""

    __tablename__ = "quarter_states"
    __table_args__ = (UniqueConstraint("village_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(20), default="open")
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Entry(db.Model):
    """One award or deduction to one household on one date (积分记录).

    ``points``, ``rule_code`` and ``rule_title`` are copies taken when the entry is
    made, so editing a rule later never changes history. A reversal (冲正) is an
    entry with ``reverses_id`` set, dated on the original's date, with opposite points.
    """

    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_village_date", "village_id", "entry_date"),
        Index("ix_entries_household_date", "household_id", "entry_date"),
        # Serves the review queue and "pending entries in this quarter" before publishing.
        Index("ix_entries_village_status_date", "village_id", "status", "entry_date"),
        # Serves "who has entered points here" (the clerk filter) from the index alone.
        Index("ix_entries_village_creator", "village_id", "created_by_id"),
        # Nearly every entry has none of these three: their indexes hold only the rows that do.
        *(
            Index(f"ix_entries_{column}", column, sqlite_where=sa_text(f"{column} IS NOT NULL"),
                  postgresql_where=sa_text(f"{column} IS NOT NULL"))
            for column in ("reverses_id", "resubmits_id", "submit_token")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    rule_id: Mapped[Optional[int]] = mapped_column(ForeignKey("rules.id"), index=True)
    rule_code: Mapped[str] = mapped_column(String(20))
    rule_title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[int] = mapped_column(Integer)
    entry_date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    source: Mapped[str] = mapped_column(String(20), default="web")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    reviewed_by_name: Mapped[str] = mapped_column(String(50), default="")
    reviewed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    review_note: Mapped[str] = mapped_column(Text, default="")
    reverses_id: Mapped[Optional[int]] = mapped_column(ForeignKey("entries.id"))
    # The entry form's one-time token: a resubmitted form (a double tap, a retry after a
    # lost reply) finds the entries it already made instead of making them again.
    submit_token: Mapped[Optional[str]] = mapped_column(String(64))
    # Counts every change to the row (SQLAlchemy's version counter): a review form carries the
    # version it showed, so an entry changed since the page was opened is refused, not approved.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The rejected entry this one corrects (改正后重新提交); the rejected one then leaves
    # its clerk's "被驳回" count.
    resubmits_id: Mapped[Optional[int]] = mapped_column(ForeignKey("entries.id"))
    # When its clerk chose 不再提交 for a rejected entry: it then leaves the "被驳回" count.
    dismissed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    household: Mapped[Household] = relationship()
    rule: Mapped[Optional[Rule]] = relationship()
    reverses: Mapped[Optional["Entry"]] = relationship(remote_side="Entry.id", foreign_keys=[reverses_id])

    __mapper_args__ = {"version_id_col": version}
    photos: Mapped[list["EntryPhoto"]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="EntryPhoto.id"
    )

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None


class QuarterPoints(db.Model):
    """A household's approved points in one quarter, kept current by the database (季度积分累计).

    Triggers on ``entries`` (migration 0013) add an entry's points here when it is written
    approved or becomes approved, and take them out when it stops being approved, in the
    same transaction as the entry itself: a live tally reads a few thousand of these rows
    instead of every entry of the quarter. ``quarter_points.drift`` compares them with a
    recomputation from the entries. ``entries`` counts the approved entries (reversals
    included), so a household with one is "participating".
    """

    __tablename__ = "quarter_points"
    __table_args__ = (Index("ix_quarter_points_village_quarter", "village_id", "year", "quarter"),)

    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    plus: Mapped[int] = mapped_column(Integer, default=0)
    minus: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)


class QuarterRulePoints(db.Model):
    """A village's approved points under one rule in one quarter, kept as QuarterPoints is.

    The rule is named by the code and title its entries recorded, as the entries list it.
    """

    __tablename__ = "quarter_rule_points"

    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rule_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    rule_title: Mapped[str] = mapped_column(String(200), primary_key=True)
    plus: Mapped[int] = mapped_column(Integer, default=0)
    minus: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)


class EntryPhoto(db.Model):
    """A photo taken as evidence for an entry, stored under instance/evidence/.

    One file may serve many entries: a bulk entry stores each photo once and gives every
    household's entry its own row naming the same ``stored_name``.
    """

    __tablename__ = "entry_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), index=True)
    original_name: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)

    entry: Mapped[Entry] = relationship(back_populates="photos")


class Honour(db.Model):
    """A title a household received (荣誉 / 表彰), read by the red list."""

    __tablename__ = "honours"
    __table_args__ = (Index("ix_honours_village_date", "village_id", "awarded_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    awarded_on: Mapped[dt.date] = mapped_column(Date)
    granted_by: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    household: Mapped[Household] = relationship()


class AidSuspension(db.Model):
    """A period in which a poor household's aid is suspended (歇帮), read by the black list."""

    __tablename__ = "aid_suspensions"
    __table_args__ = (Index("ix_aid_suspensions_village_start", "village_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    household: Mapped[Household] = relationship()


BLACK_NAMING = {"full": "显示全名", "masked": "只显示姓（张*）", "group": "只显示小组"}
OBJECTION_STATUSES = {"open": "待答复", "upheld": "成立", "dismissed": "不成立"}


class Publication(db.Model):
    """A frozen snapshot of a quarter's tally and lists (公示), one row per version.

    ``snapshot`` is JSON text holding the tally rows and both lists exactly as
    published; every number shown for a published quarter is read from it.
    """

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("village_id", "quarter", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="current")
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_by_name: Mapped[str] = mapped_column(String(50), default="")
    notice_starts_on: Mapped[dt.date] = mapped_column(Date)
    notice_ends_on: Mapped[dt.date] = mapped_column(Date)
    contact: Mapped[str] = mapped_column(String(200), default="")
    snapshot: Mapped[str] = mapped_column(Text)
    superseded_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    superseded_reason: Mapped[str] = mapped_column(Text, default="")

    village: Mapped[Village] = relationship()


class Objection(db.Model):
    """A resident's challenge to a published quarter (异议) and its answer."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    raised_by: Mapped[str] = mapped_column(String(50))
    raised_on: Mapped[dt.date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text)
    recorded_by_name: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_name: Mapped[str] = mapped_column(String(50), default="")
    answered_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    correcting_entry_id: Mapped[Optional[int]] = mapped_column(ForeignKey("entries.id"))

    publication: Mapped[Publication] = relationship()
    household: Mapped[Household] = relationship()
    correcting_entry: Mapped[Optional[Entry]] = relationship()


class StarBand(db.Model):
    """A score band that earns a star rating (星级农户) in one village and year."""

    __tablename__ = "star_bands"
    __table_args__ = (UniqueConstraint("village_id", "year", "stars"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    stars: Mapped[int] = mapped_column(Integer)
    min_score: Mapped[int] = mapped_column(Integer)


STOCK_KINDS = {"in": "入库", "redeem": "兑换", "void": "作废退回", "adjust": "盘点调整"}
STOCK_SOURCES = {"purchase": "采购", "donation": "捐赠"}


class Item(db.Model):
    """Something the points store gives out (商品), priced in points.

    ``stock`` is the sum of the item's stock movements, kept on the row so a
    redemption can lock and check it; the store module changes both together.
    """

    __tablename__ = "store_items"
    __table_args__ = (
        UniqueConstraint("village_id", "name"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(10))
    price: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(50), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class StockMovement(db.Model):
    """One change to an item's stock: stock-in, redemption, void or stocktake adjustment.

    ``quantity`` is signed (stock-in and void > 0, redemption < 0, adjustment either
    way) and ``stock_after`` is the stock it left, so an item's history reads like a
    bank statement.
    """

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_item_id_id", "item_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("store_items.id"))
    kind: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int] = mapped_column(Integer)
    stock_after: Mapped[int] = mapped_column(Integer)
    moved_on: Mapped[dt.date] = mapped_column(Date)
    # Stock-in: purchase or donation, and from whom.
    source: Mapped[str] = mapped_column(String(20), default="")
    supplier: Mapped[str] = mapped_column(String(100), default="")
    # Stocktake: the quantity counted on the shelf.
    counted: Mapped[Optional[int]] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    redemption_id: Mapped[Optional[int]] = mapped_column(ForeignKey("redemptions.id"), index=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    item: Mapped[Item] = relationship()
    redemption: Mapped[Optional["Redemption"]] = relationship()


class ReceiptCounter(db.Model):
    """The last receipt number handed out in a village and year; locked while a number is taken."""

    __tablename__ = "store_receipt_counters"

    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Redemption(db.Model):
    """One visit at the store (兑换): items out, points spent, a receipt.

    ``total_points`` and ``item_count`` sum the lines; a void keeps the row and
    marks ``voided_at``. ``token`` is the counter form's idempotency token.
    """

    __tablename__ = "redemptions"
    __table_args__ = (
        UniqueConstraint("village_id", "receipt_no"),
        Index("ix_redemptions_village_date", "village_id", "redeemed_on"),
        Index("ix_redemptions_household_date", "household_id", "redeemed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    receipt_no: Mapped[str] = mapped_column(String(20))
    token: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    redeemed_on: Mapped[dt.date] = mapped_column(Date)
    total_points: Mapped[int] = mapped_column(Integer)
    item_count: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    voided_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    voided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    voided_by_name: Mapped[str] = mapped_column(String(50), default="")
    void_reason: Mapped[str] = mapped_column(Text, default="")

    household: Mapped[Household] = relationship()
    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])
    lines: Mapped[list["RedemptionLine"]] = relationship(
        back_populates="redemption", cascade="all, delete-orphan", order_by="RedemptionLine.id"
    )

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class RedemptionLine(db.Model):
    """One item on a redemption, with the name, unit and price it had at the time."""

    __tablename__ = "redemption_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("store_items.id"), index=True)
    item_name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(10))
    price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)

    redemption: Mapped[Redemption] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()


class PointsExpiry(db.Model):
    """Points of one year left unspent at the end of the next year, written off (积分过期).

    Counted against the balance like a redemption; ``points`` is positive.
    """

    __tablename__ = "points_expiries"
    __table_args__ = (Index("ix_points_expiries_household_year", "household_id", "points_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    points_year: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    expired_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    household: Mapped[Household] = relationship()


class ImportClaim(db.Model):
    """A confirmed upload, applied once (导入确认).

    The row is inserted in the same transaction as the import it claims, keyed by the
    upload's token: a second confirm of the same file (a double click, five tabs) waits
    on the unique token, fails to claim it and shows this import's ``outcome`` instead.
    """

    __tablename__ = "import_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[Optional[dict]] = mapped_column(JSON)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
