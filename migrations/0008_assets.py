"""Images from courses' assets/ folders, stored once per content (by SHA-256),
published with the rest of a course and served at /content/assets/<digest>.<ext>.

Generated from the models, then frozen: Python-side defaults need no schema.
"""
from peewee import *


def up(migrator, db):
    class Asset(Model):
        digest = CharField(unique=True, max_length=64)
        media_type = CharField(max_length=32)
        byte_size = IntegerField()
        data = BlobField()
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'asset'
    db.create_tables([Asset])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('asset'))
