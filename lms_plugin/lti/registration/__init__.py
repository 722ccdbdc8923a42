"""Which platforms the tool trusts, with which keys, and how an administrator says so.

``dynamic.py`` (LTI Dynamic Registration, the tool side) and ``consent.py``
(invites) add a platform only with an administrator's consent;
``platform_configuration.py`` reads and checks the platform's OpenID
configuration; ``tool_registration.py`` is what the tool says about itself (the
registration document, and the URLs an admin pastes); ``platforms.py``
stores registrations and holds changes to trusted ones for acceptance;
``platform_keys.py`` fetches and caches a platform's key set; ``keys.py`` is the
tool's own signing keys; ``tool_config.py`` shows the registrations to pylti1p3;
``canvas.py`` is the Canvas developer-key JSON; ``views.py`` is blueprint
``lti_registration``; ``cli.py`` is ``lms-plugin platform`` and ``lms-plugin keys``.
"""
