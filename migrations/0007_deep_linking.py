"""Roster state for Names and Roles: each membership's NRPS status (or Absent
when a roster sync no longer lists the member) and when a sync last listed it;
each context's last complete roster sync.

Generated from the models, then frozen. Existing memberships become Active.
"""
from peewee import *

def up(migrator, db):
    migrator.migrate(migrator.add_column('lti_context', 'roster_synced_at', DateTimeField(null=True)))
    migrator.migrate(migrator.add_column('lti_membership', 'status', CharField(max_length=16, default='Active')))
    migrator.migrate(migrator.add_column('lti_membership', 'roster_synced_at', DateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('lti_membership', 'roster_synced_at'))
    migrator.migrate(migrator.drop_column('lti_membership', 'status'))
    migrator.migrate(migrator.drop_column('lti_context', 'roster_synced_at'))
