"""Corpus readers, the farm simulator, training and evaluation. Never imported by features/ or serving."""
