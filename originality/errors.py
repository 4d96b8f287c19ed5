"""Errors the originality index raises, each with a message a person can act on."""

from __future__ import annotations


class IndexError_(Exception):
    """Base class of every originality-index error (named to avoid shadowing ``IndexError``)."""


class CorruptIndexError(IndexError_):
    """The index files or keys exist but cannot be read as an index."""


class IndexVersionError(IndexError_):
    """The index was written by another format version or with other parameters."""


class IndexNotFoundError(IndexError_):
    """``open_index(..., create=False)`` found no index at the location."""


class InvalidPageError(IndexError_, ValueError):
    """A page record is malformed (missing id or text, empty text, wrong types)."""


class DuplicateIdError(IndexError_, ValueError):
    """An id is already indexed with a different text; the indexed page is kept."""
