"""The contract with peewee's private internals (``lms_plugin/db/internals.py``).

Each accessor there reaches below peewee's public API; each is checked here against
the installed peewee, standalone (an in-memory SQLite database of its own, plus the
PostgreSQL test server for the pool's driver status), so a peewee upgrade that
moves one fails here, by name, before a page or a launch misbehaves.
``pyproject.toml`` pins peewee to the releases in ``internals.TESTED``.
"""

import inspect
import re
from pathlib import Path

import peewee
import pytest
from peewee import JOIN
from peewee import CharField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import SqliteDatabase
from peewee import TextField
from playhouse.pool import PooledDatabase
from playhouse.pool import PooledSqliteDatabase

from lms_plugin.db import internals

ROOT = Path(__file__).resolve().parents[1]
scratch = SqliteDatabase(":memory:")


class Author(Model):
    name = CharField()

    class Meta:
        database = scratch


class Book(Model):
    author = ForeignKeyField(Author)
    editor = ForeignKeyField(Author, null=True)
    title = TextField()
    pages = IntegerField(default=0)

    class Meta:
        database = scratch


@pytest.fixture()
def books():
    with scratch.bind_ctx([Author, Book]):
        scratch.connect(reuse_if_open=True)
        scratch.create_tables([Author, Book])
        ada = Author.create(name="Ada")
        Book.create(author=ada, title="Notes", pages=12)
        yield ada
        scratch.drop_tables([Author, Book])
        scratch.close()


def _version(text: str) -> tuple:
    numbers = [int(part) for part in re.findall(r"\d+", text)[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))


def test_the_installed_peewee_is_a_tested_release_and_the_pin_says_so():
    low, high = internals.TESTED
    assert low <= _version(peewee.__version__) < high
    pin = re.search(
        r'"peewee>=([\d.]+),<([\d.]+)"', (ROOT / "pyproject.toml").read_text()
    )
    assert pin, "pyproject.toml pins peewee to a range"
    assert (_version(pin[1]), _version(pin[2])) == (low, high)


class _Slot:
    def __init__(self, converter):
        self.converter = converter


class _Open(peewee.ColumnBase):
    """A value slot compiled through add_value, as Param does."""

    def __sql__(self, ctx):
        return internals.add_value(ctx, _Slot(internals.value_converter(ctx)))


def test_a_compiled_query_keeps_added_values_in_order_with_the_field_conversion():
    query = Book.select(Book.id).where((Book.author == _Open()) & (Book.pages > 3))
    sql, values = query.sql()
    assert sql.count("?") == 2
    slot, literal = values
    assert isinstance(slot, _Slot) and literal == 3
    # The conversion peewee applies there: a foreign key takes a model or an id.
    assert slot.converter(Author(id=7, name="x")) == 7


def test_shape_of_names_model_rows_joins_and_columns(books):
    editor = Author.alias()
    select = (
        Book.select(Book, Author)
        .join(Author, on=Book.author == Author.id)
        .switch(Book)
        .join(editor, JOIN.LEFT_OUTER, on=Book.editor == editor.id)
    )
    shape = internals.shape_of(select)
    assert shape.model is Book and shape.select and not shape.insert
    assert shape.model_rows and not shape.loads_related
    assert shape.returning[0] is Book.id and shape.returning[1] is Book.author
    inner, outer = shape.joins
    assert (inner.source, inner.dest, inner.constructor) == (Book, Author, Author)
    assert not inner.outer and internals.plain_join(inner)
    assert outer.outer and outer.dest is editor and outer.dest is not outer.constructor
    full = Book.select().join(Author, JOIN.FULL, on=Book.author == Author.id)
    assert not internals.plain_join(internals.shape_of(full).joins[0])
    assert not internals.shape_of(Book.select().dicts()).model_rows
    assert internals.shape_of(Book.select().with_related(Book.author)).loads_related
    insert = internals.shape_of(Book.insert(title="x", author=1).returning(Book))
    assert insert.insert and insert.returning[0] is Book.id


def test_peewee_rows_and_alias_names(books):
    query = Book.select(Book.title, Book.pages.alias("length"))
    cursor = scratch.execute(query)
    (row,) = internals.peewee_rows(query, cursor)
    assert (row.title, row.length) == ("Notes", 12)
    assert internals.alias_name(query._returning[1]) == "length"


def test_instances_made_from_data_read_and_save_like_peewee_rows(books):
    book = internals.filled(
        Book, {"id": 1, "author": books.id, "title": "Notes", "pages": 12}
    )
    assert (book.title, book.author.name) == ("Notes", "Ada")
    assert internals.data_of(book)["pages"] == 12 and not book.dirty_fields
    blank = internals.blank(Author)
    internals.data_of(blank).update(id=books.id, name="Ada")
    assert blank.name == "Ada" and not blank.dirty_fields
    blank.name = "Ada L."
    assert blank.dirty_fields
    internals.mark_clean(blank)
    assert not blank.dirty_fields


def test_as_given_conversions_are_the_integer_and_text_fields():
    assert IntegerField.adapt in internals.AS_GIVEN
    assert (
        CharField.adapt in internals.AS_GIVEN and TextField.adapt in internals.AS_GIVEN
    )
    assert peewee.FloatField.adapt not in internals.AS_GIVEN


def test_the_pool_hooks_override_methods_peewee_still_calls(tmp_path):
    for method, parameters in (
        (PooledDatabase._is_closed, ["self", "conn"]),
        (PooledDatabase._close, ["self", "conn", "close_conn"]),
        (peewee.Database._initialize_connection, ["self", "conn"]),
    ):
        assert list(inspect.signature(method).parameters) == parameters, method

    calls = []

    class Hooked(internals.PoolHooks, PooledSqliteDatabase):
        def trusted(self, conn):
            calls.append("trusted")
            return True

        def returned(self, conn):
            calls.append("returned")

        def checked_out(self):
            calls.append("checked_out")

    pool = Hooked(str(tmp_path / "pool.db"), max_connections=2)
    pool.connect()
    first = internals.current_connection(pool)
    pool.close()
    pool.connect()
    assert internals.current_connection(pool) is first  # the pooled one, reused
    assert calls == ["checked_out", "returned", "trusted", "checked_out"]
    pool.close()
    pool.close_all()


def test_the_transaction_stack_survives_a_new_connection(tmp_path):
    pool = PooledSqliteDatabase(str(tmp_path / "stack.db"), max_connections=2)
    with pool.connection_context():
        with pool.atomic():
            kept = internals.take_transaction_stack(pool)
            assert kept[1], "the open transaction is on the stack"
            assert pool.transaction_depth() == 0
            internals.restore_transaction_stack(pool, kept)
            assert pool.transaction_depth() == 1
    pool.close_all()


def test_the_driver_reports_a_postgres_connections_transaction_status(app):
    from lms_plugin.db import database

    if not isinstance(database.obj, peewee.PostgresqlDatabase):
        pytest.skip("PostgreSQL's driver status")
    with database.connection_context():
        conn = internals.current_connection(database.obj)
        assert internals.idle_in_transaction_status(database.obj, conn) == (True, False)
        with database.atomic():
            database.execute_sql("SELECT 1")
            idle, unknown = internals.idle_in_transaction_status(database.obj, conn)
            assert not idle and not unknown
