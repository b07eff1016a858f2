"""The project's config loader: ``conf/local/credentials.yml`` is read in every
environment, so ``kedro run --env s3`` (or ``--env spark``) finds the keys a user keeps
there, not only those of ``conf/base`` and the chosen environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.config import OmegaConfigLoader

#: The environment whose credentials every other environment also reads.
LOCAL_ENV = "local"


class ProjectConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` whose ``credentials`` also merge ``conf/local`` (which wins)."""

    def __getitem__(self, key: str) -> dict[str, Any]:
        config = super().__getitem__(key)
        if key != "credentials" or self.env in (None, LOCAL_ENV, self.base_env):
            return config
        local = Path(str(self.conf_source)) / LOCAL_ENV
        if not local.is_dir():
            return config
        extra = self.load_and_merge_dir_config(
            str(local), self.config_patterns[key], key, set(), read_environment_variables=True
        )
        return {**config, **extra}
