"""Same action, same defaults and limits on every channel: the page, GraphQL trainModel, the CLI and the job."""

from __future__ import annotations

import inspect

import pytest
from sqlmodel import select

from domain.errors import InvalidInput
from domain.jobs.models import Job
from ml.model_training import TRAIN_BOUNDS, TRAIN_DEFAULTS, check_train_options
from tests.api.risk.factories import add_user

OPTIONS = ("label_window_days", "n_cutoffs", "step_days", "seed")
EXPECTED = {name: getattr(TRAIN_DEFAULTS, name) for name in OPTIONS}


async def test_page_graphql_and_cli_queue_training_with_the_same_defaults(client, acting, session):
    acting.actor = add_user(session, "analyst-zhou", ["analyst"])
    session.commit()
    body = (await client.post("/graphql", json={"query": "mutation { trainModel { job { id } errors { code } } }"}))
    assert body.json()["data"]["trainModel"]["errors"] == []
    page = await client.post("/models/train", headers={"accept": "text/html", "hx-request": "true"})
    assert page.status_code == 200 and 'id="job-' in page.text
    jobs = session.exec(select(Job).where(Job.kind == "train").order_by(Job.id)).all()
    assert len(jobs) == 2
    for job in jobs:  # what the job will train with, whichever channel queued it
        assert {k: job.params[k] for k in OPTIONS} == EXPECTED

    from cli.risk import train

    cli = inspect.signature(train).parameters
    flags = {"label_window_days": "label_window_days", "n_cutoffs": "cutoffs", "step_days": "step_days",
             "seed": "seed"}
    for name, flag in flags.items():
        option = cli[flag].default
        low, high, _ = TRAIN_BOUNDS[name]
        assert (option.default, option.min, option.max) == (EXPECTED[name], low, high), name
    assert EXPECTED == {"label_window_days": 90, "n_cutoffs": 15, "step_days": 28, "seed": 42}


async def test_the_same_bounds_refuse_the_same_input_everywhere(client, acting, session):
    acting.actor = add_user(session, "analyst-zhou", ["analyst"])
    session.commit()
    for name, (low, high, label) in TRAIN_BOUNDS.items():
        with pytest.raises(InvalidInput) as caught:
            check_train_options({name: high + 1})
        assert (caught.value.field, caught.value.code) == (name, "out_of_range") and label in caught.value.message
        camel = "".join(w if i == 0 else w.title() for i, w in enumerate(name.split("_")))
        query = f"mutation {{ trainModel(input: {{{camel}: {low - 1}}}) {{ job {{ id }} errors {{ field code }} }} }}"
        body = await client.post("/graphql", json={"query": query})
        assert body.json()["data"]["trainModel"] == {"job": None,  # the domain's field, camelCased by api.errors
                                                     "errors": [{"field": camel, "code": "out_of_range"}]}
    assert session.exec(select(Job)).all() == []  # nothing queued
