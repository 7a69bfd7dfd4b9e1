/*
 * Statistics dashboard charts, drawn with the vendored ECharts from
 * <script type="application/json" id="stats-chart-data"> (CSP forbids inline scripts).
 * Each chart goes into an element with data-stats-chart="<key>"; clicking a bar, slice or point opens the
 * matching filtered warnings list (the row's url).
 */
(function () {
  "use strict";

  var PALETTE = ["#1565c0", "#f47b20", "#2e7d32", "#c62828", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037"];

  function pointColour(c, i) {
    return (c.colours && c.colours[i]) || undefined;
  }

  function valueAxis(percent) {
    return { type: "value", axisLabel: { formatter: percent ? "{value}%" : "{value}" },
             splitLine: { lineStyle: { color: "#eef1f5" } } };
  }

  function barSeries(c, horizontal) {
    return c.series.map(function (s, k) {
      return { name: s.name, type: "bar", barMaxWidth: 28,
               data: s.data.map(function (v, i) {
                 var colour = c.series.length === 1 ? pointColour(c, i) : undefined;
                 return { value: v, url: c.urls[i], itemStyle: colour ? { color: colour } : undefined };
               }),
               itemStyle: { color: c.series.length > 1 ? PALETTE[k % PALETTE.length] : PALETTE[0] },
               label: { show: c.categories.length <= 12, position: horizontal ? "right" : "top",
                        formatter: c.percent[k] ? "{c}%" : "{c}" } };
    });
  }

  var BUILDERS = {
    pie: function (c) {
      var s = c.series[0];
      return { tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" }, legend: { bottom: 0, type: "scroll" },
               series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
                          label: { formatter: "{b}\n{c}" },
                          data: c.categories.map(function (name, i) {
                            var colour = pointColour(c, i);
                            return { name: name, value: s.data[i], url: c.urls[i],
                                     itemStyle: colour ? { color: colour } : undefined };
                          }) }] };
    },
    bar: function (c) {
      var anyPct = c.percent.some(function (p) { return p; });
      return { tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
               legend: c.series.length > 1 ? { top: 0 } : undefined,
               grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
               xAxis: { type: "category", data: c.categories, axisLabel: { interval: 0, rotate: c.categories.length > 6 ? 30 : 0 } },
               yAxis: valueAxis(anyPct), series: barSeries(c, false) };
    },
    hbar: function (c) {
      var cats = c.categories.slice().reverse();
      var rev = { categories: cats, urls: c.urls.slice().reverse(), colours: (c.colours || []).slice().reverse(),
                  percent: c.percent, series: c.series.map(function (s) {
                    return { name: s.name, data: s.data.slice().reverse() }; }) };
      return { tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
               grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
               xAxis: valueAxis(false), yAxis: { type: "category", data: cats, axisLabel: { interval: 0 } },
               series: barSeries(rev, true) };
    },
    stacked: function (c) {
      var colours = { "红色": "#d32f2f", "橙色": "#f57c00", "黄色": "#fbc02d", "蓝色": "#1976d2" };
      return { tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: { top: 0 },
               grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
               xAxis: { type: "category", data: c.categories }, yAxis: valueAxis(false),
               series: c.series.map(function (s) {
                 return { name: s.name, type: "bar", stack: "levels", barMaxWidth: 48,
                          itemStyle: { color: colours[s.name] },
                          data: s.data.map(function (v, i) { return { value: v, url: c.urls[i] }; }) };
               }) };
    },
    line: function (c) {
      return { tooltip: { trigger: "axis" }, legend: { top: 0 },
               grid: { left: 8, right: 32, top: 32, bottom: 8, containLabel: true },  // room for the last label
               xAxis: { type: "category", data: c.categories, boundaryGap: false }, yAxis: valueAxis(false),
               series: c.series.map(function (s, k) {
                 return { name: s.name, type: "line", symbolSize: 6, itemStyle: { color: PALETTE[k] },
                          data: s.data.map(function (v, i) { return { value: v, url: c.urls[i] }; }) };
               }) };
    }
  };

  function draw() {
    if (!window.echarts) { return; }
    var el = document.getElementById("stats-chart-data");
    if (!el) { return; }
    var data;
    try { data = JSON.parse(el.textContent); } catch (e) { return; }
    document.querySelectorAll("[data-stats-chart]").forEach(function (node) {
      var key = node.getAttribute("data-stats-chart");
      var c = data[key];
      if (!c || node.getAttribute("data-drawn") === "1") { return; }
      var build = BUILDERS[c.kind] || BUILDERS.bar;
      var chart = window.echarts.init(node, null, { renderer: "canvas" });
      chart.setOption(Object.assign({ animation: false }, build(c)));
      chart.on("click", function (p) {
        var url = p.data && p.data.url;
        if (url) { window.location.assign(url); }
      });
      node.setAttribute("data-drawn", "1");
    });
  }

  function resizeAll() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-stats-chart][data-drawn='1']").forEach(function (node) {
      var chart = window.echarts.getInstanceByDom(node);
      if (chart) { chart.resize(); }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", resizeAll);
})();
