"""Migrating an empty database gives exactly the schema the models declare."""

from playhouse.migrations import Runner
from playhouse.schema_diff import diff_models

from lms_plugin.db import database
from lms_plugin.db import migrate
from lms_plugin.models import MODELS


def _schema(db) -> dict:
    """Tables with their columns, indexes and foreign keys, as comparable data."""
    schema = {}
    for table in sorted(db.get_tables()):
        if table == "schema_migration":
            continue
        schema[table] = {
            "columns": sorted(
                (c.name, c.data_type.lower(), c.null, c.primary_key)
                for c in db.get_columns(table)
            ),
            "indexes": sorted(
                (tuple(i.columns), i.unique) for i in db.get_indexes(table)
            ),
            "foreign_keys": sorted(
                (f.column, f.dest_table, f.dest_column)
                for f in db.get_foreign_keys(table)
            ),
        }
    return schema


def _drop_everything(db) -> None:
    db.drop_tables(MODELS, safe=True)
    if "schema_migration" in db.get_tables():
        db.execute_sql('DROP TABLE "schema_migration"')


def test_migrations_build_the_models_schema(make_app):
    app = make_app(AUTO_MIGRATE=False)
    with database.connection_context():
        _drop_everything(database)
        migrate(app.config["MIGRATIONS_DIR"])
        migrated = _schema(database)
        diff = diff_models(database.obj, MODELS)
        assert not any(diff), f"migrations lag the models: {diff}"

        _drop_everything(database)
        database.create_tables(MODELS)
        declared = _schema(database)
    assert migrated == declared


def test_every_migration_applies_once(make_app):
    app = make_app()  # AUTO_MIGRATE applied everything on start
    with database.connection_context():
        runner = Runner(database.obj, app.config["MIGRATIONS_DIR"])
        assert all(m.applied for m in runner.status())
        assert migrate(app.config["MIGRATIONS_DIR"]) == []
