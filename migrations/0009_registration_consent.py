"""Registration consent: invites an administrator hands out for Dynamic
Registration, and registration changes held until an administrator accepts them.

Written from the models, then frozen: Python-side defaults need no schema.
"""
from peewee import *


def up(migrator, db):
    class LtiRegistration(Model):
        class Meta:
            database = db
            table_name = 'lti_registration'

    class RegistrationInvite(Model):
        secret_hash = CharField(max_length=64, unique=True)
        issuer = TextField(null=True)
        note = CharField(max_length=255)
        max_uses = IntegerField()
        uses = IntegerField()
        created_at = DateTimeField()
        expires_at = DateTimeField()
        revoked_at = DateTimeField(null=True)
        last_used_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'registration_invite'

    class LtiRegistrationChange(Model):
        registration = ForeignKeyField(LtiRegistration, on_delete='CASCADE')
        settings = TextField()
        invite = ForeignKeyField(RegistrationInvite, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'lti_registration_change'

    db.create_tables([RegistrationInvite, LtiRegistrationChange])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('lti_registration_change'))
    migrator.migrate(migrator.drop_table('registration_invite'))
