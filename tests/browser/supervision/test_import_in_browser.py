"""A person uploads a GBK-encoded CSV with bad rows in Chromium and reads the per-row errors."""

from __future__ import annotations

import pytest

from domain.jobs.runner import JobRunner
from tests.domain.identity.factories import PASSWORD
from tests.domain.supervision.factories import seed_basics, uscc

pytestmark = pytest.mark.browser


async def test_uploading_a_gbk_csv_with_bad_rows_shows_each_rows_error(page, live_server, db, session, admin_user,
                                                                      tmp_path):
    seed_basics(session)
    rows = [
        "行为编号,行为类别,监管事项编码,实施部门编码,统一社会信用代码,开始日期,决定日期,结果,执法人员",
        f"B-1,检查,320500-SCJG-JC-001,SZ-SCJG,{uscc(0)},2025-03-01,2025-03-02,合格,张三",
        f"B-2,检查,320500-SCJG-JC-001,SZ-SCJG,{uscc(1)},2025-03-05,2025-03-01,合格,李四",
        f"B-3,抽查,320500-SCJG-JC-001,SZ-SCJG,{uscc(2)},2025-03-05,,合格,王五",
        f"B-4,检查,320500-SCJG-JC-001,SZ-SCJG,{uscc(2)[:17]}I,2025-03-05,,合格,赵六",
        f"B-5,检查,320500-SCJG-JC-001,SZ-SCJG,{uscc(2)},2025-03-06,,不合格,钱七",
    ]
    path = tmp_path / "监管行为-部门导出.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))

    runner = JobRunner(db, poll_seconds=0.1)
    runner.start()
    try:
        await page.goto(f"{live_server}/imports")
        await page.fill("#username", "admin")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#import-form")
        await page.select_option("#import-kind", "actions")
        await page.select_option("#import-source", "SCJG-SYS")
        await page.set_input_files("#import-file", str(path))
        await page.click("#import-form button[type=submit]")
        summary = page.locator("#import-summary")
        await summary.wait_for(timeout=30000)  # the progress card polls until the job is done
        assert "共 5 条" in await summary.inner_text()
        assert "接收 2" in await summary.inner_text() and "拒收 3" in await summary.inner_text()
        assert "部分接收" in await summary.inner_text()
        await page.screenshot(path=str(tmp_path / "import-done.png"))
        await page.click("text=查看批次与错误明细")
        await page.wait_for_selector("#error-table")
        rows_shown = await page.locator("#error-table tbody tr").all_inner_texts()
    finally:
        runner.stop()
    assert len(rows_shown) == 3  # rows as the spreadsheet numbers them: the header is row 1
    assert "第 3 行" in rows_shown[0] and "decided_on" in rows_shown[0] and "早于开始日期" in rows_shown[0]
    assert "第 4 行" in rows_shown[1] and "“抽查”不是有效值" in rows_shown[1]
    assert "第 5 行" in rows_shown[2] and "不在统一社会信用代码字符集中" in rows_shown[2]
    assert "监管行为-部门导出.csv" in await page.locator("main").inner_text()
    await page.screenshot(path=str(tmp_path / "batch-errors.png"), full_page=True)
