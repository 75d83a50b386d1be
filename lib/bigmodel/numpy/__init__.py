"""The NumPy references: every model of the book in plain NumPy, in float64.

Each module here has a twin of the same name in :mod:`bigmodel.torch` and
:mod:`bigmodel.tf` (``cnn.py`` in each, ``gpt.py`` in each, ...), and the tests check
that the same weights give the same outputs in all three. The references define the
models' configs and weight shapes, so the frameworks import them, never the other way.

Importing this package imports neither framework.
"""
