"""The launch: OIDC login, the id_token's checks, and the hand-off to the tool's pages.

``views.py`` (blueprint ``lti``: ``/lti/login``, ``/lti/launch``, ``/lti/jwks``,
the configuration documents) → ``flow.py`` (validate → sync → dispatch) →
``adapter.py`` (pylti1p3, hardened). ``storage.py`` keeps launch state in the
database or in LTI platform storage, ``cookies.py`` makes cookies work in an LMS
iframe, ``tickets.py`` and ``resume.py`` carry a launch into a new tab.
"""
