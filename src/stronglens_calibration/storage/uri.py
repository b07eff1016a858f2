"""URIs of the data tree: local paths, ``s3://`` and Hadoop's ``s3a://`` alike."""

from __future__ import annotations

import re

_S3A = re.compile(r"^s3a://", re.IGNORECASE)


def normalise_uri(uri: str) -> str:
    """Map Hadoop's ``s3a://`` scheme (what Spark clusters write) to fsspec's ``s3://``.

    Examples
    --------
    >>> normalise_uri("s3a://bucket/data/sweep.fits")
    's3://bucket/data/sweep.fits'
    >>> normalise_uri("data/01_raw")
    'data/01_raw'
    """
    return _S3A.sub("s3://", str(uri))
