"""BerAKHLAK feedback analyser: data, encoder, classifier and artifacts (no web code)."""

__version__ = "0.1.0"
