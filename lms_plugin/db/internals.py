"""Every use of peewee's private names, in one place, pinned by a contract test.

Prepared queries (``prepared.py``) and the PostgreSQL pool (``engines.py``) reach
below peewee's public API in a few places: where a compiled query keeps its values,
how a select's joins are recorded, how a model instance holds its data, and the
pool's hooks for handing out and taking back a connection. Each is named here once,
as a small function or the :class:`PoolHooks` mixin, and nowhere else in the tool.
``tests/test_peewee_contract.py`` checks every one against the installed peewee and
fails loudly when an upgrade moves them; ``pyproject.toml`` pins peewee to the
releases that test has passed on.
"""

from typing import NamedTuple

import peewee
from peewee import JOIN
from peewee import ROW
from peewee import ModelInsert
from peewee import ModelSelect

#: Peewee releases the contract test passed on (``pyproject.toml`` pins the same).
TESTED = ((4, 5, 0), (4, 6, 0))  # at least, below


def add_value(ctx, value) -> str:
    """Record ``value`` among the compiling query's values; its placeholder."""
    ctx._values.append(value)
    return ctx.literal(ctx.state.param or "?")


def value_converter(ctx):
    """The conversion peewee applies to a literal at this point of the query."""
    return ctx.state.converter


class Join(NamedTuple):
    """One join of a model select: ``dest`` joined onto ``source`` as ``attr``."""

    source: type
    dest: object  # a model, or a model alias
    attr: str
    constructor: type
    outer: bool  # LEFT OUTER (else INNER, or something else when ``kind`` says)
    kind: str


class Shape(NamedTuple):
    """What a prepared query's row reader needs to know of the query."""

    model: type | None
    model_rows: bool  # rows come back as model instances
    insert: bool
    select: bool
    loads_related: bool  # with_related(): peewee fetches the related rows itself
    returning: tuple
    joins: tuple[Join, ...]


def shape_of(query) -> Shape:
    """The model, row type, selected columns and joins of ``query``."""
    joins = tuple(
        Join(source, dest, attr, constructor, join_type == JOIN.LEFT_OUTER, join_type)
        for source, edges in getattr(query, "_joins", {}).items()
        for dest, attr, constructor, join_type in edges
    )
    return Shape(
        model=getattr(query, "model", None),
        model_rows=query._row_type in (None, ROW.MODEL),
        insert=isinstance(query, ModelInsert),
        select=isinstance(query, ModelSelect),
        loads_related=bool(getattr(query, "_load_tree", None)),
        returning=tuple(query._returning or ()),
        joins=joins,
    )


def plain_join(join: Join) -> bool:
    """An INNER or LEFT OUTER join (the kinds a prepared row reader reads)."""
    return join.outer or join.kind == JOIN.INNER


def peewee_rows(query, cursor) -> list:
    """Rows of ``cursor`` read by peewee's own reader for ``query``."""
    return list(query._get_cursor_wrapper(cursor))


def alias_name(node) -> str:
    """The name an ``.alias()`` gives its expression."""
    return node._alias


def blank(model):
    """A ``model`` instance with no data, as peewee makes one from a row."""
    instance = model.__new__(model)
    instance.__data__, instance._dirty, instance.__rel__ = {}, set(), {}
    return instance


def filled(model, data: dict):
    """A ``model`` instance holding ``data`` (column values, already converted)."""
    instance = model.__new__(model)
    instance.__data__, instance._dirty, instance.__rel__ = data, set(), {}
    return instance


def data_of(instance) -> dict:
    """The field values an instance holds (peewee's ``__data__``)."""
    return instance.__data__


def mark_clean(instance) -> None:
    """Nothing of ``instance`` is pending a save."""
    instance._dirty.clear()


#: Conversions that give back what SQLite and PostgreSQL drivers already return
#: (``int`` for integer columns, ``str`` for text).
AS_GIVEN = frozenset({peewee.IntegerField.adapt, peewee._StringField.adapt})


class PoolHooks:
    """Mixin for a peewee pooled database: hooks where it hands out and takes back.

    ``trusted(conn)``: True to hand out a pooled connection without peewee's
    liveness check; ``returned(conn)``: called as a connection goes back to the
    pool; ``checked_out()``: called once a connection is checked out for a thread.
    """

    def trusted(self, conn) -> bool:
        return False

    def returned(self, conn) -> None:
        pass

    def checked_out(self) -> None:
        pass

    def _is_closed(self, conn) -> bool:
        return False if self.trusted(conn) else super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        if not close_conn:  # before the pool can hand it out again
            self.returned(conn)
        super()._close(conn, close_conn)

    def _initialize_connection(self, conn):
        super()._initialize_connection(conn)
        self.checked_out()


def idle_in_transaction_status(database, conn) -> tuple[bool, bool]:
    """(idle, unknown) of ``conn``'s transaction status, from the driver adapter."""
    adapter = database._adapter
    status = adapter.txn_status(conn)
    return status == adapter.txn_idle, status == adapter.txn_unknown


def current_connection(database):
    """The connection this thread holds (even one the driver reports closed)."""
    return database._state.conn


def take_transaction_stack(database) -> tuple:
    """This thread's connection contexts and transactions; emptied for a new one."""
    state = database._state
    kept = state.ctx, state.transactions, state.commit_callbacks
    state.transactions = []  # none begun on the new connection yet
    return kept


def restore_transaction_stack(database, kept: tuple) -> None:
    """Put back what :func:`take_transaction_stack` took."""
    state = database._state
    state.ctx, state.transactions, state.commit_callbacks = kept
