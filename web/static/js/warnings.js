/*
 * An entity's score over past runs, drawn with the vendored ECharts from
 * <script type="application/json" id="score-history-data"> (CSP forbids inline scripts).
 */
(function () {
  "use strict";
  function draw() {
    var holder = document.querySelector('[data-chart="score-history"]');
    var source = document.getElementById("score-history-data");
    if (!holder || !source || !window.echarts) { return; }
    var d = JSON.parse(source.textContent || "{}");
    var chart = window.echarts.init(holder);
    chart.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      xAxis: { type: "category", data: d.dates || [] },
      yAxis: { type: "value", min: 0, max: 1 },
      series: [{ name: "风险评分", type: "line", data: d.scores || [], symbolSize: 6 }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
