"""``python -m lms_plugin`` is the ``lms-plugin`` command."""

from lms_plugin.cli import main

main()
