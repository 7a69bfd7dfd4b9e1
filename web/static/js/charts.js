/*
 * Model charts (ROC, precision-recall, calibration, feature importance) drawn with the vendored ECharts.
 * Data comes from <script type="application/json" id="model-chart-data"> (CSP forbids inline scripts);
 * each chart goes into an element with data-chart="roc|pr|calibration|importance".
 */
(function () {
  "use strict";

  var AXIS = { type: "value", min: 0, max: 1, splitLine: { lineStyle: { color: "#eef1f5" } } };
  var DIAGONAL = { type: "line", data: [[0, 0], [1, 1]], symbol: "none", silent: true,
                   itemStyle: { color: "#adb5bd" }, lineStyle: { type: "dashed", color: "#adb5bd", width: 1 } };
  var PAIR = ["#1565c0", "#f47b20"];  // version A, version B: the same colours on every comparison chart

  function axis(name, extra) {
    var a = Object.assign({}, AXIS, { name: name, nameLocation: "middle", nameGap: 28 });
    return Object.assign(a, extra || {});
  }

  var BUILDERS = {
    roc: function (d) {
      var series = [Object.assign({ name: "随机" }, DIAGONAL),
        { name: "本模型", type: "line", data: d.roc, symbol: "none", smooth: false, areaStyle: { opacity: 0.08 } }];
      if (d.baselineRoc && d.baselineRoc.length) {
        series.push({ name: "基线", type: "line", data: d.baselineRoc, symbol: "none" });
      }
      return { tooltip: { trigger: "axis" }, legend: { top: 0 },
               xAxis: axis("假阳性率 FPR"), yAxis: axis("真阳性率 TPR"), series: series };
    },
    pr: function (d) {
      return { tooltip: { trigger: "axis" }, legend: { top: 0 }, xAxis: axis("召回率"), yAxis: axis("精确率"),
               series: [{ name: "本模型", type: "line", data: d.pr, symbol: "none", step: "end" }] };
    },
    calibration: function (d) {
      var max = 0;
      var before = d.calibrationBefore || [];
      d.calibration.concat(before).forEach(function (p) { max = Math.max(max, p[0], p[1]); });
      max = Math.min(1, Math.ceil(max * 10 + 0.5) / 10 || 1);
      return { tooltip: { trigger: "item", formatter: function (p) {
                 return "预测 " + p.value[0].toFixed(3) + "<br>实际 " + p.value[1].toFixed(3) +
                   (p.value[2] != null ? "<br>样本 " + p.value[2] : ""); } },
               legend: { top: 0 },
               xAxis: axis("平均预测值", { max: max }), yAxis: axis("实际发生率", { max: max }),
               series: [Object.assign({ name: "理想" }, DIAGONAL, { data: [[0, 0], [max, max]] }),
                        { name: before.length ? "校准后" : "本模型", type: "line", data: d.calibration, symbolSize: 8 }]
                 .concat(before.length ? [{ name: "校准前", type: "line", data: before, symbolSize: 6,
                                            lineStyle: { type: "dotted" } }] : []) };
    },
    "compare-roc": function (d) {
      return { tooltip: { trigger: "axis" }, legend: { top: 0 }, xAxis: axis("假阳性率 FPR"), yAxis: axis("真阳性率 TPR"),
               series: [Object.assign({ name: "随机" }, DIAGONAL)].concat(d["compare-roc"].map(function (c, i) {
                 return { name: c.name, type: "line", data: c.points, symbol: "none", itemStyle: { color: PAIR[i] } };
               })) };
    },
    "compare-pr": function (d) {
      return { tooltip: { trigger: "axis" }, legend: { top: 0 }, xAxis: axis("召回率"), yAxis: axis("精确率"),
               series: d["compare-pr"].map(function (c, i) {
                 return { name: c.name, type: "line", data: c.points, symbol: "none", step: "end",
                          itemStyle: { color: PAIR[i] } }; }) };
    },
    importance: function (d) {
      var rows = d.importance.slice().reverse();
      var labels = (window.RW_FEATURE_LABELS || {});
      return { tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
               grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
               xAxis: { type: "value" },
               yAxis: { type: "category", axisLabel: { interval: 0 },
                        data: rows.map(function (r) { return labels[r[0]] || r[0]; }) },
               series: [{ type: "bar", data: rows.map(function (r) { return r[1]; }), itemStyle: { color: "#1565c0" } }] };
    }
  };

  function readData(root) {
    var el = (root || document).querySelector("#model-chart-data") || document.getElementById("model-chart-data");
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function draw(root) {
    if (!window.echarts) { return; }
    var data = readData(root);
    if (!data) { return; }
    var labelsEl = document.getElementById("model-feature-labels");
    if (labelsEl) {
      try { window.RW_FEATURE_LABELS = JSON.parse(labelsEl.textContent); } catch (e) { /* keep names */ }
    }
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      var kind = el.getAttribute("data-chart");
      var build = BUILDERS[kind];
      if (!build || el.getAttribute("data-drawn") === "1") { return; }
      var rows = kind === "roc" ? data.roc : data[kind];
      if (!rows || !rows.length) {
        el.textContent = "此版本未记录该图表的数据。";
        el.classList.add("rw-chart-empty");
        return;
      }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(Object.assign({ animation: false, grid: { left: 48, right: 16, top: 32, bottom: 40 } },
                                    build(data)));
      el.setAttribute("data-drawn", "1");
    });
  }

  function resizeAll() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart][data-drawn='1']").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) { chart.resize(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function () { draw(document); });
  window.addEventListener("resize", resizeAll);
})();
