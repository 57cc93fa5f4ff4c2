/* Supervision above the county (Apache ECharts, served locally): the trend of reports and
   on-time rate, and the counties on a map coloured by the chosen measure. The figures come in
   a JSON script tag; the boundaries are a static GeoJSON file matched to tenants by division
   code. Clicking a county opens its row and trend. After drawing, the map says how many
   shapes it drew (data-drawn) and how many of them are tenants (data-tenants-drawn). */
(function () {
  "use strict";
  var source = document.getElementById("supervision-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var locale = document.documentElement.lang === "en" ? "EN" : "ZH";
  var BRAND = "#b3261e", QUIET = "#c9d3de", CHOSEN = "#1a73e8";
  var charts = [];

  function countyName(params) { return (params.data && params.data.county) || ""; }
  function percent(value) { return value === null || value === undefined ? "—" : value + "%"; }

  function drawTrend(box) {
    var text = data.text;
    var series = [
      { name: text.reported + " · " + text.scope, type: "bar", data: data.scope.reported, itemStyle: { color: QUIET }, barMaxWidth: 18 },
      { name: text.on_time_rate + " · " + text.scope, type: "line", yAxisIndex: 1, data: data.scope.on_time_rate,
        connectNulls: true, symbolSize: 4, itemStyle: { color: BRAND } }
    ];
    if (data.chosen) {
      series.push({ name: text.reported + " · " + data.chosen.name, type: "bar", data: data.chosen.reported,
                    itemStyle: { color: CHOSEN }, barMaxWidth: 18 });
      series.push({ name: text.on_time_rate + " · " + data.chosen.name, type: "line", yAxisIndex: 1,
                    data: data.chosen.on_time_rate, connectNulls: true, symbolSize: 4,
                    lineStyle: { type: "dashed" }, itemStyle: { color: CHOSEN } });
    }
    var chart = echarts.init(box, null, { renderer: "svg", locale: locale });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 44, right: 48, top: 40, bottom: 28 },
      xAxis: { type: "category", data: data.days.map(function (day) { return day.slice(5); }) },
      yAxis: [{ type: "value", minInterval: 1 },
              { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }],
      series: series
    });
    charts.push(chart);
    box.dataset.rendered = "1";
  }

  function drawMap(box) {
    var map = data.map, text = data.text;
    fetch(map.boundaries, { credentials: "same-origin" }).then(function (answer) {
      if (!answer.ok) throw new Error(answer.status);
      return answer.json();
    }).then(function (geo) {
      var features = geo.features.filter(function (f) { return !map.city || f.properties.city === map.city; });
      echarts.registerMap("supervision", { type: "FeatureCollection", features: features });
      var byCode = {};
      map.tenants.forEach(function (tenant) { byCode[tenant.code] = tenant; });
      var values = [], ours = 0;
      var rows = features.map(function (f) {
        var tenant = byCode[f.properties.code];
        if (tenant) ours += 1;
        var value = tenant && tenant.value !== null ? tenant.value : "-";
        if (value !== "-") values.push(value);
        // Tenants' counties carry their names; the others stay quiet (89 names would not fit).
        return { name: f.properties.code, value: value, county: f.properties.name, tenant: tenant || null,
                 label: { show: !!tenant } };
      });
      var low = values.length ? Math.min.apply(null, values) : 0, high = values.length ? Math.max.apply(null, values) : 1;
      if (low === high) { high = low + 1; }
      var chart = echarts.init(box, null, { renderer: "svg", locale: locale });
      chart.on("finished", function () {
        box.dataset.drawn = String(features.length);
        box.dataset.tenantsDrawn = String(ours);
      });
      chart.setOption({
        animation: false,
        tooltip: {
          trigger: "item",
          formatter: function (params) {
            var row = params.data || {};
            var name = row.tenant ? row.tenant.name : (row.county || params.name);
            if (!row.tenant || row.value === "-") return name + "<br>" + text.no_data;
            var shown = map.percent ? percent(row.value) : row.value;
            return name + "<br>" + text.measure + ": " + shown + (row.tenant.rank ? "<br>" + text.rank + ": " + row.tenant.rank : "");
          }
        },
        visualMap: {
          min: low, max: high, left: 8, bottom: 8, itemHeight: 90, calculable: false, precision: map.percent ? 1 : 0,
          text: [String(high) + (map.percent ? "%" : ""), String(low) + (map.percent ? "%" : "")],
          inRange: { color: map.higher_is_better ? ["#d93025", "#f6b26b", "#1e8e3e"] : ["#1e8e3e", "#f6b26b", "#d93025"] }
        },
        series: [{
          type: "map", map: "supervision", nameProperty: "code", roam: true, selectedMode: false,
          layoutCenter: ["55%", "50%"], layoutSize: "100%",
          data: rows,
          itemStyle: { areaColor: "#e3e7eb", borderColor: "#ffffff", borderWidth: 0.6 },
          label: { show: false, fontSize: 11, color: "#1f2933", formatter: countyName },
          emphasis: { label: { show: true, formatter: countyName }, itemStyle: { borderColor: "#333", borderWidth: 1 } }
        }]
      });
      chart.on("click", function (params) {
        if (params.data && params.data.tenant && params.data.tenant.url) window.location.href = params.data.tenant.url;
      });
      charts.push(chart);
    }).catch(function () {
      box.dataset.drawn = "0";
      box.textContent = box.dataset.textFailed || "";
    });
  }

  var trend = document.querySelector("[data-supervision-trend]");
  if (trend) drawTrend(trend);
  var map = document.querySelector("[data-supervision-map]");
  if (map) drawMap(map);
  var measure = document.querySelector("[data-measure]");
  if (measure && measure.form) measure.addEventListener("change", function () { measure.form.submit(); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
