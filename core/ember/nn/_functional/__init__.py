"""The Python-composed parts of ``ember.nn.functional`` (activations, losses, distances,
linear maps, embedding_bag), split by topic. Import them from ``ember.nn.functional``."""
