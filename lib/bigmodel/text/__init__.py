"""Text as the models see it: character and byte-level BPE tokenizers, bag-of-words
features, and the measured form of Tang poems. The corpora themselves are loaded by
:mod:`bigmodel.data`.
"""
