/* Dashboard charts (Apache ECharts, served locally). The figures come in a JSON script tag;
   clicking a bar, a slice or a point opens the cases behind it. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var LIGHT = { red: "#d93025", yellow: "#f2a600", green: "#1e8e3e" };
  var BRAND = "#b3261e";
  var charts = [];

  function open(rows) { return function (params) { var row = rows[params.dataIndex]; if (row && row.url) window.location.href = row.url; }; }

  function bar(rows, horizontal, colors) {
    var labels = rows.map(function (r) { return r.label; }), values = rows.map(function (r, i) {
      return colors ? { value: r.value, itemStyle: { color: colors[i] } } : r.value;
    });
    var category = { type: "category", data: labels, axisLabel: { interval: 0, width: 110, overflow: "truncate" } };
    var value = { type: "value", minInterval: 1 };
    return {
      grid: { left: horizontal ? 120 : 40, right: 16, top: 16, bottom: 30, containLabel: !horizontal },
      tooltip: { trigger: "axis" },
      xAxis: horizontal ? value : category, yAxis: horizontal ? Object.assign(category, { inverse: true }) : value,
      series: [{ type: "bar", data: values, itemStyle: { color: BRAND }, barMaxWidth: 28 }]
    };
  }
  function pie(rows) {
    return {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      series: [{ type: "pie", radius: ["38%", "68%"], data: rows.map(function (r) { return { name: r.label, value: r.value }; }),
                 label: { formatter: "{b}\n{c}" } }]
    };
  }
  function line(rows) {
    return {
      grid: { left: 40, right: 16, top: 16, bottom: 30 }, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: rows.map(function (r) { return r.label.slice(5); }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "line", smooth: true, areaStyle: { opacity: 0.12 }, itemStyle: { color: BRAND }, data: rows.map(function (r) { return r.value; }) }]
    };
  }
  var builders = {
    volume: line,
    by_category: pie,
    by_source: pie,
    by_grid: function (rows) { return bar(rows, true); },
    top_problems: function (rows) { return bar(rows, true); },
    lights: function (rows) { return bar(rows, false, rows.map(function (r) { return LIGHT[r.filter.light]; })); }
  };
  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var key = box.dataset.chart, rows = data[key] || [];
    if (!rows.length) { box.hidden = true; return; }
    var chart = echarts.init(box, null, { renderer: "svg", locale: document.documentElement.lang === "en" ? "EN" : "ZH" });
    chart.setOption(Object.assign({ animation: false }, builders[key](rows)));
    chart.on("click", open(rows));
    charts.push(chart);
    box.dataset.rendered = "1";
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
