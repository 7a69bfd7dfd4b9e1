"""Job pages: the list with its timetables, one job's progress (polling until it ends) and its result in words."""

from __future__ import annotations

from domain.identity.actor import SYSTEM
from domain.jobs import service as jobs
from domain.jobs.models import Job
from tests.domain.jobs.factories import job_kinds_fixture

HTML = {"accept": "text/html"}


def page_job(ctx: jobs.JobContext) -> dict:
    return {}


_kinds = job_kinds_fixture({"test.page": page_job})


async def test_job_page_shows_progress_and_polls_until_finished(auth_client, db):
    with db.unit_of_work() as s:
        job = jobs.submit_job(s, SYSTEM, "test.page")
    html = (await auth_client.get(f"/jobs/{job.id}", headers=HTML)).text
    assert "排队中" in html and 'hx-trigger="every 1s"' in html
    fragment = await auth_client.get(f"/jobs/{job.id}", headers={**HTML, "hx-request": "true"})
    assert fragment.text.lstrip().startswith('<div id="job-progress"')
    assert "<html" not in fragment.text


async def test_jobs_page_lists_the_timetables(auth_client, session):
    from domain.jobs.schedule import ensure_schedule

    ensure_schedule(session, name="daily_score", kind="test.page", daily_at="02:00")
    session.commit()
    html = (await auth_client.get("/jobs", headers=HTML)).text
    assert "定时任务" in html and "daily_score" in html and "每天 02:00" in html


async def test_jobs_are_named_in_chinese_for_every_kind_the_product_registers(auth_client, session):
    import domain.demo.service  # each of these registers its job kinds
    import domain.supervision.imports  # noqa: F401
    import ml.jobs  # noqa: F401
    from domain.jobs.models import Job
    from web.templating import JOB_KIND_NAMES

    product_kinds = {k for k in jobs.registered_kinds() if not k.startswith("test.")}
    assert product_kinds <= set(JOB_KIND_NAMES), product_kinds - set(JOB_KIND_NAMES)
    session.add(Job(kind="supervision.import", params={}, status="succeeded", created_by_name="admin"))
    session.add(Job(kind="train", params={}, status="failed", created_by_name="admin"))
    session.commit()
    html = (await auth_client.get("/jobs", headers=HTML)).text
    assert "数据导入" in html and "模型训练" in html
    assert "supervision.import" not in html and ">train<" not in html


async def test_a_finished_job_shows_its_status_and_result_in_chinese_not_json(auth_client, session):
    job = Job(kind="supervision.import", params={}, status="succeeded", created_by_name="admin", message="done",
              result={"batch_id": 7, "kind": "entities", "status": "rejected", "received": 4, "accepted": 0,
                      "rejected": 4, "encoding": "utf-8"})
    session.add(job)
    session.commit()
    html = (await auth_client.get(f"/jobs/{job.id}", headers=HTML)).text
    assert "已完成" in html and "done" not in html
    assert "导入批次" in html and 'href="/batches/7"' in html and "全部拒收" in html and "监管对象" in html
    assert "拒收</dt>" in html and '"batch_id"' not in html and "{" not in html[html.index('id="job-result"'):]
