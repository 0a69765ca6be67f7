"""Fixtures the custom reports' tests share with their neighbours: the domain reports' March 2025
dataset and the notify tests' SMTP server."""

from tests.notify.conftest import smtp  # noqa: F401 - a fixture
from tests.reports.test_domain_reports import dataset  # noqa: F401 - a fixture
