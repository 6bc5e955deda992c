"""Helpers shared by the CLI commands."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

import click

from .. import villages
from ..extensions import db
from ..models import Village
from ..text import clean_text


class CleanText(click.ParamType):
    """Text typed on the command line, with control characters dropped as the web forms drop them."""

    name = "text"

    def convert(self, value, param, ctx):  # noqa: ANN001
        return clean_text(str(value)) if value is not None else None


TEXT = CleanText()


def village_or_fail(slug: str) -> Village:
    """Return the village with this slug or stop with a message in Chinese."""
    village = villages.get_by_slug(slug)
    if village is None:
        raise click.ClickException(f"找不到村代码为“{slug}”的村，可用 add-village 先添加")
    return village


@contextmanager
def one_transaction() -> Iterator[None]:
    """Commit once at the end, or roll back everything on any error."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def read_password(prompt: str = "密码") -> str:
    """Read a password: hidden prompt on a terminal, one line of stdin otherwise."""
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")
