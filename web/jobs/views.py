"""Background jobs (后台任务): the list with the timetables, and one job's progress and result in words."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.identity.actor import Actor
from domain.jobs import service as jobs
from domain.jobs.models import Job, JobSchedule
from domain.jobs.schedule import list_schedules
from web.common import read
from web.jobs.results import result_rows
from web.templating import render

__all__ = ["routes"]


def _list_data(session: Session, actor: Actor) -> tuple[list[Job], list[JobSchedule]]:
    """The recent jobs and the timetables, in one unit of work."""
    return jobs.list_jobs(session, actor), list_schedules(session)


async def job_list(request: Request) -> Response:
    rows, schedules = await read(request, _list_data)
    return render(request, "jobs/jobs.html", {"jobs": rows, "schedules": schedules, "active": "jobs",
                                              "page_title": "后台任务"}, block="job_table")


async def job_detail(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    job = await read(request, jobs.get_job, job_id)
    return render(request, "jobs/job.html", {"job": job, "results": result_rows(job.result), "active": "jobs",
                                             "page_title": f"任务 {job_id}"}, block="progress")


routes = [
    Route("/jobs", job_list),
    Route("/jobs/{job_id:int}", job_detail),
]
