"""Who may open what: login, roles and village scoping for views."""
from __future__ import annotations

import functools
from typing import Callable

from flask import abort, current_app, g, request, url_for
from flask_login import current_user, login_required

from .. import households, sqlite_tuning, townships, villages
from ..personal_data import sees_in_full
from ..extensions import db
from ..models import Household, Township, Village


def village_for_user(slug: str) -> Village:
    """Load the village named in the URL, refusing villages outside the user's scope."""
    village = villages.get_by_slug(slug)
    if village is None:
        abort(404)
    if not current_user.can_access(village):
        abort(403)
    return village


def township_for_user(slug: str) -> Township:
    """Load the township named in the URL: admins reach every one, township users only their own."""
    township = townships.get_by_slug(slug)
    if township is None:
        abort(404)
    if not (current_user.is_admin or (current_user.is_township_user and current_user.township_id == township.id)):
        abort(403)
    return township


def household_or_404(village: Village, code: str) -> Household:
    """Load the village's household with this code, or answer 404."""
    household = households.get_household(village, code)
    if household is None:
        abort(404)
    return household


def village_view(*roles: str) -> Callable:
    """Require login, access to the URL's village and (if given) one of the roles.

    The village is passed to the view as ``village`` in place of ``slug``.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(slug: str, **kwargs):
            village = village_for_user(slug)
            if roles and not current_user.has_role(*roles):
                abort(403)
            g.village = village
            return view(village=village, **kwargs)

        return wrapped

    return decorator


def role_required(*roles: str) -> Callable:
    """Require login and one of the roles (admins always pass).

    These pages span villages (all users, new villages, the whole audit log), so a
    township admin passes only where it is named: its village powers stop at its villages.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(**kwargs):
            if not (current_user.is_admin or current_user.role in roles):
                abort(403)
            return view(**kwargs)

        return wrapped

    return decorator


def personal_search(village: Village, q: str) -> bool:
    """Count (and for whoever sees personal data in full, audit) a search that will look at ID numbers or phones.

    Returns whether the search may match full-data fragments (personal_data.sees_in_full:
    admins, and township admins in their township). Raises households.SearchThrottled when
    the user has searched by digits too often.
    """
    full_data = sees_in_full(current_user, village)
    if households.searches_personal_data(q, full_data=full_data):
        with sqlite_tuning.write_apart(db.session):
            households.record_search(
                current_user, village, q, full_data=full_data, remote_addr=request.remote_addr or "",
                limit=current_app.config["SEARCH_MAX_PER_WINDOW"],
                window_minutes=current_app.config["SEARCH_WINDOW_MINUTES"],
            )
    return full_data


# Where each role starts its day in a village: the page its work is on.
LANDING = {"reviewer": "review.index", "storekeeper": "store.index"}


def landing_url(user, village: Village) -> str:
    """Return the page a user lands on in a village: 审核, 积分超市, or the register (clerks and others)."""
    return url_for(LANDING.get(user.role, "households.index"), slug=village.slug)
