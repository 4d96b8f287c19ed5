"""farmscore: originality and quality scores for web articles, with evidence."""

__version__ = "0.1.0"
