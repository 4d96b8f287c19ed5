"""In-page feature extractors: text -> named float features + evidence spans.

Data flows one way: ``features`` knows nothing of training, scoring or serving. Each
module is one signal family; ``pipeline.FeaturePipeline`` runs them as a plain list.
"""
