"""Originality: an index of seen pages that names what a page was copied, spun or
rewritten from. ``open_index(path or redis URL)`` -> :class:`Index`."""

from originality.errors import (
    CorruptIndexError,
    DuplicateIdError,
    IndexError_,
    IndexNotFoundError,
    IndexVersionError,
    InvalidPageError,
)
from originality.index import AddResult, Index, Match, open_index
from originality.matching import Thresholds

__all__ = [
    "AddResult", "CorruptIndexError", "DuplicateIdError", "Index", "IndexError_",
    "IndexNotFoundError", "IndexVersionError", "InvalidPageError", "Match", "Thresholds",
    "open_index",
]
