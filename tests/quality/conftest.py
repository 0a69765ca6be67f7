from __future__ import annotations

from pathlib import Path

import pytest

from hotline.core.config import Settings
from tests.conftest import audit_files, make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Each test records into a folder of its own (the suite's default folder is shared)."""
    return make_settings(
        database_url, recordings_dir=tmp_path / "recordings", **audit_files(tmp_path / "audit")
    )
