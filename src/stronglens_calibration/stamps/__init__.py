"""Kedro-free pixel library: stamp file formats, geometry (core, annulus), statistics."""
