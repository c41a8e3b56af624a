"""Moving an instance's data from one store to another (``ocop-stamps db copy``), table by table.

Rows are copied as they are (ids, counts, generations), in chunks, each table
after those it refers to; rows already in the target (by primary key) are
skipped, so a copy interrupted half-way is finished by running it again.
"""

from __future__ import annotations

from typing import NamedTuple

from stamps.errors import StoreError
from stamps.store.interface import TABLES, Store


class TableCopy(NamedTuple):
    """One table's copy: rows in the source, rows added to the target now, rows in the target afterwards."""

    table: str
    source_rows: int
    copied: int
    target_rows: int


def copy_tables(source: Store, target: Store) -> list[TableCopy]:
    """Copy every table of *source* into *target*; a StoreError if the target then holds fewer rows of a table."""
    report = []
    for table in TABLES:
        columns = [column for column in source.table_columns(table) if column in set(target.table_columns(table))]
        copied = sum(target.load_rows(table, columns, chunk) for chunk in source.read_table(table, columns))
        report.append(TableCopy(table, source.table_count(table), copied, target.table_count(table)))
    short = [f"{row.table} ({row.target_rows:,} of {row.source_rows:,})" for row in report if row.target_rows < row.source_rows]
    if short:
        raise StoreError(f"The copy is incomplete: {', '.join(short)}.", hint="Run the same command again.")
    return report
