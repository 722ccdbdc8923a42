"""Passback: the score_post outbox of LTI AGS scores and their delivery state.

Generated from the models, then frozen: Python-side defaults need no schema.
"""
from peewee import *


def up(migrator, db):
    class LtiContext(Model):
        class Meta:
            database = db
            table_name = 'lti_context'

    class LtiRegistration(Model):
        class Meta:
            database = db
            table_name = 'lti_registration'

    class LtiResourceLink(Model):
        class Meta:
            database = db
            table_name = 'lti_resource_link'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class ScorePost(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        context = ForeignKeyField(LtiContext, on_delete='CASCADE')
        resource_link = ForeignKeyField(LtiResourceLink, null=True, on_delete='CASCADE')
        registration = ForeignKeyField(LtiRegistration, on_delete='CASCADE')
        module_slug = CharField(max_length=128)
        lineitem_url = TextField(null=True)
        lineitems_url = TextField(null=True)
        line_key = CharField(max_length=64)
        user_sub = CharField()
        score_given = FloatField(null=True)
        score_maximum = FloatField(null=True)
        activity_progress = CharField(max_length=16)
        grading_progress = CharField(max_length=16)
        timestamp = DateTimeField()
        comment = TextField(null=True)
        submission = TextField(null=True)
        status = CharField(max_length=16, default='pending')
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField()
        last_error = TextField(null=True)
        locked_by = CharField(null=True, max_length=128)
        locked_until = DateTimeField(null=True)
        created_at = DateTimeField()
        sent_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'score_post'
            indexes = ((('status', 'next_attempt_at'), False), (('user', 'line_key', 'timestamp'), False))
    db.create_tables([ScorePost])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('score_post'))
