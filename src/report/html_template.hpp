// Static parts of the HTML report. The script reads the inline JSON (#cgprof-data), draws one
// SVG chart per group of series, and records what it drew in #cgprof-status so a headless
// browser test can check every series was drawn and no script error happened.
#pragma once

namespace cgprof::report {

inline constexpr const char* kHtmlHead = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="cgprof">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<script>
window.__cgprofErrors = [];
window.addEventListener('error', function (e) {
  window.__cgprofErrors.push(String(e.message) + ' at ' + e.filename + ':' + e.lineno);
});
(function () {
  var orig = console.error;
  console.error = function () {
    window.__cgprofErrors.push(Array.prototype.join.call(arguments, ' '));
    if (orig) orig.apply(console, arguments);
  };
})();
</script>
)HTML";

inline constexpr const char* kHtmlStyleAndBody = R"HTML(<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .3em 0; }
h2 { font-size: 1.15em; margin: 1.4em 0 .4em 0; border-bottom: 1px solid #ddd; }
h3 { font-size: 1em; margin: 1em 0 .3em 0; }
.chart { margin: .4em 0 1.2em 0; }
.chart svg { display: block; background: #fcfcfc; border: 1px solid #e4e4e4; }
.chart .empty { color: #888; font-style: italic; }
.legend { font-size: 12px; margin-top: .3em; }
.legend span.item { margin-right: 1.2em; white-space: nowrap; }
.legend svg { vertical-align: middle; border: none; background: none; display: inline; }
.axis text { font-size: 11px; fill: #555; }
.axis line, .axis path { stroke: #bbb; }
.grid line { stroke: #eee; }
pre.summary { background: #f6f6f6; padding: .6em; overflow-x: auto; font-size: 12px; }
table.meta { border-collapse: collapse; font-size: 12px; }
table.meta td { border-bottom: 1px solid #eee; padding: 2px 8px; vertical-align: top; }
table.meta td:first-child { color: #666; white-space: nowrap; }
table.phases { border-collapse: collapse; font-size: 12px; margin-bottom: 1em; }
table.phases th, table.phases td { border-bottom: 1px solid #eee; padding: 2px 8px; text-align: right; }
table.phases th:first-child, table.phases td:first-child { text-align: left; }
.phase-legend span.item { margin-right: 1em; }
#cgprof-readout { font-size: 12px; color: #333; min-height: 1.4em; }
</style>
</head>
<body>
<h1 id="title">cgprof report</h1>
<div id="runs-legend" class="legend"></div>
<h2>Time series</h2>
<div id="cgprof-readout"></div>
<div id="phase-legend" class="legend phase-legend"></div>
<div id="charts"></div>
<h2>Phases</h2>
<div id="phases"></div>
<h2>Summary</h2>
<div id="summaries"></div>
<h2>Run metadata</h2>
<div id="metadata"></div>
<pre id="cgprof-status" hidden></pre>
)HTML";

inline constexpr const char* kHtmlScript = R"HTML(<script>
(function () {
'use strict';
var status = { ok: false, charts: [], errors: window.__cgprofErrors };
var SVGNS = 'http://www.w3.org/2000/svg';
var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2',
              '#17becf', '#7f7f7f', '#bcbd22'];
var CHARTS = [
  { id: 'cpu', title: 'CPU use in cores, against the quota (band: min to max)', unit: 'cores',
    series: [{ key: 'cpu_cores', label: 'used', dash: '' }],
    limit: { key: 'quota_cores', label: 'quota' } },
  // Gauges: the axis reaches the peak; a limit far above it is named, not drawn.
  { id: 'memory', title: 'Memory (with memory.max)', unit: 'bytes', range: 'hi',
    series: [{ key: 'memory_current', label: 'current', dash: '' },
             { key: 'memory_anon', label: 'anon', dash: '6 3' },
             { key: 'memory_file', label: 'file', dash: '2 2' }],
    limit: { key: 'memory_max', label: 'memory.max', offScaleAbove: 3 } },
  { id: 'io', title: 'Block I/O', unit: 'B/s',
    series: [{ key: 'io_read_bps', label: 'read', dash: '' },
             { key: 'io_write_bps', label: 'write', dash: '6 3' }] },
  { id: 'throttling', title: 'CPU throttling (% of CFS periods throttled)', unit: '%', max: 100,
    series: [{ key: 'throttled_periods_percent', label: 'throttled periods', dash: '' }] },
  { id: 'pressure', title: 'Pressure stall "some" (% of time)', unit: '%', max: 100,
    series: [{ key: 'cpu_some_percent', label: 'cpu', dash: '' },
             { key: 'memory_some_percent', label: 'memory', dash: '6 3' },
             { key: 'io_some_percent', label: 'io', dash: '2 2' }] },
  { id: 'pids', title: 'Processes', unit: 'count', range: 'hi',
    series: [{ key: 'pids', label: 'pids.current', dash: '' }] }
];
var PHASE_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#edc948',
                    '#ff9da7', '#9c755f', '#bab0ac'];
var phaseColor = {};  // phase name -> color, shared by every chart and run
function colorOfPhase(name) {
  if (!(name in phaseColor))
    phaseColor[name] = PHASE_COLORS[Object.keys(phaseColor).length % PHASE_COLORS.length];
  return phaseColor[name];
}
var W = 960, H = 240, ML = 78, MR = 16, MT = 10, MB = 32;

function el(name, attrs, parent) {
  var e = document.createElementNS(SVGNS, name);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function html(tag, text, parent, cls) {
  var e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}
function trim(x) { return String(Number(x.toPrecision(4))); }
// Axis scale: binary prefixes for bytes so ticks land on round MiB/GiB.
function scaleFor(unit, max) {
  if (unit === 'bytes' || unit === 'B/s') {
    var names = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0, f = 1;
    while (max / f >= 1024 && i < names.length - 1) { f *= 1024; i++; }
    return { factor: f, suffix: ' ' + names[i] + (unit === 'B/s' ? '/s' : '') };
  }
  return { factor: 1, suffix: unit === '%' ? '%' : unit === 'count' ? '' : ' ' + unit };
}
function fmt(v, unit) {
  if (v === null || v === undefined || isNaN(v)) return 'n/a';
  var s = scaleFor(unit, Math.abs(v));
  return trim(v / s.factor) + s.suffix;
}
function niceStep(range, n) {
  var raw = range / n, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}
function hasData(arr) {
  if (!arr) return false;
  for (var i = 0; i < arr.length; i++) if (arr[i] !== null) return true;
  return false;
}

function drawChart(spec, runs, parent) {
  var box = html('div', null, parent, 'chart');
  box.id = 'chart-' + spec.id;
  html('h3', spec.title, box);
  var st = { id: spec.id, expected: 0, drawn: 0, points: 0, limits: 0, offScale: 0,
             envelopes: 0, bands: 0 };
  var tmax = 0, ymax = 0;
  runs.forEach(function (r) {
    if (r.t.length) tmax = Math.max(tmax, r.t[r.t.length - 1]);
    r.phases.spans.forEach(function (p) { tmax = Math.max(tmax, p[2]); });
    spec.series.forEach(function (s) {
      var a = r.tracks[s.key];
      if (!hasData(a)) return;
      st.expected++;
      // Rates scale to their mean line (spikes stay in the clipped band), gauges to their peak.
      if (spec.range === 'hi' && r.hi) a = r.hi[s.key];
      for (var i = 0; i < a.length; i++) if (a[i] !== null && a[i] > ymax) ymax = a[i];
    });
  });
  var dataMax = ymax;
  runs.forEach(function (r) {
    if (!spec.limit) return;
    var lim = r[spec.limit.key];
    if (lim === null || lim === undefined) return;
    if (spec.limit.offScaleAbove && dataMax > 0 && lim > spec.limit.offScaleAbove * dataMax) return;
    ymax = Math.max(ymax, lim);
  });
  if (spec.max) ymax = Math.min(ymax, spec.max);
  if (st.expected === 0) {
    html('div', 'no data: this group was not sampled in ' +
         (runs.length > 1 ? 'these runs' : 'this run'), box, 'empty');
    st.empty = true;
    return st;
  }
  if (!(tmax > 0)) tmax = 1;
  if (!(ymax > 0)) ymax = 1;
  var sc = scaleFor(spec.unit, ymax);
  var step = niceStep(ymax / sc.factor, 5) * sc.factor;
  var ytop = Math.ceil(ymax * 1.05 / step) * step;
  var xstep = niceStep(tmax, 8);
  var pw = W - ML - MR, ph = H - MT - MB;
  function X(t) { return ML + t / tmax * pw; }
  function Y(v) { return MT + ph - v / ytop * ph; }
  var svg = el('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H,
                        'data-chart': spec.id, role: 'img' }, box);
  el('title', {}, svg).textContent = spec.title;
  var grid = el('g', { 'class': 'grid' }, svg), axis = el('g', { 'class': 'axis' }, svg);
  for (var v = 0; v <= ytop + step / 2; v += step) {
    el('line', { x1: ML, x2: W - MR, y1: Y(v), y2: Y(v) }, grid);
    el('text', { x: ML - 6, y: Y(v) + 4, 'text-anchor': 'end' }, axis).textContent =
        trim(v / sc.factor) + sc.suffix;
  }
  for (var t = 0; t <= tmax + xstep / 2; t += xstep) {
    el('line', { x1: X(t), x2: X(t), y1: MT + ph, y2: MT + ph + 4 }, axis);
    el('text', { x: X(t), y: H - 10, 'text-anchor': 'middle' }, axis).textContent = trim(t) + ' s';
  }
  el('line', { x1: ML, x2: W - MR, y1: MT + ph, y2: MT + ph }, axis);
  el('line', { x1: ML, x2: ML, y1: MT, y2: MT + ph }, axis);
  var clipId = 'clip-' + spec.id;
  el('rect', { x: ML, y: MT, width: pw, height: ph }, el('clipPath', { id: clipId }, svg));
  var plot = el('g', { 'clip-path': 'url(#' + clipId + ')' }, svg);
  // Phase bands behind the data, one per occurrence.
  runs.forEach(function (r, ri) {
    r.phases.spans.forEach(function (p) {
      var name = r.phases.names[p[0]];
      var x0 = X(p[1]), w = Math.max(1, X(p[2]) - x0);
      var band = el('rect', { x: x0, y: MT, width: w, height: ph, fill: colorOfPhase(name),
                              'fill-opacity': 0.13, 'class': 'phase-band', 'data-run': ri,
                              'data-phase': name }, plot);
      el('title', {}, band).textContent = name + ': ' + trim(p[2] - p[1]) + ' s';
      // Back-to-back occurrences of one phase stay apart: a thin edge where each starts.
      el('line', { x1: x0, x2: x0, y1: MT, y2: MT + ph, stroke: colorOfPhase(name),
                   'stroke-opacity': 0.7, 'stroke-width': 1 }, plot);
      st.bands++;
    });
  });
  runs.forEach(function (r, ri) {
    var color = COLORS[ri % COLORS.length];
    if (spec.limit) {
      var lim = r[spec.limit.key];
      if (lim !== null && lim !== undefined && lim > ytop) {
        el('text', { x: W - MR - 4, y: MT + 12, 'text-anchor': 'end', fill: color,
                     'font-size': 11, 'class': 'limit-offscale' }, svg).textContent =
            spec.limit.label + ' ' + fmt(lim, spec.unit) + ' (above the chart)';
        st.offScale++;
      } else if (lim !== null && lim !== undefined) {
        el('line', { x1: ML, x2: W - MR, y1: Y(lim), y2: Y(lim), stroke: color,
                     'stroke-width': 1.5, 'stroke-dasharray': '10 4 2 4', 'class': 'limit',
                     'data-run': ri }, svg);
        el('text', { x: W - MR - 4, y: Y(lim) - 4, 'text-anchor': 'end', fill: color,
                     'font-size': 11 }, svg).textContent = spec.limit.label + ' ' +
            fmt(lim, spec.unit);
        st.limits++;
      }
    }
    spec.series.forEach(function (s) {
      var a = r.tracks[s.key];
      if (!hasData(a)) return;
      // The min/max envelope of a long run: one filled shape per stretch without gaps.
      var lo = r.lo && r.lo[s.key], hi = r.hi && r.hi[s.key];
      if (lo && hi && s.dash === '') {
        var env = '', run0 = -1;
        for (var k = 0; k <= a.length; k++) {
          var gap = k === a.length || lo[k] === null || hi[k] === null;
          if (!gap && run0 < 0) run0 = k;
          if (gap && run0 >= 0) {
            var top = [], bottom = [];
            for (var m = run0; m < k; m++) {
              top.push(X(r.t[m]).toFixed(1) + ' ' + Y(Math.min(hi[m], ytop)).toFixed(1));
              bottom.unshift(X(r.t[m]).toFixed(1) + ' ' + Y(lo[m]).toFixed(1));
            }
            env += 'M' + top.join('L') + 'L' + bottom.join('L') + 'Z';
            run0 = -1;
          }
        }
        el('path', { d: env, fill: color, 'fill-opacity': 0.18, stroke: 'none',
                     'class': 'envelope', 'data-run': ri, 'data-track': s.key }, plot);
        st.envelopes++;
      }
      var d = '', pen = false, n = 0;
      for (var i = 0; i < a.length && i < r.t.length; i++) {
        if (a[i] === null) { pen = false; continue; }
        d += (pen ? 'L' : 'M') + X(r.t[i]).toFixed(1) + ' ' + Y(a[i]).toFixed(1);
        pen = true;
        n++;
      }
      if (n === 1) d += 'h1';  // a lone point still shows as a dot
      el('path', { d: d, fill: 'none', stroke: color, 'stroke-width': 1.4,
                   'stroke-dasharray': s.dash, 'stroke-linejoin': 'round', 'class': 'series',
                   'data-run': ri, 'data-track': s.key, 'data-points': n }, plot);
      st.drawn++;
      st.points += n;
    });
  });
  // Hover readout: values of every series at the time under the pointer.
  var cursor = el('line', { y1: MT, y2: MT + ph, stroke: '#999', 'stroke-width': 1,
                            visibility: 'hidden' }, svg);
  svg.addEventListener('mousemove', function (ev) {
    var rect = svg.getBoundingClientRect();
    var px = (ev.clientX - rect.left) * W / rect.width;
    var t = (px - ML) / pw * tmax;
    if (t < 0 || t > tmax) return;
    cursor.setAttribute('x1', px); cursor.setAttribute('x2', px);
    cursor.setAttribute('visibility', 'visible');
    var parts = ['t = ' + trim(t) + ' s'];
    runs.forEach(function (r) {
      var lo = 0, hi = r.t.length - 1;
      if (hi < 0) return;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (r.t[mid] < t) lo = mid + 1; else hi = mid; }
      spec.series.forEach(function (s) {
        var a = r.tracks[s.key];
        if (hasData(a)) parts.push(r.name + ' ' + s.label + ': ' + fmt(a[lo], spec.unit));
      });
    });
    document.getElementById('cgprof-readout').textContent = spec.title + ' | ' + parts.join(' | ');
  });
  var legend = html('div', null, box, 'legend');
  spec.series.forEach(function (s) {
    var item = html('span', null, legend, 'item');
    var sw = el('svg', { width: 30, height: 10 }, item);
    el('line', { x1: 0, x2: 30, y1: 5, y2: 5, stroke: '#444', 'stroke-width': 2,
                 'stroke-dasharray': s.dash }, sw);
    item.appendChild(document.createTextNode(' ' + s.label));
  });
  if (spec.limit) {
    var li = html('span', null, legend, 'item');
    var lsw = el('svg', { width: 30, height: 10 }, li);
    el('line', { x1: 0, x2: 30, y1: 5, y2: 5, stroke: '#444', 'stroke-width': 1.5,
                 'stroke-dasharray': '10 4 2 4' }, lsw);
    li.appendChild(document.createTextNode(' ' + spec.limit.label));
  }
  return st;
}

// The per-phase tables and the color legend of the bands.
function drawPhases(runs) {
  var box = document.getElementById('phases'), rows = 0;
  var legend = document.getElementById('phase-legend');
  Object.keys(phaseColor).forEach(function (name) {
    var item = html('span', null, legend, 'item');
    var sw = el('svg', { width: 14, height: 14 }, item);
    el('rect', { width: 14, height: 14, fill: phaseColor[name], 'fill-opacity': 0.5 }, sw);
    item.appendChild(document.createTextNode(' ' + name));
  });
  function sec(v) {
    if (v === null || v === undefined) return '-';
    return v >= 1 ? v.toFixed(3) + ' s' : v >= 1e-3 ? (v * 1e3).toFixed(2) + ' ms'
                                       : (v * 1e6).toFixed(1) + ' us';
  }
  runs.forEach(function (r, i) {
    if (!r.phases.table.length) return;
    var h = html('h3', r.name, box);
    h.style.color = COLORS[i % COLORS.length];
    var table = html('table', null, box, 'phases');
    var head = html('tr', null, table);
    ['phase', 'count', 'open at exit', 'wall total', 'mean', 'p50', 'p90', 'p99', 'max',
     'CPU', 'peak memory'].forEach(function (c) { html('th', c, head); });
    r.phases.table.forEach(function (p) {
      var tr = html('tr', null, table);
      tr.className = 'phase-row';
      html('td', p[0], tr);
      html('td', String(p[1]), tr);
      html('td', String(p[2]), tr);
      for (var k = 3; k <= 8; k++) html('td', sec(p[k]), tr);
      html('td', sec(p[9]), tr);
      html('td', p[10] === null ? '-' : fmt(p[10], 'bytes'), tr);
      rows++;
    });
    if (r.phases.hidden)
      html('div', r.phases.hidden + ' more occurrences not drawn as bands', box, 'empty');
  });
  if (!rows) html('div', 'no phases marked ($CGPROF_MARK, --mark-regex)', box, 'empty');
  return rows;
}

try {
  var data = JSON.parse(document.getElementById('cgprof-data').textContent);
  var runs = data.runs;
  document.getElementById('title').textContent = 'cgprof report: ' +
      runs.map(function (r) { return r.name; }).join(', ');
  var rl = document.getElementById('runs-legend');
  runs.forEach(function (r, i) {
    var item = html('span', null, rl, 'item');
    var sw = el('svg', { width: 14, height: 14 }, item);
    el('rect', { width: 14, height: 14, fill: COLORS[i % COLORS.length] }, sw);
    item.appendChild(document.createTextNode(' ' + r.name));
  });
  var charts = document.getElementById('charts');
  CHARTS.forEach(function (spec) { status.charts.push(drawChart(spec, runs, charts)); });
  status.phaseRows = drawPhases(runs);
  var sums = document.getElementById('summaries'), meta = document.getElementById('metadata');
  runs.forEach(function (r, i) {
    var h = html('h3', r.name, sums);
    h.style.color = COLORS[i % COLORS.length];
    html('pre', r.summary || '(no summary)', sums, 'summary');
    var mh = html('h3', r.name, meta);
    mh.style.color = COLORS[i % COLORS.length];
    var table = html('table', null, meta, 'meta');
    r.meta.forEach(function (kv) {
      var tr = html('tr', null, table);
      html('td', kv[0], tr);
      html('td', kv[1], tr);
    });
  });
  status.runs = runs.length;
  status.ok = true;
} catch (e) {
  window.__cgprofErrors.push('report script: ' + (e && e.stack ? e.stack : e));
}
status.ok = status.ok && window.__cgprofErrors.length === 0;
var se = document.getElementById('cgprof-status');
se.textContent = JSON.stringify(status);
document.documentElement.setAttribute('data-cgprof-status', status.ok ? 'ok' : 'error');
})();
</script>
</body>
</html>
)HTML";

}  // namespace cgprof::report
