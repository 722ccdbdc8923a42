"""Progress: module progress per (user, context scope, module), page visits, quiz
attempts with the exact question versions drawn, and per-item scores.

Generated from the models, then frozen: JSON columns are plain text here, and
Python-side defaults need no schema.
"""
from peewee import *


def up(migrator, db):
    class LtiContext(Model):
        class Meta:
            database = db
            table_name = 'lti_context'

    class Module(Model):
        class Meta:
            database = db
            table_name = 'module'

    class ModuleVersion(Model):
        class Meta:
            database = db
            table_name = 'module_version'

    class Page(Model):
        class Meta:
            database = db
            table_name = 'page'

    class QuestionVersion(Model):
        class Meta:
            database = db
            table_name = 'question_version'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class QuizAttempt(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        context = ForeignKeyField(LtiContext, null=True, on_delete='CASCADE')
        scope = IntegerField()
        module = ForeignKeyField(Module, on_delete='CASCADE')
        module_version = ForeignKeyField(ModuleVersion)
        number = IntegerField()
        idempotency_key = CharField(unique=True, max_length=64)
        question_versions = TextField()
        layout = TextField()
        responses = TextField()
        status = CharField(max_length=16, default='in_progress')
        earned = FloatField(null=True)
        possible = FloatField(null=True)
        percent = FloatField(null=True)
        passed = BooleanField(null=True)
        started_at = DateTimeField()
        submitted_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'quiz_attempt'
            indexes = ((('user', 'scope', 'module', 'number'), True),)
    db.create_tables([QuizAttempt])

    class AttemptItem(Model):
        attempt = ForeignKeyField(QuizAttempt, on_delete='CASCADE')
        question_version = ForeignKeyField(QuestionVersion)
        item_id = CharField(max_length=128)
        position = IntegerField()
        earned = FloatField()
        possible = FloatField()
        response = TextField(null=True)
        class Meta:
            database = db
            table_name = 'attempt_item'
            indexes = ((('attempt', 'item_id'), True),)
    db.create_tables([AttemptItem])

    class ModuleProgress(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        context = ForeignKeyField(LtiContext, null=True, on_delete='CASCADE')
        scope = IntegerField()
        module = ForeignKeyField(Module, on_delete='CASCADE')
        last_page = ForeignKeyField(Page, null=True, on_delete='SET NULL')
        state = CharField(max_length=32, default='not_started')
        kept_percent = FloatField(null=True)
        passed = BooleanField(default=False)
        attempts_used = IntegerField(default=0)
        started_at = DateTimeField()
        updated_at = DateTimeField()
        completed_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'module_progress'
            indexes = ((('user', 'scope', 'module'), True),)
    db.create_tables([ModuleProgress])

    class PageVisit(Model):
        progress = ForeignKeyField(ModuleProgress, on_delete='CASCADE')
        page = ForeignKeyField(Page, on_delete='CASCADE')
        first_visited_at = DateTimeField()
        last_visited_at = DateTimeField()
        completed_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'page_visit'
            indexes = ((('progress', 'page'), True),)
    db.create_tables([PageVisit])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('page_visit'))
    migrator.migrate(migrator.drop_table('module_progress'))
    migrator.migrate(migrator.drop_table('attempt_item'))
    migrator.migrate(migrator.drop_table('quiz_attempt'))
