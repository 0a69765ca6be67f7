"""The rate limiter's buckets (core/ratelimit.py): a minute's worth at once, then one per interval;
refusals count for nothing; memory stays bounded; Redis gives every node the same answer."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from hotline.core.config import Settings
from hotline.core.ratelimit import MemoryLimiter, RedisLimiter, RouteKind, client_key
from tests.conftest import REDIS_URL


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_minute_s_worth_at_once_then_one_per_interval_and_refusals_count_for_nothing() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    assert [await limiter.hit("a", 3) for _ in range(3)] == [0, 0, 0]
    assert await limiter.hit("a", 3) == pytest.approx(20)
    clock.now += 5
    for _ in range(50):  # hammering while refused moves nothing on
        assert await limiter.hit("a", 3) == pytest.approx(15)
    clock.now += 15
    assert await limiter.hit("a", 3) == 0
    assert await limiter.hit("a", 3) == pytest.approx(20)
    assert await limiter.hit("b", 3) == 0  # another bucket
    clock.now += 60
    assert [await limiter.hit("a", 3) for _ in range(3)] == [0, 0, 0]  # refilled, not beyond


async def test_buckets_are_dropped_once_refilled_and_never_exceed_the_bound() -> None:
    clock = Clock()
    limiter = MemoryLimiter(max_keys=100, clock=clock)
    for n in range(1000):
        await limiter.hit(f"k{n}", 60)
        assert len(limiter) <= 100
    clock.now += 2  # each bucket took one request (1 s of a 60-a-minute bucket): all refilled
    await limiter.hit("fresh", 60)
    assert len(limiter) == 1


def test_an_address_is_its_own_bucket_an_ipv6_one_its_64() -> None:
    assert client_key(RouteKind.LOGIN, "203.0.113.7") == "hotline:ratelimit:login:203.0.113.7"
    assert client_key(RouteKind.LOGIN, "::ffff:203.0.113.7") == client_key(RouteKind.LOGIN, "203.0.113.7")
    assert client_key(RouteKind.LINK, "2001:db8:1:2::1") == client_key(RouteKind.LINK, "2001:db8:1:2:ffff::9")
    assert client_key(RouteKind.LINK, "2001:db8:1:2::1") == "hotline:ratelimit:link:2001:db8:1:2::/64"
    assert client_key(RouteKind.LINK, "2001:db8:1:3::1") != client_key(RouteKind.LINK, "2001:db8:1:2::1")
    assert client_key(RouteKind.CALLBACK, None) == "hotline:ratelimit:callback:unknown"


def test_the_limits_the_settings_give_each_kind() -> None:
    settings = Settings(rate_limit_login=7, rate_limit_links=8, rate_limit_callbacks=9, rate_limit_chat=10)  # type: ignore[call-arg]
    assert [kind.per_minute(settings) for kind in RouteKind] == [7, 8, 9, 10, 0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("trusted_proxies", ["10.0.0.0/33"]),
        ("trusted_proxies", ["10.0.0.1/8"]),
        ("cors_origins", ["https://www.example-hotel.com/"]),
        ("cors_origins", ["*"]),
        ("cors_origins", ["www.example-hotel.com"]),
        ("trusted_proxies", ["proxy.example"]),
        ("rate_limit_login", -1),
    ],
)
def test_wrong_proxies_origins_and_limits_are_refused_at_start(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})  # type: ignore[arg-type]


def test_proxies_as_addresses_networks_or_star_and_origins_with_ports() -> None:
    settings = Settings(
        trusted_proxies=["10.0.0.0/8", "::1", "*"],
        cors_origins=["https://www.example-hotel.com", "http://[::1]:8080", "http://localhost:5173"],
    )  # type: ignore[call-arg]
    assert settings.trusted_proxies == ["10.0.0.0/8", "::1", "*"]


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="needs HOTLINE_TEST_REDIS_URL (make test starts redis-server)")
async def test_in_redis_the_same_bucket_for_every_node_expiring_when_refilled() -> None:
    assert REDIS_URL
    key = f"hotline:ratelimit:test:{secrets.token_hex(8)}"
    one, two = RedisLimiter(REDIS_URL), RedisLimiter(REDIS_URL)
    try:
        assert await one.hit(key, 2) == 0
        assert await two.hit(key, 2) == 0
        wait = await one.hit(key, 2)
        assert 29 < wait <= 30
        assert 29 < await two.hit(key, 2) <= 30
        ttl = await one._redis.pttl(key)
        assert 59_000 < ttl <= 60_000  # gone once the bucket is full again
        assert len(one.fallback) == 0
    finally:
        await one._redis.delete(key)
        await one.close()
        await two.close()


async def test_without_redis_a_node_keeps_limiting_on_its_own_and_tries_redis_again_later() -> None:
    clock = Clock()
    limiter = RedisLimiter("redis://127.0.0.1:1/0", timeout=0.2, clock=clock)  # nothing listens there
    try:
        assert await limiter.hit("k", 1) == 0
        failing_until = limiter._failing_until
        assert failing_until == clock.now + RedisLimiter.RETRY_SECONDS
        assert await limiter.hit("k", 1) == pytest.approx(60)  # not asking Redis meanwhile
        assert limiter._failing_until == failing_until and len(limiter.fallback) == 1
        clock.now += RedisLimiter.RETRY_SECONDS
        assert await limiter.hit("k", 1) == pytest.approx(55)  # asked again, still down
        assert limiter._failing_until == clock.now + RedisLimiter.RETRY_SECONDS
    finally:
        await limiter.close()
