"""LTI core: registrations, deployments, tool keys, users, contexts, memberships,
resource links, and shared launch state (nonces, OIDC state, tokens, key sets).

Generated from the models, then frozen; Python-side defaults need no schema.
"""
from peewee import *


def up(migrator, db):
    class LaunchState(Model):
        key = CharField(unique=True)
        value = TextField()
        expires_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'launch_state'
    db.create_tables([LaunchState])

    class LtiRegistration(Model):
        issuer = CharField()
        client_id = CharField()
        name = CharField(default='')
        auth_login_url = TextField()
        auth_token_url = TextField()
        auth_audience = TextField(null=True)
        key_set_url = TextField(null=True)
        key_set = TextField(null=True)
        platform_family = CharField(max_length=64, default='')
        source = CharField(max_length=16, default='manual')
        is_active = BooleanField(default=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'lti_registration'
            indexes = ((('issuer', 'client_id'), True),)
    db.create_tables([LtiRegistration])

    class LtiDeployment(Model):
        registration = ForeignKeyField(LtiRegistration, on_delete='CASCADE')
        deployment_id = CharField()
        is_active = BooleanField(default=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'lti_deployment'
            indexes = ((('registration', 'deployment_id'), True),)
    db.create_tables([LtiDeployment])

    class LtiContext(Model):
        deployment = ForeignKeyField(LtiDeployment, on_delete='CASCADE')
        id_on_platform = CharField()
        label = CharField(default='')
        title = TextField(default='')
        types = TextField(default='[]')
        lineitems_url = TextField(null=True)
        ags_scopes = TextField(default='[]')
        memberships_url = TextField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'lti_context'
            indexes = ((('deployment', 'id_on_platform'), True),)
    db.create_tables([LtiContext])

    class User(Model):
        registration = ForeignKeyField(LtiRegistration, on_delete='CASCADE')
        sub = CharField()
        name = CharField(default='')
        given_name = CharField(default='')
        family_name = CharField(default='')
        email = CharField(default='')
        created_at = DateTimeField()
        last_launch_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'user'
            indexes = ((('registration', 'sub'), True),)
    db.create_tables([User])

    class LtiMembership(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        context = ForeignKeyField(LtiContext, on_delete='CASCADE')
        roles = TextField(default='[]')
        is_learner = BooleanField(default=False)
        is_instructor = BooleanField(default=False)
        is_teaching_assistant = BooleanField(default=False)
        is_content_developer = BooleanField(default=False)
        is_administrator = BooleanField(default=False)
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'lti_membership'
            indexes = ((('user', 'context'), True),)
    db.create_tables([LtiMembership])

    class LtiNonce(Model):
        value = CharField(unique=True)
        expires_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'lti_nonce'
    db.create_tables([LtiNonce])

    class LtiResourceLink(Model):
        deployment = ForeignKeyField(LtiDeployment, on_delete='CASCADE')
        context = ForeignKeyField(LtiContext, null=True, on_delete='CASCADE')
        id_on_platform = CharField()
        title = TextField(default='')
        description = TextField(default='')
        module_slug = CharField(null=True, max_length=128)
        lineitem_url = TextField(null=True)
        custom = TextField(default='{}')
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'lti_resource_link'
            indexes = ((('deployment', 'id_on_platform'), True),)
    db.create_tables([LtiResourceLink])

    class PlatformKeySet(Model):
        url = CharField(unique=True, max_length=1024)
        jwks = TextField()
        fetched_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'platform_key_set'
    db.create_tables([PlatformKeySet])

    class ServiceToken(Model):
        registration = ForeignKeyField(LtiRegistration, on_delete='CASCADE')
        scopes = TextField()
        access_token = TextField()
        expires_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'service_token'
            indexes = ((('registration', 'scopes'), True),)
    db.create_tables([ServiceToken])

    class ToolKey(Model):
        kid = CharField(unique=True, max_length=64)
        private_pem = TextField()
        public_jwk = TextField()
        created_at = DateTimeField()
        retired_at = DateTimeField(null=True)
        expires_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'tool_key'
    db.create_tables([ToolKey])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('tool_key'))
    migrator.migrate(migrator.drop_table('service_token'))
    migrator.migrate(migrator.drop_table('platform_key_set'))
    migrator.migrate(migrator.drop_table('lti_resource_link'))
    migrator.migrate(migrator.drop_table('lti_nonce'))
    migrator.migrate(migrator.drop_table('lti_membership'))
    migrator.migrate(migrator.drop_table('user'))
    migrator.migrate(migrator.drop_table('lti_context'))
    migrator.migrate(migrator.drop_table('lti_deployment'))
    migrator.migrate(migrator.drop_table('lti_registration'))
    migrator.migrate(migrator.drop_table('launch_state'))
