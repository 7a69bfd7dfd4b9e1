/*
 * An entity's score over past runs, drawn with the vendored ECharts from
 * <script type="application/json" id="score-history-data"> (CSP forbids inline scripts).
 * Works on the entity risk page and in the panel the entity page loads with htmx (scripts may arrive late there).
 */
(function () {
  "use strict";
  function draw(attempt) {
    var holder = document.querySelector('[data-chart="score-history"]');
    var source = document.getElementById("score-history-data");
    if (!holder || !source || holder.dataset.drawn) { return; }
    if (!window.echarts) {
      if ((attempt || 0) < 40) { setTimeout(function () { draw((attempt || 0) + 1); }, 50); }
      return;
    }
    holder.dataset.drawn = "1";
    var d = JSON.parse(source.textContent || "{}");
    var chart = window.echarts.init(holder);
    chart.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      xAxis: { type: "category", data: d.dates || [] },
      yAxis: { type: "value", min: 0, max: 1 },
      // one run is one point: a line of one point draws nothing visible, a scatter point does
      series: [{ name: "风险评分", type: (d.scores || []).length === 1 ? "scatter" : "line", data: d.scores || [],
                 symbolSize: (d.scores || []).length === 1 ? 10 : 6 }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (window.rwScoreHistory) { draw(0); return; }
  window.rwScoreHistory = true;
  document.addEventListener("DOMContentLoaded", function () { draw(0); });
  document.addEventListener("htmx:afterSettle", function () { draw(0); });
  if (document.readyState !== "loading") { draw(0); }
})();
