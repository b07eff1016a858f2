"""MLflow bookkeeping that kedro-mlflow does not do by itself."""
