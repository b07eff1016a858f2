"""Kedro-free run report: one HTML page, a Markdown summary and a few log lines from the
JSON reports, tables and figures the pipelines write."""
