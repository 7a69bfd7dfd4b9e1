"""The scoring job's after-commit hook issues warnings: the app (and the CLI) register the step once."""

from sqlmodel import select

from domain.identity.actor import SYSTEM
from domain.warnings.models import Warning, WarningEvent
from tests.domain.warnings.support import build_city, score


def test_after_a_committed_scoring_run_warnings_are_issued_once(app, db, monkeypatch):
    import cli  # noqa: F401  (the CLI registers the same step; it must not run twice)
    from domain.settings import reset_settings
    from ml import runs

    monkeypatch.setenv("REGWATCH_WARNING_AUTO_MIN_LEVEL", "orange")
    reset_settings()
    with db.unit_of_work() as s:
        city = build_city(s)
        score(s, city.run, city.entities[0], 0.91, "red")
        score(s, city.run, city.entities[1], 0.66, "orange")
        score(s, city.run, city.entities[2], 0.45, "yellow")
        run_id = city.run.id
    runs.after_scoring_committed(db, SYSTEM, [run_id])
    reset_settings()
    with db.unit_of_work() as s:
        warnings = s.exec(select(Warning)).all()
        assert sorted(w.level for w in warnings) == ["orange", "red"]  # yellow is below the configured minimum
        assert len(s.exec(select(WarningEvent)).all()) == 2
