/* exomir report: sortable/filterable tables and SVG plots (volcano, MA, ROC).
   Vanilla JavaScript, no library, no network. Data come from the JSON block
   #exomir-data; text is only ever inserted with textContent (never innerHTML),
   so sample names or miRNA names cannot inject markup. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("exomir-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var tip = document.getElementById("tooltip");
  var COLOURS = { up: "#d7301f", down: "#2b8cbe", ns: "#9e9e9e" };
  var LINE_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"];

  function svg(name, attrs, parent) {
    var node = document.createElementNS(SVGNS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function num(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) { return "NA"; }
    if (x !== 0 && Math.abs(x) < 1e-3) { return x.toExponential(2); }
    return Number(x.toPrecision(digits || 3)).toString();
  }

  /* ---------------------------------------------------------------- tooltip */
  function showTip(evt, lines) {
    while (tip.firstChild) { tip.removeChild(tip.firstChild); }
    lines.forEach(function (line, i) {
      var div = document.createElement("div");
      if (i === 0) { div.className = "tip-title"; }
      div.textContent = line;
      tip.appendChild(div);
    });
    tip.hidden = false;
    var x = evt.clientX + 14, y = evt.clientY + 14;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth) { x = evt.clientX - w - 14; }
    if (y + h > window.innerHeight) { y = evt.clientY - h - 14; }
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.hidden = true; }

  /* ---------------------------------------------------------------- tables */
  var tableState = {};

  function cellValue(row, col, numeric) {
    var v = row.cells[col].getAttribute("data-v");
    if (v === "" || v === null) { return null; }
    if (numeric) { var n = parseFloat(v); return isNaN(n) ? null : n; }
    return v.toLowerCase();
  }

  function sortTable(table, col, th) {
    var numeric = th.getAttribute("data-num") === "1";
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, col, numeric), y = cellValue(b, col, numeric);
      if (x === null && y === null) { return 0; }
      if (x === null) { return 1; }   /* missing values always last */
      if (y === null) { return -1; }
      if (x < y) { return -sign; }
      if (x > y) { return sign; }
      return 0;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function applyFilter(id) {
    var table = document.getElementById(id);
    var state = tableState[id];
    var text = state.text.trim().toLowerCase();
    var shown = 0, total = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      total += 1;
      var ok = (!text || row.textContent.toLowerCase().indexOf(text) !== -1) &&
               (!state.sigOnly || row.getAttribute("data-sig") === "1");
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    document.querySelectorAll('.count[data-table="' + id + '"]').forEach(function (span) {
      var unit = total === 1 ? " row" : " rows";
      span.textContent = shown === total ? total + unit : shown + " of " + total + unit;
      span.setAttribute("data-shown", String(shown));
    });
  }

  function initTables() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      tableState[table.id] = { text: "", sigOnly: false };
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
        th.tabIndex = 0;
        th.addEventListener("click", function () { sortTable(table, col, th); });
        th.addEventListener("keydown", function (e) {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(table, col, th); }
        });
      });
    });
    document.querySelectorAll("input.filter").forEach(function (input) {
      var id = input.getAttribute("data-table");
      input.addEventListener("input", function () { tableState[id].text = input.value; applyFilter(id); });
    });
    document.querySelectorAll("input.sigonly").forEach(function (box) {
      var id = box.getAttribute("data-table");
      box.addEventListener("change", function () { tableState[id].sigOnly = box.checked; applyFilter(id); });
    });
  }

  /* ---------------------------------------------------------------- plots */
  function ticks(lo, hi, n) {
    var span = hi - lo;
    if (!(span > 0)) { return [lo]; }
    var step = Math.pow(10, Math.floor(Math.log10(span / n)));
    var err = span / n / step;
    if (err >= 7.5) { step *= 10; } else if (err >= 3.5) { step *= 5; } else if (err >= 1.5) { step *= 2; }
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) { out.push(Math.abs(t) < step * 1e-9 ? 0 : t); }
    return out;
  }

  function frame(container, xlab, ylab, xr, yr) {
    var W = 480, H = 360, m = { l: 56, r: 14, t: 12, b: 44 };
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, "class": "chart", role: "img" }, container);
    var sx = function (x) { return m.l + (x - xr[0]) / (xr[1] - xr[0]) * (W - m.l - m.r); };
    var sy = function (y) { return H - m.b - (y - yr[0]) / (yr[1] - yr[0]) * (H - m.t - m.b); };
    var axes = svg("g", { "class": "axes" }, root);
    svg("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, "class": "plot-bg" }, axes);
    ticks(xr[0], xr[1], 6).forEach(function (t) {
      svg("line", { x1: sx(t), x2: sx(t), y1: m.t, y2: H - m.b, "class": "grid" }, axes);
      svg("text", { x: sx(t), y: H - m.b + 16, "text-anchor": "middle" }, axes).textContent = num(t);
    });
    ticks(yr[0], yr[1], 5).forEach(function (t) {
      svg("line", { x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t), "class": "grid" }, axes);
      svg("text", { x: m.l - 6, y: sy(t) + 4, "text-anchor": "end" }, axes).textContent = num(t);
    });
    svg("text", { x: (m.l + W - m.r) / 2, y: H - 8, "text-anchor": "middle", "class": "axis-label" }, axes).textContent = xlab;
    svg("text", { x: 14, y: (m.t + H - m.b) / 2, "text-anchor": "middle", "class": "axis-label",
                  transform: "rotate(-90 14 " + (m.t + H - m.b) / 2 + ")" }, axes).textContent = ylab;
    return { root: root, sx: sx, sy: sy, xr: xr, yr: yr };
  }

  function extent(values, pad) {
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (lo === hi) { lo -= 1; hi += 1; }
    var p = (hi - lo) * (pad || 0.05);
    return [lo - p, hi + p];
  }

  function scatter(container, contrast, kind) {
    var d = DATA.contrasts[contrast];
    var pts = [];
    d.points.forEach(function (p) {
      var x, y;
      if (kind === "volcano") {
        if (p.lfc === null || p.p === null) { return; }
        x = p.lfc; y = -Math.log10(Math.max(p.p, 1e-300));
      } else {
        if (p.lfc === null || p.bm === null || p.bm <= 0) { return; }
        x = Math.log10(p.bm); y = p.lfc;
      }
      pts.push({ x: x, y: y, p: p });
    });
    if (!pts.length) { container.textContent = "No points to plot."; return; }
    var xs = pts.map(function (q) { return q.x; }), ys = pts.map(function (q) { return q.y; });
    var xr = extent(xs), yr = extent(ys);
    if (kind === "volcano") { var a = Math.max(Math.abs(xr[0]), Math.abs(xr[1])); xr = [-a, a]; yr[0] = 0; }
    var f = kind === "volcano"
      ? frame(container, "log2 fold change (" + d.level + " / " + d.reference + ")", "-log10 p-value", xr, yr)
      : frame(container, "log10 mean normalised count", "log2 fold change", xr, yr);
    if (kind === "volcano") {
      svg("line", { x1: f.sx(0), x2: f.sx(0), y1: f.sy(yr[0]), y2: f.sy(yr[1]), "class": "zero" }, f.root);
    } else {
      svg("line", { x1: f.sx(xr[0]), x2: f.sx(xr[1]), y1: f.sy(0), y2: f.sy(0), "class": "zero" }, f.root);
    }
    var g = svg("g", { "class": "points" }, f.root);
    /* draw non-significant first so significant points stay on top */
    pts.sort(function (a, b) { return (a.p.sig - b.p.sig) || (a.p.cat - b.p.cat); });
    pts.forEach(function (q) {
      var cls = q.p.sig ? (q.p.lfc > 0 ? "up" : "down") : "ns";
      var c = svg("circle", { cx: f.sx(q.x).toFixed(2), cy: f.sy(q.y).toFixed(2), r: q.p.cat ? 4.5 : 3,
                              fill: COLOURS[cls], "class": "pt " + cls + (q.p.cat ? " cat" : ""), "data-mirna": q.p.m }, g);
      c.addEventListener("mouseenter", function (evt) {
        showTip(evt, [q.p.m, "log2FC " + num(q.p.lfc), "padj " + num(q.p.padj), "p " + num(q.p.p),
                      "baseMean " + num(q.p.bm, 4) + (q.p.cat ? " · catalogue marker" : "")]);
      });
      c.addEventListener("mouseleave", hideTip);
    });
    container.setAttribute("data-points", String(pts.length));
  }

  /* ROC curves: each has its own dash pattern and vertex marker and is shifted by a fraction of
     a percent, so curves with the same points (several AUC 1 markers) stay distinguishable. */
  var DASHES = ["", "7 3", "2 3", "9 3 2 3", "1 4", "12 4"];
  function rocCurve(f, points, i, name, label, g) {
    var colour = LINE_COLOURS[i % LINE_COLOURS.length], shift = 0.012 * i;
    var pts = points.filter(function (p) { return p[0] !== null && p[1] !== null; });
    var path = pts.map(function (p, j) {
      return (j ? "L" : "M") + f.sx(Math.min(1, p[0] + shift)).toFixed(1) + "," + f.sy(Math.max(0, p[1] - shift)).toFixed(1);
    }).join("");
    var line = svg("path", { d: path, stroke: colour, "class": "roc-line", "data-feature": name,
                             "stroke-dasharray": DASHES[i % DASHES.length] }, g);
    pts.forEach(function (p) {
      var x = f.sx(Math.min(1, p[0] + shift)), y = f.sy(Math.max(0, p[1] - shift));
      if (i % 2) { svg("rect", { x: x - 2, y: y - 2, width: 4, height: 4, fill: colour, "class": "roc-mark" }, g); }
      else { svg("circle", { cx: x, cy: y, r: 2, fill: colour, "class": "roc-mark" }, g); }
    });
    line.addEventListener("mouseenter", function (evt) { showTip(evt, [label]); });
    line.addEventListener("mouseleave", hideTip);
    var item = document.createElement("span");
    item.className = "roc-legend-item";
    item.setAttribute("data-feature", name);
    var swatch = svg("svg", { width: 26, height: 10, "class": "swatch" });
    svg("line", { x1: 0, y1: 5, x2: 26, y2: 5, stroke: colour, "stroke-width": 2, "stroke-dasharray": DASHES[i % DASHES.length] }, swatch);
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(label));
    return item;
  }

  function rocPlot(container, curves, legendInfo) {
    var f = frame(container, "false positive rate (1 - specificity)", "true positive rate (sensitivity)", [0, 1], [0, 1]);
    svg("line", { x1: f.sx(0), y1: f.sy(0), x2: f.sx(1), y2: f.sy(1), "class": "diag" }, f.root);
    var legend = document.createElement("div");
    legend.className = "legend roc-legend";
    var g = svg("g", { "class": "curves" }, f.root);
    Object.keys(curves).forEach(function (name, i) {
      var info = legendInfo[name] || {};
      legend.appendChild(rocCurve(f, curves[name], i, name, info.label || name, g));
    });
    container.appendChild(legend);
    return f;
  }

  function validationRoc(container) {
    var m = DATA.validation_roc;
    if (!m || !m.length) { container.textContent = "No validation ROC."; return; }
    rocPlot(container, { "locked panel": m }, { "locked panel": { label: "locked panel, validation cohort" } });
  }

  /* ---------------------------------------------------------------- cohort overview */
  function groupColours(groups) {
    var out = {};
    groups.forEach(function (gname) { if (!(gname in out)) { out[gname] = LINE_COLOURS[Object.keys(out).length % LINE_COLOURS.length]; } });
    return out;
  }

  function pcaPlot(container) {
    var d = DATA.overview.pca;
    var pts = d.points.filter(function (p) { return p.x !== null && p.y !== null; });
    var f = frame(container, "PC1" + (d.pc1 === null ? "" : " (" + num(d.pc1) + "% of variance)"),
                  "PC2" + (d.pc2 === null ? "" : " (" + num(d.pc2) + "%)"),
                  extent(pts.map(function (p) { return p.x; }), 0.1), extent(pts.map(function (p) { return p.y; }), 0.1));
    var colours = groupColours(pts.map(function (p) { return p.g; }));
    pts.forEach(function (p) {
      var c = svg("circle", { cx: f.sx(p.x).toFixed(2), cy: f.sy(p.y).toFixed(2), r: 5, fill: colours[p.g],
                              "class": "pt pca-pt", "data-sample": p.s }, f.root);
      c.addEventListener("mouseenter", function (evt) { showTip(evt, [p.s, "condition " + p.g, p.b ? "batch " + p.b : ""]); });
      c.addEventListener("mouseleave", hideTip);
    });
    appendGroupLegend(container, colours);
  }

  function appendGroupLegend(container, colours) {
    var legend = document.createElement("div");
    legend.className = "legend";
    Object.keys(colours).forEach(function (name) {
      var item = document.createElement("span"), sw = document.createElement("i");
      sw.style.background = colours[name];
      item.appendChild(sw);
      item.appendChild(document.createTextNode(name));
      legend.appendChild(item);
    });
    container.appendChild(legend);
  }

  function distancePlot(container) {
    var d = DATA.overview.distances, n = d.samples.length;
    var size = 360, cell = (size - 20) / Math.max(n, 1);
    var root = svg("svg", { viewBox: "0 0 " + (size + 10) + " " + (size + 10), "class": "chart heat", role: "img" }, container);
    /* shades span the off-diagonal range: the zero diagonal would otherwise wash out the contrast */
    var max = -Infinity, min = Infinity;
    d.values.forEach(function (row, i) { row.forEach(function (v, j) {
      if (v !== null && i !== j) { max = Math.max(max, v); min = Math.min(min, v); } }); });
    var colours = groupColours(d.groups);
    d.samples.forEach(function (s, i) {
      svg("rect", { x: 20 + i * cell, y: 4, width: cell, height: 10, fill: colours[d.groups[i]] }, root);
      d.values[i].forEach(function (v, j) {
        var shade = v === null ? 255 : i === j ? 30 : max > min ? Math.round(60 + 190 * (v - min) / (max - min)) : 150;
        var r = svg("rect", { x: 20 + j * cell, y: 20 + i * cell, width: cell, height: cell, "class": "dist-cell",
                              fill: "rgb(" + shade + "," + shade + "," + Math.min(255, shade + 25) + ")" }, root);
        r.addEventListener("mouseenter", function (evt) { showTip(evt, [s + " / " + d.samples[j], "distance " + num(v)]); });
        r.addEventListener("mouseleave", hideTip);
      });
    });
    appendGroupLegend(container, colours);
  }

  /* ---------------------------------------------------------------- strip plots */
  function stripPlot(container, contrast) {
    var name = container.getAttribute("data-mirna");
    var strip = DATA.contrasts[contrast].strips.filter(function (s) { return s.mirna === name; })[0];
    if (!strip) { return; }
    var values = [];
    strip.groups.forEach(function (gr) { gr.values.forEach(function (v) { if (v[1] !== null) { values.push(Math.log10(v[1] + 1)); } }); });
    var hi = Math.max.apply(null, values.concat([1]));
    var W = 240, H = 200, m = { l: 40, r: 8, t: 30, b: 30 };
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, "class": "chart strip-chart", role: "img" }, container);
    var sy = function (y) { return H - m.b - y / hi * (H - m.t - m.b); };
    svg("text", { x: W / 2, y: 12, "text-anchor": "middle", "class": "strip-title" }, root).textContent = name + " (" + strip.why + ")";
    svg("text", { x: W / 2, y: 24, "text-anchor": "middle", "class": "strip-sub" }, root).textContent =
      "log2FC " + num(strip.lfc) + ", padj " + num(strip.padj);
    ticks(0, hi, 4).forEach(function (t) {
      svg("line", { x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t), "class": "grid" }, root);
      svg("text", { x: m.l - 4, y: sy(t) + 3, "text-anchor": "end" }, root).textContent = num(t);
    });
    var band = (W - m.l - m.r) / strip.groups.length;
    strip.groups.forEach(function (gr, k) {
      var cx = m.l + band * (k + 0.5), vals = [];
      gr.values.forEach(function (v, j) {
        if (v[1] === null) { return; }
        var y = Math.log10(v[1] + 1), jitter = ((j * 37) % 11 - 5) * band / 40;
        vals.push(y);
        var c = svg("circle", { cx: (cx + jitter).toFixed(2), cy: sy(y).toFixed(2), r: 3.5, fill: LINE_COLOURS[k],
                                "class": "pt strip-pt", "data-sample": v[0] }, root);
        c.addEventListener("mouseenter", function (evt) { showTip(evt, [v[0], gr.name, "normalised count " + num(v[1], 4)]); });
        c.addEventListener("mouseleave", hideTip);
      });
      vals.sort(function (a, b) { return a - b; });
      if (vals.length) {
        var med = vals.length % 2 ? vals[(vals.length - 1) / 2] : (vals[vals.length / 2 - 1] + vals[vals.length / 2]) / 2;
        svg("line", { x1: cx - band / 4, x2: cx + band / 4, y1: sy(med), y2: sy(med), "class": "median" }, root);
      }
      svg("text", { x: cx, y: H - 12, "text-anchor": "middle" }, root).textContent = gr.name + " (n=" + gr.values.length + ")";
    });
    svg("text", { x: 10, y: (m.t + H - m.b) / 2, "text-anchor": "middle", "class": "axis-label",
                  transform: "rotate(-90 10 " + (m.t + H - m.b) / 2 + ")" }, root).textContent = "log10(count + 1)";
  }

  function initPlots() {
    document.querySelectorAll(".plot[data-contrast]").forEach(function (div) {
      var contrast = div.getAttribute("data-contrast"), kind = div.getAttribute("data-kind");
      var d = DATA.contrasts[contrast];
      if (!d) { return; }
      if (kind === "roc") { rocPlot(div, d.roc, d.auc); }
      else if (kind === "strip") { stripPlot(div, contrast); }
      else { scatter(div, contrast, kind); }
    });
    if (DATA.overview) {
      document.querySelectorAll(".plot.pca").forEach(pcaPlot);
      document.querySelectorAll(".plot.distances").forEach(distancePlot);
    }
    document.querySelectorAll(".plot.valroc").forEach(validationRoc);
  }

  initTables();
  initPlots();
  window.addEventListener("scroll", hideTip, { passive: true });
  /* test hook: the browser test waits for this attribute */
  document.documentElement.setAttribute("data-exomir-ready", "1");
})();
