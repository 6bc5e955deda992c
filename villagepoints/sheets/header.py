"""Finding the header row of a sheet and which column holds which field."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional, Sequence

from .cells import clean_value, compact, header_key
from .formats import RawRow

# How many non-blank rows at the top may hold titles before the header row.
HEADER_SCAN_ROWS = 10


@dataclass
class Header:
    """A sheet's header row: where each field is, its text as written, and the columns left unused."""

    row: int
    positions: dict[str, int]
    # field -> the header text as written in the sheet, for messages
    columns: dict[str, str]
    # Headers of columns that hold no field, as written, in sheet order.
    unused: list[str]


class HeaderFinder:
    """Find the header among a sheet's first non-blank rows by the names its columns go by.

    ``aliases`` maps each field to the header names it may appear under. The header is
    the row that names the most fields and includes every ``required`` field.
    """

    def __init__(self, aliases: Mapping[str, Sequence[str]], required: Sequence[str] = ()) -> None:
        self.aliases = aliases
        self.required = tuple(required)
        self._lookup = {header_key(alias): name for name, names in aliases.items() for alias in names}

    def find(self, rows: Iterator[RawRow]) -> tuple[Optional[Header], list[RawRow]]:
        """Read rows until the header is settled; return it (or None) and the rows read after it."""
        scanned: list[RawRow] = []
        best: Optional[tuple[int, dict[str, int]]] = None
        for number, own, values in rows:
            own = [clean_value(v) for v in own]
            if not any(v is not None for v in own):
                continue
            values = [clean_value(v) for v in values]
            scanned.append((number, own, values))
            positions = self.match(values)
            if all(name in positions for name in self.required):
                if best is None or len(positions) > len(best[1]):
                    best = (number, positions)
            if len(scanned) >= HEADER_SCAN_ROWS:
                break
        if best is None:
            return None, []
        header_row, positions = best
        header_values = next(values for number, _own, values in scanned if number == header_row)
        used = set(positions.values())
        used_texts = {header_key(header_values[i]) for i in used}
        # A header merged across columns repeats in each of them; only other texts are unused.
        unused = [
            compact(str(value)) for index, value in enumerate(header_values)
            if value is not None and index not in used and header_key(value) not in used_texts
        ]
        return (
            Header(
                row=header_row,
                positions=positions,
                columns={name: compact(str(header_values[i])) for name, i in positions.items()},
                unused=list(dict.fromkeys(unused)),
            ),
            [raw for raw in scanned if raw[0] > header_row],  # already clean: cleaning twice is harmless
        )

    def match(self, values: list[Any]) -> dict[str, int]:
        """Return field -> column index for the cells of one row that are known header names."""
        columns: dict[str, int] = {}
        for index, value in enumerate(values):
            if not isinstance(value, str):
                continue
            name = self._lookup.get(header_key(value))
            if name is not None and name not in columns:
                columns[name] = index
        return columns

    def wanted(self) -> str:
        """Describe the required headers for a refusal: “户主姓名”（或 户主/姓名…）."""
        parts = []
        for name in self.required:
            names = self.aliases[name]
            parts.append(f"“{names[0]}”（或 {'/'.join(names[1:])}）" if len(names) > 1 else f"“{names[0]}”")
        return "、".join(parts)
