"""Kedro-free readers of files on any fsspec filesystem: URIs, FITS binary tables."""
