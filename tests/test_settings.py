from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import SAMPLE_SECRET_KEY, Settings


def test_default_database_is_a_sqlite_file_under_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.database_url == f"sqlite:///{tmp_path / 'backprop.db'}"
    assert settings.is_sqlite


def test_generated_secret_key_is_persisted_and_reused(tmp_path: Path) -> None:
    first = Settings(_env_file=None, data_dir=tmp_path).resolved_secret_key()  # type: ignore[call-arg]
    second = Settings(_env_file=None, data_dir=tmp_path).resolved_secret_key()  # type: ignore[call-arg]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_refuses_the_sample_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="sample value"):
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=tmp_path,
            environment="production",
            secret_key=SAMPLE_SECRET_KEY,
        )


def test_environment_variables_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKPROP_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("BACKPROP_DEMO_DEVICE", "cpu")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "postgresql://u@h/db" and not settings.is_sqlite
    assert settings.demo_device == "cpu"
