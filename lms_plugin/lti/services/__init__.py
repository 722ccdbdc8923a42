"""Calls the tool makes to a platform after a launch.

``connector.py`` gets and caches the OAuth 2 client-credentials token (signed with
the tool's key); ``ags.py`` finds line items and posts scores (Assignment and Grade
Services 2.0); ``nrps.py`` reads a course's roster (Names and Role Provisioning
Services 2.0); ``cli.py`` is ``lms-plugin roster``. Every request goes through the
guarded client, :mod:`lms_plugin.outbound`.
"""
