"""HTTP service and command-line interface of the BerAKHLAK analyser (depends on ``model``)."""
