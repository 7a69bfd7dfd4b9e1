"""Small hand-built datasets for the risk engine: a department, a data source, entities and their records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count

import numpy as np
import xgboost as xgb
from sqlmodel import Session

from domain.identity.models import Department
from domain.integration.models import DataSource
from domain.risk.models import ModelVersion
from domain.supervision.models import Complaint, CreditRecord, Entity, SupervisionAction
from ml.artifacts import booster_to_bytes
from ml.features import model_features

__all__ = ["World", "tiny_version"]

_ext = count(1)


class World:
    """Adds records with sensible defaults; every date is explicit in the test."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.department = Department(code="SCJG", name="市场监管局")
        session.add(self.department)
        session.flush()
        self.source = DataSource(code="TEST", name="测试数据源", kind="manual")
        session.add(self.source)
        session.flush()

    def entity(self, n: int, *, founded_on: date | None = date(2015, 1, 1), industry: str | None = "C",
               region: str | None = "320508", capital: str | None = "100",
               deregistered_on: date | None = None) -> Entity:
        e = Entity(uscc=f"TEST{n:014d}", name=f"测试企业{n}", entity_type="company", industry_code=industry,
                   region_code=region, registered_capital=Decimal(capital) if capital else None,
                   founded_on=founded_on, deregistered_on=deregistered_on,
                   status="cancelled" if deregistered_on else "active", status_changed_on=deregistered_on)
        self.session.add(e)
        self.session.flush()
        return e

    def action(self, entity: Entity, kind: str, started_on: date, *, decided_on: date | None = None,
               result: str | None = None, amount: str | None = None) -> SupervisionAction:
        a = SupervisionAction(source_id=self.source.id, external_id=f"A{next(_ext)}", kind=kind,
                              department_id=self.department.id, entity_id=entity.id, started_on=started_on,
                              decided_on=decided_on, result=result,
                              penalty_amount=Decimal(amount) if amount else None)
        self.session.add(a)
        self.session.flush()
        return a

    def complaint(self, entity: Entity, received_on: date) -> Complaint:
        c = Complaint(source_id=self.source.id, external_id=f"C{next(_ext)}", entity_id=entity.id,
                      received_on=received_on, channel="12345", category="质量")
        self.session.add(c)
        self.session.flush()
        return c

    def credit(self, entity: Entity, kind: str, listed_on: date, removed_on: date | None = None) -> CreditRecord:
        r = CreditRecord(source_id=self.source.id, external_id=f"R{next(_ext)}", entity_id=entity.id, kind=kind,
                         listed_on=listed_on, removed_on=removed_on)
        self.session.add(r)
        self.session.flush()
        return r


def tiny_version(session: Session, *, thresholds: dict[str, float], version: int = 1,
                 seed: int = 1) -> ModelVersion:
    """A stored version whose booster is a small real XGBoost fit (scores rise with penalties_365d)."""
    names = model_features()
    rng = np.random.default_rng(seed)
    x = rng.poisson(1.0, size=(400, len(names))).astype(np.float32)
    j = names.index("penalties_365d")
    y = (x[:, j] + rng.normal(0, 0.5, 400) > 1.5).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2, "seed": seed, "nthread": 1},
                        xgb.DMatrix(x, label=y, feature_names=names), num_boost_round=10)
    v = ModelVersion(version=version, features=names, thresholds=thresholds, artifact=booster_to_bytes(booster),
                     metrics={"roc_auc": 0.9}, label_window_days=180)
    session.add(v)
    session.flush()
    return v
