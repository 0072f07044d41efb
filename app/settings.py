"""Settings from the environment (prefix BACKPROP_) and an optional .env file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SECRET_KEY = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKPROP_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""
    # PostgreSQL connection pool per process: pool_size kept open, up to max_overflow
    # more under load. Size the server's max_connections for
    # (web processes + workers) x (pool_size + max_overflow).
    # SQLite keeps pool_size open and never caps them (see app.db).
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    content_dir: Path = PROJECT_ROOT / "content"
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    # Demo runs.
    demo_workers: int = Field(default=2, ge=0, le=64)
    demo_device: Literal["auto", "cpu", "cuda"] = "auto"
    demo_timeout_s: float = Field(default=20.0, gt=0, le=600)
    demo_memory_mb: int = Field(default=2048, ge=256)
    demo_output_kb: int = Field(default=64, ge=1)
    demo_queue_size: int = Field(default=32, ge=1)
    # The sandbox's private /tmp (all workers together; a run's temp dir lives there).
    demo_tmp_mb: int = Field(default=256, ge=16, le=65536)
    # Fair compute: runs one learner may have queued or running at once, and live
    # progress streams per learner (or per address). Runs of the in-process pool renew a
    # lease in their row; one not renewed for demo_local_lease_s is failed (a crash).
    demo_max_queued_per_user: int = Field(default=3, ge=0, le=1000)
    demo_streams_per_client: int = Field(default=4, ge=1, le=100)
    demo_local_lease_s: float = Field(default=15.0, ge=2, le=600)
    # Each CUDA worker's share of the GPU's memory; 0: 0.9 divided by the CUDA workers.
    demo_gpu_memory_fraction: float = Field(default=0.0, ge=0, le=1)
    # CUDA workers added next to the CPU ones on a GPU host: only demos that declare
    # BENEFITS_FROM_GPU run there; small demos stay on the CPU workers.
    demo_gpu_workers: int = Field(default=1, ge=0, le=16)
    demo_queue: str = ""  # empty: in-process pool; redis://... sends runs to `backprop worker`s
    # With demo_queue: the prefix of every Redis key and queue name (tests and several
    # deployments can share one Redis), how long a worker's lease on a running run lasts
    # without renewal before the run counts as lost, and how long a run may wait queued.
    demo_queue_prefix: str = Field(default="backprop", pattern=r"^[A-Za-z0-9_.:-]{1,40}$")
    demo_lease_s: float = Field(default=15.0, ge=1, le=600)
    demo_queue_wait_s: float = Field(default=600.0, ge=5)

    # Request bodies (see app.web.body_limit): logged in, not logged in, admin uploads.
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    max_anonymous_body_bytes: int = Field(default=64 << 10, ge=1024)
    max_upload_bytes: int = Field(default=64 << 20, ge=1024)

    # Parameter fits (`POST /api/review/optimize`) running at once per web process.
    optimize_max_jobs: int = Field(default=2, ge=1, le=64)

    # Accounts.
    signup_open: bool = True
    # Secure cookies: unset means on in production (served over HTTPS), off elsewhere.
    https_only_cookies: bool | None = None
    # Sign-ups per client address per window (each attempt counts: the form tells
    # whether a name is taken, so it must not be a free oracle).
    signup_window_s: int = Field(default=3600, ge=1)
    signup_max_per_address: int = Field(default=10, ge=1)
    # Argon2 checks running at once in one process (each takes argon2_memory_kib); the
    # rest wait up to password_hash_wait_s, then get 503.
    password_hash_concurrency: int = Field(default=4, ge=1, le=64)
    password_hash_wait_s: float = Field(default=5.0, gt=0, le=120)
    session_max_age_s: int = Field(default=14 * 24 * 3600, ge=60)
    # Failed logins allowed per window, per account and per client address (shared by
    # every web process through the login_attempt table).
    login_window_s: int = Field(default=15 * 60, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    # Argon2id cost; unset means pwdlib's defaults (3 passes, 64 MiB, 4 lanes), or a
    # cheap set when environment is "test" so the suite stays fast.
    argon2_time_cost: int | None = Field(default=None, ge=1)
    argon2_memory_kib: int | None = Field(default=None, ge=8)
    argon2_parallelism: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'backprop.db'}"
        if self.environment == "production" and self.secret_key == SAMPLE_SECRET_KEY:
            raise ValueError("BACKPROP_SECRET_KEY is the sample value; set a real secret")
        return self

    def argon2_parameters(self) -> tuple[int, int, int]:
        """(time_cost, memory_kib, parallelism) for hashing passwords."""
        cheap = self.environment == "test"
        return (
            self.argon2_time_cost or (1 if cheap else 3),
            self.argon2_memory_kib or (8 if cheap else 65536),
            self.argon2_parallelism or (1 if cheap else 4),
        )

    @property
    def secure_cookies(self) -> bool:
        if self.https_only_cookies is not None:
            return self.https_only_cookies
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated on first start and kept under data_dir."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
