"""Moving an instance's data from one store to another (``ocop-stamps db copy``), table by table.

Rows are copied as they are (ids, counts), in chunks, each table after those it
refers to. A copy goes only into an empty database or into the copy of this
same instance (both carry its ``instance_id`` setting): merging two instances
by id would mix their records. Running it again finishes an interrupted copy
and brings over what changed since: rows already there are skipped, except in
the tables whose rows change (records edited, keys retired or revoked, ranges
written), where they are brought up to date. Per-unit scan counts already in
the target stay as they are: once a verifier serves the copy, its counts are
the newer ones.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

from stamps.errors import StoreError
from stamps.store.interface import CHANGING_TABLES, TABLES, Store

INSTANCE_ID = "instance_id"
KEPT_BY_THE_TARGET = {"settings": ("name", {"trust_generation"})}  # made by the target's own triggers, as keys arrive


class TableCopy(NamedTuple):
    """One table's copy: rows in the source, rows added or brought up to date now, rows in the target afterwards."""

    table: str
    source_rows: int
    copied: int
    target_rows: int


def copy_tables(source: Store, target: Store) -> list[TableCopy]:
    """Copy every table of *source* into *target*; a StoreError if the target holds another instance's data, or
    fewer rows of a table than the source afterwards."""
    _check_same_instance(source, target)
    copied = {table: _copy_table(source, target, table) for table in TABLES}
    report = [TableCopy(table, source.table_count(table), copied[table], target.table_count(table)) for table in TABLES]
    short = [f"{row.table} ({row.target_rows:,} of {row.source_rows:,})" for row in report if row.target_rows < row.source_rows]
    if short:
        raise StoreError(f"The copy is incomplete: {', '.join(short)}.", hint="Run the same command again.")
    return report


def _copy_table(source: Store, target: Store, table: str) -> int:
    """Copy one table's rows, in chunks; returns how many were added or brought up to date."""
    columns = [column for column in source.table_columns(table) if column in set(target.table_columns(table))]
    chunks = (_without_target_rows(table, columns, chunk) for chunk in source.read_table(table, columns))
    return sum(target.load_rows(table, columns, chunk, replace=table in CHANGING_TABLES) for chunk in chunks)


def _without_target_rows(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of a chunk the target keeps itself left out (the trust generation: copying the source's would move it
    back and forth at every run)."""
    if table not in KEPT_BY_THE_TARGET:
        return rows
    column, values = KEPT_BY_THE_TARGET[table]
    at = columns.index(column)
    return [row for row in rows if row[at] not in values]


def _check_same_instance(source: Store, target: Store) -> None:
    """Refuse a target that holds data of another instance (or of an instance made there with init)."""
    identity = source.setting(INSTANCE_ID)
    if identity is None:
        identity = uuid.uuid4().hex
        source.set_setting(INSTANCE_ID, identity)
    if target.setting(INSTANCE_ID) == identity:
        return
    held = [f"{count:,} {table}" for table in TABLES if (count := target.table_count(table))]
    if held:
        raise StoreError(f"The database at {target.location} already holds another instance's data "
                         f"({', '.join(held[:4])}); nothing was copied.",
                         hint="Copy into an empty database, or a schema of its own (options=-csearch_path=... in the URL).")
