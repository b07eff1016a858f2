"""Kedro-free catalogue logic: lenscat candidates, DR10 sweep photometry, cuts, sampling."""
