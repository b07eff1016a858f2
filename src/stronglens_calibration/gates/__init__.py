"""Kedro-free shortcut gates: can a trivial classifier separate the classes without arcs?"""
