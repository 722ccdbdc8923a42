"""Deep Linking 2.0: instructors choose modules; links are bound to them.

``flow.py`` holds the picker's data, the signed response and link binding;
``views.py`` is blueprint ``deep_linking`` (the picker, and the chooser for a
link pasted without deep linking).
"""
