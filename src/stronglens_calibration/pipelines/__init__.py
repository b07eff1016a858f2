"""The project's pipelines, one folder each."""
