"""train, score, models, rules: the risk engine from the console (runs as the `system` operator)."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.table import Table

from cli.common import act, console, database, fail, local_time, run_with_progress, setup_step
from domain.identity.actor import SYSTEM
from ml.model_training import TRAIN_BOUNDS, TRAIN_DEFAULTS

__all__ = ["register", "register_jobs"]


def register_jobs() -> None:
    """The train, score and backtest job kinds, for the commands that run them in this process."""
    # imported here, not at the top, to keep `regwatch --help` fast: ml.jobs loads the engine (XGBoost)
    from ml import jobs  # noqa: F401  (registers train/score/backtest)


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(score)
    models_app = typer.Typer(help="Model versions and aliases (模型版本).", no_args_is_help=True)
    models_app.command("list")(models_list)
    models_app.command("promote")(models_promote)
    models_app.command("demote")(models_demote)
    models_app.command("rollback")(models_rollback)
    models_app.command("thresholds")(models_thresholds)
    models_app.command("backtest")(models_backtest)
    app.add_typer(models_app, name="models")
    rules_app = typer.Typer(help="Warning rules in CEL (预警规则).", no_args_is_help=True)
    rules_app.command("list")(rules_list)
    rules_app.command("save")(rules_save)
    rules_app.command("test")(rules_test)
    app.add_typer(rules_app, name="rules")


def _as_date(text: str | None, name: str = "--as-of") -> str | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        fail(f"{name} {text!r} is not a date (YYYY-MM-DD)", 2)


def _bounded(name: str, help_text: str, flag: str) -> Any:
    """A training option with the action's own default and bounds (ml.model_training), so the CLI, the page and
    GraphQL agree."""
    low, high, _ = TRAIN_BOUNDS[name]
    return typer.Option(getattr(TRAIN_DEFAULTS, name), flag, min=low, max=high, help=help_text)


def train(
    label_window_days: int = _bounded("label_window_days", "Outcome window after each cut-off, in days.",
                                      "--label-window-days"),
    cutoffs: int = _bounded("n_cutoffs", "Number of training cut-offs.", "--cutoffs"),
    step_days: int = _bounded("step_days", "Days between training cut-offs.", "--step-days"),
    seed: int = _bounded("seed", "Random seed (training is deterministic for a seed).", "--seed"),
    promote: bool = typer.Option(False, help="Make the new version the champion if there is none."),
) -> None:
    """Train a new model version (XGBoost, time-split, calibrated) with a progress bar, and print its metrics."""
    job = run_with_progress("train", {"label_window_days": label_window_days, "n_cutoffs": cutoffs,
                                      "step_days": step_days, "seed": seed, "promote_if_no_champion": promote})
    r = job.result or {}
    console.print(f"trained version [bold]{r.get('version')}[/] (id {r.get('version_id')}): "
                  f"ROC-AUC {r.get('roc_auc') or 0:.4f} vs fair baseline {r.get('baseline_roc_auc') or 0:.4f}, "
                  f"new events only {r.get('new_events_roc_auc') or 0:.4f}, PR-AUC {r.get('pr_auc') or 0:.4f}, "
                  f"mean predicted {r.get('mean_predicted') or 0:.4f} vs observed {r.get('positive_rate') or 0:.4f}, "
                  f"{r.get('best_iteration')} trees" + (" — now the champion" if r.get("promoted") else ""))


def score(as_of: str | None = typer.Option(None, "--as-of", help="Score as of this date (default today).")) -> None:
    """Score every entity with the champion (and the challenger in shadow)."""
    job = run_with_progress("score", {"as_of": _as_date(as_of)})
    for run in (job.result or {}).get("runs", []):
        levels = ", ".join(f"{k} {v}" for k, v in run["levels"].items())
        console.print(f"run {run['id']} ({run['role']}, version id {run['version_id']}, as of {run['as_of']}): "
                      f"{run['entities']} entities — {levels}")


def models_list(limit: int = typer.Option(20, help="How many versions, newest first.")) -> None:
    """List model versions with their metrics and aliases."""
    from domain.pagination import PageRequest
    from domain.risk.queries import list_versions

    page = act(list_versions, PageRequest(first=limit), work="read")
    def fmt(value: float | None, spec: str = ".4f") -> str:
        return "—" if value is None else format(value, spec)

    table = Table("id", "version", "aliases", "ROC-AUC", "new events", "fair baseline", "PR-AUC", "mean / observed",
                  "trained", "by")
    for view in page.items:
        v, m = view.version, view.metrics
        table.add_row(str(v.id), str(v.version), ", ".join(view.aliases), fmt(m.roc_auc), fmt(m.new_events.roc_auc),
                      fmt(m.baseline_roc_auc), fmt(m.pr_auc),
                      f"{fmt(m.overall.mean_predicted, '.2%')} / {fmt(m.positive_rate, '.2%')}",
                      local_time(v.created_at), v.trained_by_name)
    console.print(table)


def models_promote(version_id: int = typer.Argument(..., help="Model version id."),
                   alias: str = typer.Option("champion", help="champion or challenger."),
                   reason: str = typer.Option(..., help="Why (kept in the alias history; required).")) -> None:
    """Give an alias to a version."""
    from domain.risk.versions import promote_model_version

    act(promote_model_version, version_id, alias=alias, reason=reason)
    console.print(f"version id {version_id} is now the {alias}")


def models_demote(alias: str = typer.Argument("challenger"), reason: str = typer.Option("")) -> None:
    """Take the challenger alias away."""
    from domain.risk.versions import demote_alias

    act(demote_alias, alias, reason=reason)
    console.print(f"no version is the {alias} now")


def models_rollback(alias: str = typer.Option("champion"), reason: str = typer.Option("")) -> None:
    """Give the alias back to the version that held it before."""
    from domain.risk.versions import rollback_model

    held = act(rollback_model, alias=alias, reason=reason)
    console.print(f"{alias} rolled back to version id {held.version_id}")


def models_thresholds(version_id: int = typer.Argument(...), red: float = typer.Option(...),
                      orange: float = typer.Option(...), yellow: float = typer.Option(...),
                      blue: float = typer.Option(...)) -> None:
    """Set a version's level thresholds (minimum score per level)."""
    from domain.risk.versions import set_level_thresholds

    v = act(set_level_thresholds, version_id, {"red": red, "orange": orange, "yellow": yellow, "blue": blue})
    console.print(f"thresholds of version {v.version}: {v.thresholds} (they apply from its next scoring run)")


def models_backtest(version_id: int = typer.Argument(...), as_of: str = typer.Option(..., "--as-of"),
                    window_days: int = typer.Option(None, help="Outcome window (default the version's).")) -> None:
    """Backtest a version over a past window: entities per level and how many had an outcome after."""
    job = run_with_progress("backtest", {"version_id": version_id, "as_of": _as_date(as_of),
                                         "window_days": window_days})
    r = job.result or {}
    if r.get("in_training_window"):
        console.print("[yellow]warning: this date's outcome window overlaps the version's training window; "
                      "the figures are optimistic[/]")
    table = Table("level", "entities", "with outcome", "rate")
    for level, row in (r.get("levels") or {}).items():
        table.add_row(level, str(row["entities"]), str(row["outcomes"]),
                      "" if row["rate"] is None else f"{row['rate']:.1%}")
    console.print(table)
    if r.get("roc_auc") is not None:
        console.print(f"ROC-AUC over the window: {r['roc_auc']:.4f}")


def rules_list() -> None:
    """List rules."""
    from domain.risk.queries import list_rules

    table = Table("id", "code", "level", "enabled", "rev", "expression")
    for rule in act(list_rules, work="read"):
        table.add_row(str(rule.id), rule.code, rule.min_level, "yes" if rule.enabled else "no", str(rule.revision),
                      rule.expression)
    console.print(table)


def rules_save(code: str = typer.Argument(...), expression: str = typer.Option(..., help="CEL expression."),
               min_level: str = typer.Option(..., help="red, orange, yellow or blue."),
               name: str = typer.Option(None, help="Name (default the code)."),
               description: str = typer.Option(""), enabled: bool = typer.Option(False, "--enabled/--disabled"),
               ) -> None:
    """Create a rule, or save a new revision of the rule with this code."""
    from sqlmodel import select

    from domain.risk.models import RiskRule
    from ml.rule_actions import save_risk_rule

    def save(session, actor):
        existing = session.exec(select(RiskRule).where(RiskRule.code == code)).first()
        return save_risk_rule(session, actor, code=code, name=name or (existing.name if existing else code),
                              expression=expression, min_level=min_level, description=description, enabled=enabled,
                              rule_id=existing.id if existing else None)

    rule = act(save)
    console.print(f"rule {rule.code} saved as revision {rule.revision} ({'enabled' if rule.enabled else 'disabled'})")


def rules_test(expression: str = typer.Argument(...), as_of: str = typer.Option(None, "--as-of")) -> None:
    """Try an expression on current data without saving it."""
    from ml.rule_actions import try_risk_rule

    as_of_text = _as_date(as_of)
    as_of_date = date.fromisoformat(as_of_text) if as_of_text else None
    result = act(try_risk_rule, expression, as_of=as_of_date, work="read")
    console.print(f"{result.matched} of {result.entities} entities match as of {result.as_of}")
    for item in result.sample:
        console.print(f"  {item['uscc']} {item['name']} {item['features']}")


@setup_step(40, "first risk model")
def first_model() -> None:
    """Train the first version and make it the champion when there is none, then score."""
    from sqlmodel import select

    from domain.risk.queries import DEFAULT_MODEL
    from domain.risk.versions import champion_version
    from domain.supervision.models import Entity

    db = database()
    try:
        with db.unit_of_work() as session:
            has_champion = champion_version(session, SYSTEM, model_name=DEFAULT_MODEL) is not None
            has_entities = session.exec(select(Entity.id).limit(1)).first() is not None
    finally:
        db.dispose()
    if has_champion:
        console.print("a champion model exists; skipping training")
        return
    if not has_entities:
        console.print("no entities yet (load data or run `regwatch demo`); skipping the first model")
        return
    d = TRAIN_DEFAULTS
    train(label_window_days=d.label_window_days, cutoffs=d.n_cutoffs, step_days=d.step_days, seed=d.seed,
          promote=True)
    score(as_of=None)

