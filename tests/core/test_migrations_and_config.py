"""Schema migrations match the models on both engines; settings come from env and hotline.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from hotline.core import migrate
from hotline.core.config import Settings
from hotline.core.context import Context


@pytest.mark.blocks_the_loop  # alembic's schema comparison (the CLI's `db check`), never on a server's loop
async def test_migrated_schema_matches_the_models(ctx: Context) -> None:
    assert await migrate.drift(ctx.db) == []
    assert await migrate.current_revision(ctx.db) is not None


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(ctx: Context) -> None:
    if not ctx.db.is_sqlite:
        pytest.skip("SQLite pragmas")
    async with ctx.db.read() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1


def test_settings_read_env_over_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "hotline.toml"
    config.write_text('port = 9000\nsip_port = 5070\nredis_url = "redis://127.0.0.1:6379/1"\n')
    monkeypatch.setenv("HOTLINE_CONFIG", str(config))
    monkeypatch.setenv("HOTLINE_PORT", "9100")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql://hotline@db/hotline")
    settings = Settings()
    assert settings.port == 9100 and settings.sip_port == 5070
    assert settings.redis_url == "redis://127.0.0.1:6379/1"
    assert settings.database_url == "postgresql+asyncpg://hotline@db/hotline" and not settings.is_sqlite


def test_embedded_defaults_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("HOTLINE_PORT", "HOTLINE_DATABASE_URL", "HOTLINE_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    settings = Settings()
    assert (settings.host, settings.port, settings.sip_host, settings.sip_port) == (
        "127.0.0.1",
        8000,
        "127.0.0.1",
        5060,
    )
    assert settings.is_sqlite and settings.database_url.endswith("var/hotline.db")
    monkeypatch.setenv("HOTLINE_PORT", "99999")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_the_browser_phones_stun_and_turn_settings_are_checked_when_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A TURN server without coturn's shared secret, or a URL of the wrong kind, stops the start
    with the setting named (docs/voice.md, "Agents outside the LAN")."""
    monkeypatch.setenv("HOTLINE_PHONE_TURN_URLS", '["turn:turn.hotel.example:3478"]')
    with pytest.raises(ValidationError, match="phone_turn_secret"):
        Settings()
    monkeypatch.setenv("HOTLINE_PHONE_TURN_SECRET", "s3cret")
    assert Settings().phone_turn_urls == ["turn:turn.hotel.example:3478"]
    monkeypatch.setenv("HOTLINE_PHONE_STUN_URLS", '["turn:stun.hotel.example:3478"]')
    with pytest.raises(ValidationError, match="phone_stun_urls"):
        Settings()
    monkeypatch.setenv("HOTLINE_PHONE_STUN_URLS", '["stun:stun.hotel.example:3478"]')
    monkeypatch.setenv("HOTLINE_PHONE_TURN_URLS", '["https://turn.hotel.example"]')
    with pytest.raises(ValidationError, match="phone_turn_urls"):
        Settings()


def test_rtpengine_as_the_media_relay_needs_its_ng_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in relay is the default; rtpengine without where to reach it stops the start with
    the setting named (docs/voice.md, "rtpengine")."""
    assert Settings().media_relay == "builtin"
    monkeypatch.setenv("HOTLINE_MEDIA_RELAY", "rtpengine")
    with pytest.raises(ValidationError, match="rtpengine_ng"):
        Settings()
    monkeypatch.setenv("HOTLINE_RTPENGINE_NG", "127.0.0.1 2223")
    with pytest.raises(ValidationError, match="rtpengine_ng"):
        Settings()
    monkeypatch.setenv("HOTLINE_RTPENGINE_NG", "media-1.hotel.lan:2223")
    assert Settings().rtpengine_ng == "media-1.hotel.lan:2223"
    assert Settings().rtpengine_recordings is None  # recorded calls stay on the built-in relay
    monkeypatch.setenv("HOTLINE_RTPENGINE_RECORDINGS", "/mnt/rtpengine")
    assert Settings().rtpengine_recordings == Path("/mnt/rtpengine")
    monkeypatch.setenv("HOTLINE_MEDIA_RELAY", "kernel")
    with pytest.raises(ValidationError, match="media_relay"):
        Settings()


def test_a_cluster_node_needs_redis_and_a_clean_name_and_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster's nodes talk over Redis: without it the start stops with the setting named; the
    cluster's name and the node's internal address are checked as they are read."""
    assert Settings().cluster is False
    monkeypatch.setenv("HOTLINE_CLUSTER", "true")
    with pytest.raises(ValidationError, match="redis_url"):
        Settings()
    monkeypatch.setenv("HOTLINE_REDIS_URL", "redis://127.0.0.1:6379/0")
    assert Settings().cluster_name == "site"
    monkeypatch.setenv("HOTLINE_CLUSTER_NAME", "Hotel Site!")
    with pytest.raises(ValidationError, match="cluster_name"):
        Settings()
    monkeypatch.setenv("HOTLINE_CLUSTER_NAME", "shanghai-1")
    monkeypatch.setenv("HOTLINE_INTERNAL_URL", "http://10.0.0.5:8000/api")
    with pytest.raises(ValidationError, match="internal_url"):
        Settings()
    monkeypatch.setenv("HOTLINE_INTERNAL_URL", "http://10.0.0.5:8000")
    assert (Settings().cluster_name, Settings().internal_url) == ("shanghai-1", "http://10.0.0.5:8000")
