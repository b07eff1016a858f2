"""Kedro-free scan library: the parent sample of a survey region, per-shard scoring with a
trained lens finder, ranked candidates and the inspection page."""
