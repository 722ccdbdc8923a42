"""Content: courses, modules and their versions, pages, questions and their
versions, references (published from courses/ by the content pipeline).

Generated from the models, then frozen: JSON columns are plain text here, and
Python-side defaults need no schema.
"""
from peewee import *


def up(migrator, db):
    class Course(Model):
        slug = CharField(unique=True, max_length=128)
        title = TextField()
        summary_html = TextField(default='')
        version = CharField(max_length=32, default='')
        audiences = TextField()
        source_hash = CharField(max_length=64, default='')
        published_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'course'
    db.create_tables([Course])

    class Module(Model):
        course = ForeignKeyField(Course)
        slug = CharField(unique=True, max_length=128)
        position = IntegerField()
        version = IntegerField(default=1)
        content_hash = CharField(max_length=64)
        retired_at = DateTimeField(null=True)
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'module'
    db.create_tables([Module])

    class ModuleVersion(Model):
        module = ForeignKeyField(Module)
        number = IntegerField()
        content_hash = CharField(max_length=64)
        title = TextField()
        summary_html = TextField(default='')
        est_minutes = IntegerField()
        objectives = TextField()
        competencies = TextField()
        completion = TextField()
        audiences = TextField()
        quiz = TextField(null=True)
        meta = TextField()
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'module_version'
            indexes = ((('module', 'number'), True),)
    db.create_tables([ModuleVersion])

    class Page(Model):
        course = ForeignKeyField(Course)
        module = ForeignKeyField(Module)
        slug = CharField(max_length=128)
        position = IntegerField()
        title = TextField()
        type = CharField(max_length=32)
        body_html = TextField()
        est_minutes = IntegerField()
        objectives = TextField()
        references = TextField()
        jurisdiction = CharField(null=True, max_length=64)
        content_hash = CharField(max_length=64)
        retired_at = DateTimeField(null=True)
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'page'
            indexes = ((('course', 'slug'), True),)
    db.create_tables([Page])

    class Question(Model):
        course = ForeignKeyField(Course)
        module = ForeignKeyField(Module)
        slug = CharField(max_length=128)
        type = CharField(max_length=32)
        objective = CharField(max_length=128)
        position = IntegerField()
        version = IntegerField(default=1)
        content_hash = CharField(max_length=64)
        retired_at = DateTimeField(null=True)
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'question'
            indexes = ((('course', 'slug'), True),)
    db.create_tables([Question])

    class QuestionVersion(Model):
        question = ForeignKeyField(Question)
        number = IntegerField()
        content_hash = CharField(max_length=64)
        data = TextField()
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'question_version'
            indexes = ((('question', 'number'), True),)
    db.create_tables([QuestionVersion])

    class Reference(Model):
        course = ForeignKeyField(Course)
        module = ForeignKeyField(Module, null=True)
        key = CharField(max_length=128)
        citation = TextField()
        url = TextField(null=True)
        jurisdiction = CharField(null=True, max_length=64)
        content_hash = CharField(max_length=64)
        retired_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'reference'
            indexes = ((('course', 'key'), True),)
    db.create_tables([Reference])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('reference'))
    migrator.migrate(migrator.drop_table('question_version'))
    migrator.migrate(migrator.drop_table('question'))
    migrator.migrate(migrator.drop_table('page'))
    migrator.migrate(migrator.drop_table('module_version'))
    migrator.migrate(migrator.drop_table('module'))
    migrator.migrate(migrator.drop_table('course'))
