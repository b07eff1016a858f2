"""Kedro-free torch models: networks, preprocessing, the stamp-store dataset, training."""
