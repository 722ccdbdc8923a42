"""Staged key rotation: when a tool key begins signing.

A rotated-in key is published in /lti/jwks first and signs only from
``activates_at`` on, once caches of the JWKS have fetched it. Existing keys
(NULL) have signed since they were created.

Generated from the models, then frozen.
"""
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column('tool_key', 'activates_at', DateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('tool_key', 'activates_at'))
