/*
 * Evaluation scorecard radar chart with the vendored ECharts; data from
 * <script type="application/json" id="evaluation-chart-data"> (CSP forbids inline scripts).
 */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("evaluation-chart-data");
    var el = document.querySelector('[data-chart="radar"]');
    if (!source || !el || !window.echarts) { return; }
    var d = JSON.parse(source.textContent);
    el.style.height = "360px";  // CSP forbids inline style attributes; CSSOM is allowed
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: {},
      radar: { indicator: d.indicators, radius: "62%", axisName: { color: "#333", fontSize: 11 } },
      series: [{ type: "radar", name: "得分率", data: [{ value: d.values, name: d.name, areaStyle: { opacity: 0.2 } }] }]
    });
    el.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
