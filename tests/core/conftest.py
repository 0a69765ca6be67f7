from tests.redis_server import private_redis  # noqa: F401 - a fixture
