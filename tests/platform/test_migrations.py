"""Migrations on the backend under test: one head, upgrade from empty, models match DDL, up/down consistency."""

import pytest
import sqlalchemy as sa
from pytest_alembic import Config as AlembicTestConfig
from pytest_alembic.plugin.fixtures import alembic_runner  # noqa: F401  (plugin auto-collection is off)
from pytest_alembic.tests import (  # noqa: F401  (collected as tests)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from domain.db import sync_url
from domain.schema_version import ROOT
from tests.support import create_database, drop_database


@pytest.fixture
def alembic_config():
    return AlembicTestConfig(config_options={"file": str(ROOT / "alembic.ini"),
                                             "script_location": str(ROOT / "migrations")})


@pytest.fixture
def alembic_engine(tmp_path):
    url = create_database(tmp_path, "alembic")
    engine = sa.create_engine(sync_url(url))
    yield engine
    engine.dispose()
    drop_database(url)
