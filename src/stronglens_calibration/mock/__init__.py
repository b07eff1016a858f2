"""Kedro-free mock DR10 survey: population draws, stamp rendering and raw file formats.

Used only by the ``mock_survey`` pipeline; everything downstream reads its output with
the readers of real DR10 data.
"""
