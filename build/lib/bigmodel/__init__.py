"""bigmodel: the tested code of the book *Large Models, with Tested Code*.

The core (this package) needs only NumPy and matplotlib: data loading, tokenizers,
the NumPy reference models, FLOP counts and plots. The two framework packages mirror
each other name for name and import only their own framework:

- :mod:`bigmodel.torch` (PyTorch)
- :mod:`bigmodel.tf` (TensorFlow)
"""

__version__ = "0.1.0"
