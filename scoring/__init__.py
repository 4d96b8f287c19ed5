"""Features -> scores. ``rules`` is the transparent baseline; the trained model replaces it."""
