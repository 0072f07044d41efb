// Demo panels (templates/demo/_panel.html): read the parameter form, start a run,
// follow it over server-sent events, then draw the charts (SVG), metrics and claims.
// No inline script or style anywhere (CSP): everything comes from data-* attributes.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function post(url, body) {
    var options = {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    };
    if (window.backprop && window.backprop.fetch) return window.backprop.fetch(url, options);
    options.credentials = "same-origin";
    return window.fetch(url, options);
  }

  function fmt(value) {
    if (typeof value === "number") {
      if (!isFinite(value)) return String(value);
      if (Number.isInteger(value)) return String(value);
      var a = Math.abs(value);
      if (a !== 0 && (a < 1e-3 || a >= 1e5)) return value.toExponential(3);
      return String(Number(value.toPrecision(4)));
    }
    if (typeof value === "boolean") return value ? ui("yes", "yes") : ui("no", "no");
    return value === null || value === undefined ? "–" : String(value);
  }

  // --- words in the page's language (data-texts, data-ui on the panel) ---------------

  var T = { claims: {}, shown_when: {}, text: {} }, U = {};

  function useTexts(panel) {
    try { T = JSON.parse(panel.dataset.texts || "{}"); } catch (e) { T = {}; }
    try { U = JSON.parse(panel.dataset.ui || "{}"); } catch (e) { U = {}; }
    T.claims = T.claims || {}; T.shown_when = T.shown_when || {}; T.text = T.text || {};
  }

  // TEXT_ZH keys may hold "{}" for a number the demo fills in ("gain {}"): matched as a
  // pattern when no key matches exactly, and the numbers carried into the translation.
  function tr(english) {
    if (!english || !T.text) return english;
    if (T.text[english]) return T.text[english];
    var keys = Object.keys(T.text);
    for (var i = 0; i < keys.length; i++) {
      if (keys[i].indexOf("{}") < 0) continue;
      var pattern = "^" + keys[i].split("{}").map(function (part) {
        return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      }).join("(.+?)") + "$";
      var m = new RegExp(pattern).exec(english);
      if (!m) continue;
      var k = 1;
      return T.text[keys[i]].replace(/\{\}/g, function () { return m[k++] || ""; });
    }
    return english;
  }
  function ui(key, fallback) { return U[key] || fallback; }

  // --- parameters ---------------------------------------------------------------

  function logValue(input) {
    var lo = parseFloat(input.dataset.min), hi = parseFloat(input.dataset.max);
    var v = lo * Math.pow(hi / lo, parseFloat(input.value) / 1000);
    return Number(v.toPrecision(3));
  }

  function valueOf(input) {
    var type = input.dataset.type;
    if (type === "boolean") return input.checked;
    if (type === "choice" || type === "text") return input.value;
    if (input.dataset.log) return logValue(input);
    var n = type === "integer" ? parseInt(input.value, 10) : parseFloat(input.value);
    return isNaN(n) ? input.value : n;
  }

  function showValue(input) {
    var out = input.parentNode.querySelector("output");
    if (out) out.textContent = fmt(valueOf(input));
  }

  function readParams(panel) {
    var params = {};
    panel.querySelectorAll("[data-param]").forEach(function (input) {
      params[input.dataset.param] = valueOf(input);
    });
    return params;
  }

  function resetParams(panel) {
    panel.querySelectorAll("[data-param]").forEach(function (input) {
      var v = input.dataset.value;
      if (input.dataset.type === "boolean") input.checked = v === "true";
      else if (input.dataset.log) {
        var lo = parseFloat(input.dataset.min), hi = parseFloat(input.dataset.max);
        input.value = String(Math.round(1000 * Math.log(parseFloat(v) / lo) / Math.log(hi / lo)));
      } else input.value = v;
      showValue(input);
    });
  }

  function clearFieldErrors(panel) {
    panel.querySelectorAll(".demo-field-error").forEach(function (e) { e.hidden = true; e.textContent = ""; });
    panel.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
  }

  function showFieldErrors(panel, errors) {
    (errors || []).forEach(function (err) {
      var input = panel.querySelector('[data-param="' + err.field + '"]');
      if (!input) return;
      input.setAttribute("aria-invalid", "true");
      var box = panel.querySelector("#" + input.id + "-error");
      if (box) { box.textContent = err.message; box.hidden = false; }
    });
  }

  // --- charts --------------------------------------------------------------------

  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) { hi = lo + 1; }
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count)));
    var err = (hi - lo) / count / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var ticks = [];
    // Counted in whole steps (not accumulated), so no 1.1e-16 creeps in.
    for (var i = Math.ceil(lo / step); i * step <= hi + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
    return ticks;
  }

  // Ticks for a log axis spanning 10^a .. 10^b (a, b real): whole decades when there are
  // at least two (thinned to about `count`), else 1-2-5 steps, else linear steps in value.
  function logTicks(a, b, count) {
    var lo = Math.ceil(a - 1e-9), hi = Math.floor(b + 1e-9), decades = [];
    if (hi - lo >= 1) {
      var every = Math.max(1, Math.ceil((hi - lo + 1) / count));
      for (var e = lo; e <= hi; e += every) decades.push(Math.pow(10, e));
      return decades;
    }
    var ticks = [];
    for (var k = Math.floor(a) - 1; k <= Math.ceil(b); k++) {
      [1, 2, 5].forEach(function (m) {
        var v = m * Math.pow(10, k), l = Math.log10(v);
        if (l >= a - 1e-9 && l <= b + 1e-9) ticks.push(Number(v.toPrecision(6)));
      });
    }
    if (ticks.length >= 2) return ticks;
    return niceTicks(Math.pow(10, a), Math.pow(10, b), 4).filter(function (v) { return v > 0; });
  }

  function tickText(v, log) {
    if (!log) return fmt(v);
    var a = Math.abs(v);
    if (a >= 1e-3 && a < 1e5) return fmt(v);
    var e = Math.round(Math.log10(a));
    return Math.abs(a - Math.pow(10, e)) < a * 1e-6 ? "1e" + e : v.toExponential(1);
  }

  function drawChart(chart, width) {
    // Drawn at the width it is shown at, so text stays 12 px on a phone and on a desktop.
    var W = Math.max(260, Math.min(720, Math.round(width || 560)));
    var H = Math.round(Math.max(220, Math.min(320, W * 0.6)));
    var M = { l: 58, r: 12, t: 10, b: chart.x_label ? 48 : 30 };
    var pw = W - M.l - M.r, ph = H - M.t - M.b;
    var title = tr(chart.title);
    var root = svg("svg", {
      viewBox: "0 0 " + W + " " + H, width: W, height: H, class: "demo-chart demo-chart-" + chart.kind,
      role: "img", "aria-label": title, "data-chart": chart.id,
    });
    root.appendChild(svg("title", {}, title));
    var logY = !!chart.log_y;
    var ys = [];
    chart.series.forEach(function (s) {
      s.y.forEach(function (v) { if (v !== null && isFinite(v) && (!logY || v > 0)) ys.push(v); });
    });
    if (!ys.length) ys = [logY ? 1 : 0];
    var yLo = Math.min.apply(null, ys), yHi = Math.max.apply(null, ys);
    var ty = logY ? function (v) { return Math.log10(v); } : function (v) { return v; };
    var a = ty(yLo), b = ty(yHi);
    if (chart.kind === "bar" && !logY) { a = Math.min(0, a); b = Math.max(0, b); }
    if (a === b) { a -= logY ? 0.5 : 1; b += logY ? 0.5 : 1; }
    var pad = (b - a) * 0.05; a -= pad; b += pad;
    function Y(v) { return M.t + ph - (ty(v) - a) / (b - a) * ph; }

    var axes = svg("g", { class: "demo-axes" });
    var yCount = Math.max(3, Math.floor(ph / 40));
    var yTicks = logY ? logTicks(a, b, yCount) : niceTicks(a, b, yCount);
    yTicks.forEach(function (t) {
      var y = Y(t);
      if (!(y >= M.t - 0.5 && y <= M.t + ph + 0.5)) return;
      axes.appendChild(svg("line", { x1: M.l, x2: M.l + pw, y1: y, y2: y, class: "demo-grid" }));
      axes.appendChild(svg("text", { x: M.l - 6, y: y + 4, "text-anchor": "end", class: "demo-tick" }, tickText(t, logY)));
    });
    axes.appendChild(svg("line", { x1: M.l, x2: M.l, y1: M.t, y2: M.t + ph, class: "demo-axis" }));
    axes.appendChild(svg("line", { x1: M.l, x2: M.l + pw, y1: M.t + ph, y2: M.t + ph, class: "demo-axis" }));
    if (chart.x_label) axes.appendChild(svg("text", { x: M.l + pw / 2, y: H - 8, "text-anchor": "middle" }, tr(chart.x_label)));
    if (chart.y_label) axes.appendChild(svg("text", {
      x: 14, y: M.t + ph / 2, "text-anchor": "middle", transform: "rotate(-90 14 " + (M.t + ph / 2) + ")",
    }, tr(chart.y_label) + (logY ? " " + ui("log", "(log)") : "")));
    root.appendChild(axes);

    var plot = svg("g", { class: "demo-plot" });
    if (chart.kind === "bar") {
      var cats = chart.categories && chart.categories.length ? chart.categories.map(tr)
        : (chart.series[0] ? chart.series[0].x.map(fmt) : []);
      var groupW = pw / Math.max(1, cats.length), n = Math.max(1, chart.series.length);
      var barW = groupW * 0.8 / n, base = logY ? Y(Math.pow(10, a)) : Y(0);
      // Category labels thin out rather than overlap (7 px per character at 12 px).
      var longest = cats.reduce(function (m, c) { return Math.max(m, String(c).length); }, 1);
      var every = Math.max(1, Math.ceil(longest * 7 / groupW));
      cats.forEach(function (c, i) {
        if (i % every) return;
        axes.appendChild(svg("text", { x: M.l + groupW * (i + 0.5), y: M.t + ph + 16, "text-anchor": "middle", class: "demo-tick" }, c));
      });
      chart.series.forEach(function (s, k) {
        s.y.forEach(function (v, i) {
          if (v === null || !isFinite(v) || (logY && v <= 0)) return;
          var y = Y(v), x = M.l + groupW * i + groupW * 0.1 + barW * k;
          var rect = svg("rect", {
            x: x, y: Math.min(y, base), width: barW, height: Math.max(1, Math.abs(base - y)),
            fill: COLORS[k % COLORS.length], class: "demo-bar",
          });
          rect.appendChild(svg("title", {}, tr(s.name) + " · " + (cats[i] || "") + ": " + fmt(v)));
          plot.appendChild(rect);
        });
      });
    } else {
      var xs = [];
      chart.series.forEach(function (s) { s.x.forEach(function (v) { if (isFinite(v)) xs.push(v); }); });
      if (!xs.length) xs = [0, 1];
      var xLo = Math.min.apply(null, xs), xHi = Math.max.apply(null, xs);
      if (xLo === xHi) { xLo -= 1; xHi += 1; }
      var X = function (v) { return M.l + (v - xLo) / (xHi - xLo) * pw; };
      niceTicks(xLo, xHi, Math.max(3, Math.floor(pw / 70))).forEach(function (t) {
        if (t < xLo || t > xHi) return;
        axes.appendChild(svg("text", { x: X(t), y: M.t + ph + 16, "text-anchor": "middle", class: "demo-tick" }, fmt(t)));
      });
      chart.series.forEach(function (s, k) {
        var d = "", pen = false;
        s.x.forEach(function (xv, i) {
          var yv = s.y[i];
          if (yv === null || !isFinite(yv) || (logY && yv <= 0)) { pen = false; return; }
          d += (pen ? "L" : "M") + X(xv).toFixed(1) + " " + Y(yv).toFixed(1);
          pen = true;
        });
        var path = svg("path", { d: d, fill: "none", stroke: COLORS[k % COLORS.length], "stroke-width": 2, class: "demo-line" });
        path.appendChild(svg("title", {}, tr(s.name)));
        plot.appendChild(path);
      });
    }
    root.appendChild(plot);
    return root;
  }

  // The legend is HTML under the chart: it wraps instead of overlapping the lines.
  function drawLegend(chart) {
    var list = el("ul", { class: "demo-legend" });
    chart.series.forEach(function (s, k) {
      var item = el("li");
      var swatch = svg("svg", { width: 12, height: 12, "aria-hidden": "true", class: "demo-swatch" });
      swatch.appendChild(svg("rect", { width: 12, height: 12, rx: 2, fill: COLORS[k % COLORS.length] }));
      item.appendChild(swatch);
      item.appendChild(el("span", {}, tr(s.name)));
      list.appendChild(item);
    });
    return list;
  }

  // --- results -------------------------------------------------------------------

  // A claim that fails says what it checks and that these parameters do not show the
  // effect, and where it does show: a red mark is never left unexplained.
  function claimItem(c, relied) {
    var li = el("li", {
      class: "demo-claim " + (c.passed ? "demo-pass" : "demo-fail") + (relied ? " demo-relied" : ""),
      "data-claim": c.id, "data-passed": c.passed ? "true" : "false",
    });
    li.appendChild(el("span", { class: "demo-mark", role: "img",
      "aria-label": c.passed ? ui("passed_mark", "passed") : ui("failed_mark", "failed") }, c.passed ? "✓" : "✗"));
    li.appendChild(el("span", { class: "demo-claim-text" }, T.claims[c.id] || c.text));
    if (relied) li.appendChild(el("span", { class: "demo-badge" }, ui("relied", "this card relies on it")));
    var values = Object.keys(c.values || {});
    if (values.length) {
      li.appendChild(el("span", { class: "demo-claim-values" },
        values.map(function (k) { return tr(k) + " = " + fmt(c.values[k]); }).join(", ")));
    }
    if (!c.passed) {
      var why = ui("not_shown", "These parameters do not show this effect.");
      var when = T.shown_when[c.id];
      why += " " + (when ? ui("shown_when", "It shows with: %(when)s.").replace("%(when)s", when)
        : (relied ? ui("try_card", "Reset to the card's parameters to see it.") : ""));
      li.appendChild(el("span", { class: "demo-claim-why" }, why.trim()));
    }
    return li;
  }

  function renderResult(panel, run) {
    useTexts(panel);
    var result = run.result || {};
    var proves = (panel.dataset.proves || "").split(/\s+/).filter(Boolean);
    var box = panel.querySelector(".demo-result");
    box.hidden = false; // visible first, so the charts can measure their width
    var summary = T.lang === "zh" && result.summary_zh ? result.summary_zh : (result.summary || "");
    box.querySelector(".demo-summary").textContent = summary;

    var claims = box.querySelector(".demo-claims");
    claims.textContent = "";
    (result.claims || []).forEach(function (c) { claims.appendChild(claimItem(c, proves.indexOf(c.id) >= 0)); });

    var charts = box.querySelector(".demo-charts");
    charts.textContent = "";
    (result.charts || []).forEach(function (chart) {
      var fig = el("figure", { class: "demo-figure" });
      fig.appendChild(el("figcaption", { class: "demo-chart-title" }, tr(chart.title)));
      charts.appendChild(fig);
      fig.appendChild(drawChart(chart, fig.clientWidth));
      if (chart.series.length > 1 || chart.kind === "bar") fig.appendChild(drawLegend(chart));
    });

    var metrics = box.querySelector(".demo-metrics tbody");
    metrics.textContent = "";
    Object.keys(result.metrics || {}).forEach(function (k) {
      var row = el("tr");
      row.appendChild(el("th", { scope: "row" }, T.text[k] || k.replace(/_/g, " ")));
      row.appendChild(el("td", {}, fmt(result.metrics[k])));
      metrics.appendChild(row);
    });

    var tables = box.querySelector(".demo-tables");
    tables.textContent = "";
    (result.tables || []).forEach(function (t) {
      var table = el("table", { class: "demo-table" });
      table.appendChild(el("caption", {}, tr(t.title)));
      var head = el("tr");
      t.columns.forEach(function (c) { head.appendChild(el("th", { scope: "col" }, tr(c))); });
      var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
      var tbody = el("tbody");
      t.rows.forEach(function (cells) {
        var row = el("tr");
        cells.forEach(function (v) { row.appendChild(el("td", {}, typeof v === "string" ? tr(v) : fmt(v))); });
        tbody.appendChild(row);
      });
      table.appendChild(tbody);
      tables.appendChild(table);
    });

    var meta = [];
    if (run.cached) meta.push(ui("cached", "cached result"));
    if (run.device_name) meta.push(run.device_name);
    if (run.torch_version) meta.push("torch " + run.torch_version);
    if (run.timings && run.timings.run_ms !== undefined) meta.push(ui("ran_in", "ran in %(ms)s ms").replace("%(ms)s", fmt(run.timings.run_ms)));
    box.querySelector(".demo-meta").textContent = meta.join(" · ");
    // Where it ran and why (small demos stay on the CPU even on a GPU host).
    var device = box.querySelector(".demo-device");
    if (device) device.textContent = run.device_note || "";
  }

  function setStatus(panel, text, fraction) {
    var bar = panel.querySelector(".demo-progress");
    panel.querySelector(".demo-status-text").textContent = text;
    if (fraction === null) { bar.hidden = true; return; }
    bar.hidden = false;
    bar.value = Math.max(0, Math.min(1, fraction || 0));
  }

  function showError(panel, message, trace) {
    var box = panel.querySelector(".demo-error");
    box.textContent = message;
    box.hidden = false;
    var details = panel.querySelector(".demo-trace");
    if (trace) {
      details.querySelector("pre").textContent = trace;
      details.hidden = false;
      panel.querySelector(".demo-result").hidden = false;
    }
  }

  function finish(panel, run) {
    useTexts(panel);
    panel.classList.remove("demo-running");
    panel.querySelector(".demo-run").disabled = false;
    panel.dataset.state = run.status;
    if (run.status === "succeeded") {
      setStatus(panel, run.cached ? ui("done_cached", "Done (cached result)") : ui("done", "Done"), null);
      renderResult(panel, run);
    } else {
      setStatus(panel, ui("failed", "Failed"), null);
      showError(panel, run.reason || ui("demo_failed", "The demo failed."), run.error_detail);
    }
  }

  function follow(panel, run) {
    if (!window.EventSource) return poll(panel, run.url);
    var source = new EventSource(run.events_url);
    source.addEventListener("progress", function (evt) {
      var p = JSON.parse(evt.data);
      setStatus(panel, p.status === "queued" ? ui("queued", "Queued…") : (tr(p.progress_message || "") || ui("running", "Running…")), p.progress);
    });
    source.addEventListener("done", function (evt) {
      source.close();
      finish(panel, JSON.parse(evt.data));
    });
    source.onerror = function () {
      source.close();
      poll(panel, run.url);
    };
  }

  function poll(panel, url) {
    window.fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (run) {
        if (run.done) return finish(panel, run);
        setStatus(panel, tr(run.progress_message || "") || ui("running", "Running…"), run.progress);
        window.setTimeout(function () { poll(panel, url); }, 400);
      })
      .catch(function () { window.setTimeout(function () { poll(panel, url); }, 1500); });
  }

  function start(panel) {
    var button = panel.querySelector(".demo-run");
    button.disabled = true;
    panel.classList.add("demo-running");
    panel.dataset.state = "starting";
    panel.querySelector(".demo-error").hidden = true;
    panel.querySelector(".demo-trace").hidden = true;
    clearFieldErrors(panel);
    useTexts(panel);
    setStatus(panel, ui("starting", "Starting…"), 0);
    post("/api/demos/" + encodeURIComponent(panel.dataset.demo) + "/runs", readParams(panel))
      .then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      })
      .then(function (r) {
        if (r.status === 200 && r.body.done) return finish(panel, r.body);
        if (r.status === 202) return follow(panel, r.body);
        button.disabled = false;
        panel.classList.remove("demo-running");
        setStatus(panel, "", null);
        if (r.status === 422) showFieldErrors(panel, r.body.errors);
        var msg = typeof r.body.detail === "string" ? r.body.detail : ui("not_started", "The run could not start.");
        showError(panel, msg);
        panel.dataset.state = "rejected";
      })
      .catch(function () {
        button.disabled = false;
        panel.classList.remove("demo-running");
        setStatus(panel, "", null);
        showError(panel, ui("unreachable", "The server could not be reached. Try again."));
      });
  }

  function init(panel) {
    panel.querySelectorAll("[data-param]").forEach(function (input) {
      input.addEventListener("input", function () { showValue(input); });
      showValue(input);
    });
    panel.querySelector(".demo-form").addEventListener("submit", function (evt) {
      evt.preventDefault();
      start(panel);
    });
    panel.querySelector(".demo-reset").addEventListener("click", function () { resetParams(panel); });
    panel.dataset.state = "idle";
  }

  // For tests and other pages: the chart drawing, without a run.
  window.backpropDemoCharts = { draw: drawChart, legend: drawLegend, logTicks: logTicks, niceTicks: niceTicks };

  function initAll() { document.querySelectorAll(".demo-panel").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
  document.addEventListener("htmx:afterSwap", function (evt) {
    evt.target.querySelectorAll && evt.target.querySelectorAll(".demo-panel:not([data-state])").forEach(init);
  });
})();
