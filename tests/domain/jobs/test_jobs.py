"""Jobs: submitted, claimed once, run with progress, finished with a result or an error; stale ones reaped."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from domain.errors import Forbidden, InvalidInput, NotFound
from domain.identity.actor import SYSTEM
from domain.identity.users import actor_for_user
from domain.jobs import runner
from domain.jobs import service as jobs
from domain.jobs.models import Job
from domain.types import utcnow
from tests.domain.jobs.factories import job_kinds_fixture


def count_job(ctx: jobs.JobContext) -> dict:
    total = int(ctx.params.get("n", 3))
    for i in range(1, total + 1):
        ctx.progress(i, total, f"item {i}", force=True)
    return {"counted": total}


def failing_job(ctx: jobs.JobContext) -> dict:
    ctx.progress(1, 2, "half way", force=True)
    raise InvalidInput("the file has no header row", field="file")


def crashing_job(ctx: jobs.JobContext) -> dict:
    raise ZeroDivisionError("division by zero")


def test_run_in_the_foreground_reports_progress_and_stores_the_result(db):
    seen: list[tuple[int, int | None, str]] = []
    job = runner.run_job_now(db, SYSTEM, "test.count", {"n": 4}, on_progress=lambda d, t, m: seen.append((d, t, m)))
    assert job.status == "succeeded"
    assert job.result == {"counted": 4}
    assert (job.progress_done, job.progress_total, job.message) == (4, 4, "item 4")
    assert seen[-1] == (4, 4, "item 4") and len(seen) == 4
    assert job.started_at <= job.finished_at


def fast_job(ctx: jobs.JobContext) -> dict:
    for i in range(1, 101):
        ctx.progress(i, 100, f"step {i}")  # throttled: most of these are never written
    return {}


def partial_job(ctx: jobs.JobContext) -> dict:
    ctx.progress(2, 3, "saving scores")  # the last step reports before it does its work
    return {}


_kinds = job_kinds_fixture({"test.count": count_job, "test.fail": failing_job, "test.crash": crashing_job,
                            "test.fast": fast_job, "test.partial": partial_job})


def test_a_finished_job_shows_all_steps_done(db):
    job = runner.run_job_now(db, SYSTEM, "test.partial")
    assert (job.progress_done, job.progress_total) == (3, 3)


def test_the_last_progress_is_kept_even_when_throttled(db):
    job = runner.run_job_now(db, SYSTEM, "test.fast")
    assert (job.progress_done, job.progress_total, job.message) == (100, 100, "step 100")


def test_a_domain_error_fails_the_job_with_its_message(db):
    job = runner.run_job_now(db, SYSTEM, "test.fail")
    assert job.status == "failed"
    assert job.error == "the file has no header row"
    assert job.progress_done == 1


def test_an_unexpected_error_fails_the_job_with_its_type(db):
    job = runner.run_job_now(db, SYSTEM, "test.crash")
    assert (job.status, job.error) == ("failed", "任务意外出错，详情见服务日志（ZeroDivisionError: division by zero）")


def test_unknown_kinds_are_refused(session):
    with pytest.raises(NotFound, match=r"未知的任务类型“no\.such\.kind”"):
        jobs.submit_job(session, SYSTEM, "no.such.kind")


def test_who_may_start_and_see_jobs_is_the_policy_table(session, make_user):
    viewer = actor_for_user(make_user("lead", ["viewer"]))
    analyst = actor_for_user(make_user("ana", ["analyst"]))
    with pytest.raises(Forbidden, match=r"jobs\.start"):
        jobs.submit_job(session, viewer, "test.count")
    mine = jobs.submit_job(session, analyst, "test.count")
    queued_by_system = jobs.submit_job(session, SYSTEM, "test.count")
    assert {j.id for j in jobs.list_jobs(session, analyst)} == {mine.id, queued_by_system.id}  # jobs.read
    assert jobs.list_jobs(session, viewer) == []
    with pytest.raises(NotFound, match=f"任务 {mine.id} 不存在"):
        jobs.get_job(session, viewer, mine.id)


def test_a_kind_may_ask_for_its_own_permission(session, make_user):
    jobs.job_handler("test.guarded", permission="models.manage")(count_job)
    try:
        admin = actor_for_user(make_user("root", ["admin"]))
        with pytest.raises(Forbidden, match=r"models\.manage"):
            jobs.submit_job(session, admin, "test.guarded")
        assert jobs.submit_job(session, SYSTEM, "test.guarded").kind == "test.guarded"
    finally:
        jobs.remove_job_handler("test.guarded")
    assert "test.guarded" not in jobs.registered_kinds()


def test_the_runner_picks_up_queued_jobs(db):
    with db.unit_of_work() as s:
        job_id = jobs.submit_job(s, SYSTEM, "test.count", {"n": 2}).id
    background = runner.JobRunner(db, poll_seconds=0.05)
    background.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with db.unit_of_work() as s:
                job = s.get(Job, job_id)
                if job.finished:
                    break
            time.sleep(0.05)
    finally:
        background.stop()
    assert job.status == "succeeded" and job.result == {"counted": 2}


def test_exactly_one_of_two_claimants_wins(db):
    with db.unit_of_work() as s:
        job_id = jobs.submit_job(s, SYSTEM, "test.count").id
    barrier = threading.Barrier(2)
    claimed: list[Job | None] = []

    def claim() -> None:
        barrier.wait()
        claimed.append(runner.claim_job(db, job_id))

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for c in claimed if c is not None) == 1


def test_a_job_whose_process_stopped_is_marked_failed_not_left_running(db):
    with db.unit_of_work() as s:
        stale = Job(kind="test.count", status="running", started_at=utcnow() - timedelta(minutes=10),
                    heartbeat_at=utcnow() - timedelta(minutes=5))
        fresh = Job(kind="test.count", status="running", started_at=utcnow(), heartbeat_at=utcnow())
        s.add_all([stale, fresh])
        s.flush()
        stale_id, fresh_id = stale.id, fresh.id
    assert runner.reap_interrupted_jobs(db) == 1
    with db.unit_of_work() as s:
        statuses = dict(s.execute(sa.select(Job.id, Job.status)).all())
        assert statuses == {stale_id: "failed", fresh_id: "running"}
        assert s.get(Job, stale_id).error.startswith("任务已中断：运行它的进程已停止")
