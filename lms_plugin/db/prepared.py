"""Prepared queries: SQL built once per database, run with new values each time.

:class:`Prepared` wraps a function that builds a peewee query with :class:`Param`
slots; its SQL is compiled on first use and kept, and its rows are read by a
:class:`_RowReader` planned once for the query's shape (model instances with
their joined models attached, as peewee would give them). :class:`_Upsert` is the
prepared statement behind ``BaseModel.upsert``. What this needs of peewee's
private internals it takes from ``internals.py`` only.
"""

import weakref
from collections.abc import Callable
from typing import NamedTuple

import peewee
from peewee import EXCLUDED
from peewee import Alias
from peewee import ColumnBase
from peewee import Field
from peewee import Model

from lms_plugin.db import internals
from lms_plugin.db.engines import database


class _Slot(NamedTuple):
    """Where a :class:`Param` sits among a built query's values."""

    name: str
    convert: Callable | None  # a field's db_value, as peewee would apply it


class Param(ColumnBase):
    """A named value left open in a :class:`Prepared` query: ``User.id == Param("id")``.

    The value given at run time goes through the field conversion peewee would
    apply to a literal there: the compared field's in a condition (so a model
    instance for a foreign key works), or ``field``'s when given (insert values).
    """

    def __init__(self, name: str, field: Field | None = None):
        super().__init__()
        self.name = name
        self.field = field

    def __sql__(self, ctx):
        if self.field is not None:
            convert = self.field.db_value
        else:
            convert = internals.value_converter(ctx)
        return internals.add_value(ctx, _Slot(self.name, convert))


class Prepared:
    """A query whose SQL is built once per database, then run with new values.

    Peewee builds a query's SQL by walking its expression tree, which on the
    hot paths cost far more than running the SQL. Give (or decorate) a function
    that returns the query (with :class:`Param` for what varies); call :meth:`rows` or
    :meth:`first` with the values (rows come back as the query would give them,
    joined models attached), or :meth:`execute` for a write's row count.
    """

    def __init__(self, build: Callable):
        self._build = build
        self._built: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.__doc__ = build.__doc__
        self.__name__ = getattr(build, "__name__", "prepared")

    def _query(self):
        target = database.obj
        built = self._built.get(target)
        if built is None:
            query = self._build()
            sql, values = query.sql()
            built = (query, sql, tuple(values), _RowReader.for_query(query))
            self._built[target] = built
        return built

    def _run(self, params: dict):
        query, sql, values, reader = self._query()
        bound = [_bind(value, params) for value in values]
        return query, reader, database.execute_sql(sql, bound)

    def rows(self, **params) -> list:
        """Every row, for these values of the query's :class:`Param` slots."""
        query, reader, cursor = self._run(params)
        if reader is not None:
            return [reader.read(row) for row in cursor.fetchall()]
        # Peewee's own row reader for this query (any shape it supports).
        return internals.peewee_rows(query, cursor)

    def first(self, **params):
        """The first row, or None."""
        rows = self.rows(**params)
        return rows[0] if rows else None

    def raw(self, **params) -> list[tuple]:
        """Every row as the driver gives it: a tuple, no value converted.

        For selects of integers and text, which both drivers already give as
        Python values, read where model instances would cost more than the SQL.
        """
        return self._run(params)[2].fetchall()

    def execute(self, **params) -> int:
        """Run a write; how many rows it changed."""
        return self._run(params)[2].rowcount


class _RowReader:
    """Model instances from the rows of one select shape, planned once.

    Peewee's cursor wrappers work out, on every execution, which column belongs
    to which model and how joined rows attach; for a prepared select that plan
    never changes. Shapes read here, as peewee reads them: fields of one model
    and of models it joins directly (inner or left outer; a joined row whose
    columns are all NULL is not attached, or is None for an outer join), named
    expressions (``.alias()``, an attribute of the first model), and the row an
    INSERT … RETURNING gives back. Anything else (joins from joined models,
    model aliases, dict or tuple rows) is left to peewee. A column is converted
    only where the driver's value is not already what peewee would give (see
    :func:`_converter`).
    """

    def __init__(self, models: list, columns: list, joins: list, named: list):
        self.models = models  # the select's model first
        self.joins = joins  # (attribute on the first model, model index, outer?)
        self.named = named  # (row position, attribute) of named expressions
        # Per model: the slice of the row it reads, when its columns are
        # adjacent (they are, in selects of whole models); else None.
        self.slices = _slices(models, columns)
        self.columns = columns  # per column: (model index, field name, converter)
        self.converted = [
            (index, name, convert) for index, name, convert in columns if convert
        ]

    @classmethod
    def for_query(cls, query) -> "_RowReader | None":
        shape = internals.shape_of(query)
        model = shape.model
        if not shape.model_rows:
            return None
        if shape.insert:  # INSERT … RETURNING: no joins
            return cls._plan([model], [], shape.returning)
        if not shape.select or shape.loads_related:
            return None  # with_related(): let peewee load the related rows
        models, joins = [model], []
        for join in shape.joins:
            if join.source is not model or join.dest is not join.constructor:
                return None  # a join from a joined model, or an alias
            if not internals.plain_join(join) or join.dest in models:
                return None
            if join.outer and isinstance(model._meta.fields.get(join.attr), Field):
                return None  # peewee marks an absent row itself there
            models.append(join.dest)
            joins.append((join.attr, len(models) - 1, join.outer))
        return cls._plan(models, joins, shape.returning)

    @classmethod
    def _plan(cls, models, joins, returning) -> "_RowReader | None":
        # Models joined only to filter are not read (nor attached, as in peewee).
        selected = {node.model for node in returning if isinstance(node, Field)}
        joins = [(attr, models[i], outer) for attr, i, outer in joins]
        joins = [join for join in joins if join[1] in selected]
        models = [models[0], *(model for _, model, _ in joins)]
        joins = [(attr, n, outer) for n, (attr, _, outer) in enumerate(joins, 1)]
        columns, named = [], []
        for position, node in enumerate(returning):
            if isinstance(node, Field) and node.model in models and not named:
                columns.append((models.index(node.model), node.name, _converter(node)))
            elif isinstance(node, Alias) and not isinstance(node.unwrap(), Field):
                # Named expressions come after every field.
                named.append((position, internals.alias_name(node)))
            else:
                return None
        if not columns:
            return None
        return cls(models, columns, joins, named)

    def read(self, row):
        if self.slices is not None:
            instances = [
                internals.filled(model, dict(zip(names, row[start:stop], strict=True)))
                for model, (start, stop, names) in zip(
                    self.models, self.slices, strict=True
                )
            ]
        else:
            instances = [internals.blank(model) for model in self.models]
            for value, (index, name, _) in zip(row, self.columns, strict=False):
                internals.data_of(instances[index])[name] = value
        for index, name, convert in self.converted:
            data = internals.data_of(instances[index])
            data[name] = convert(data[name])
        first = instances[0]
        for position, attr in self.named:
            setattr(first, attr, row[position])
        for attr, index, outer in self.joins:
            joined = instances[index]
            if any(value is not None for value in internals.data_of(joined).values()):
                setattr(first, attr, joined)
            elif outer:
                setattr(first, attr, None)
        internals.mark_clean(first)
        return first


def _slices(models: list, columns: list) -> list | None:
    """Per model, (start, stop, field names) of its columns, if they are adjacent."""
    slices = []
    for index in range(len(models)):
        positions = [n for n, column in enumerate(columns) if column[0] == index]
        if not positions or positions != list(range(positions[0], positions[-1] + 1)):
            return None
        names = tuple(columns[n][1] for n in positions)
        slices.append((positions[0], positions[-1] + 1, names))
    return slices


def _converter(field: Field) -> Callable | None:
    """What a column of ``field`` needs to become peewee's value; None: nothing."""
    target = field.rel_field if isinstance(field, peewee.ForeignKeyField) else field
    kind = type(target)
    if kind.python_value is Field.python_value and kind.adapt in internals.AS_GIVEN:
        return None
    return field.python_value


def _bind(value, params: dict):
    if not isinstance(value, _Slot):
        return value
    given = params[value.name]
    return value.convert(given) if value.convert else given


class _Upsert:
    """One upsert shape: its prepared statement and the fields filled by default."""

    def __init__(self, model, key_names: tuple, value_names: tuple, inserted: tuple):
        fields = model._meta.fields
        given = {*key_names, *value_names, *inserted}
        self.defaulted = [
            field
            for name, field in fields.items()
            if name not in given and field.default is not None
        ]
        names = [*key_names, *value_names, *inserted]
        names += [field.name for field in self.defaulted]
        # Nothing to update still updates a key to itself: DO NOTHING returns no row.
        updated = value_names or key_names[:1]
        self.query = Prepared(
            lambda: (
                model.insert(
                    {fields[name]: Param(name, fields[name]) for name in names}
                )
                .on_conflict(
                    conflict_target=[fields[name] for name in key_names],
                    update={
                        fields[name]: getattr(EXCLUDED, fields[name].column_name)
                        for name in updated
                    },
                )
                .returning(model)
            )
        )

    def defaults(self) -> dict:
        """The default of each defaulted field, taken now (``utcnow`` and the like)."""
        return {
            field.name: field.default() if callable(field.default) else field.default
            for field in self.defaulted
        }


#: Upsert shapes by (model, key names, value names, inserted names).
_upserts: dict[tuple, _Upsert] = {}


def upsert_row(model: type[Model], keys: dict, values: dict, inserted: dict) -> Model:
    """The row after ``INSERT … ON CONFLICT DO UPDATE``: see ``BaseModel.upsert``."""
    shape = (model, tuple(keys), tuple(values), tuple(inserted))
    found = _upserts.get(shape)
    if found is None:
        found = _upserts[shape] = _Upsert(*shape)
    return found.query.first(**found.defaults(), **keys, **values, **inserted)
