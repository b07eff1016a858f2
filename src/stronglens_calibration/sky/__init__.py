"""Kedro-free sky helpers: coordinates, cross-matching, footprint, HEALPix."""
