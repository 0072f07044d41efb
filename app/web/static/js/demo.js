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
    if (typeof value === "boolean") return value ? "yes" : "no";
    return value === null || value === undefined ? "–" : String(value);
  }

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
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
    return ticks;
  }

  function drawChart(chart) {
    var W = 560, H = 300, M = { l: 64, r: 16, t: 28, b: 44 };
    var pw = W - M.l - M.r, ph = H - M.t - M.b;
    var root = svg("svg", {
      viewBox: "0 0 " + W + " " + H, class: "demo-chart demo-chart-" + chart.kind,
      role: "img", "aria-label": chart.title, "data-chart": chart.id,
    });
    root.appendChild(svg("title", {}, chart.title));
    root.appendChild(svg("text", { x: W / 2, y: 16, class: "demo-chart-title", "text-anchor": "middle" }, chart.title));
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
    if (a === b) { a -= 1; b += 1; }
    var pad = (b - a) * 0.05; a -= pad; b += pad;
    function Y(v) { return M.t + ph - (ty(v) - a) / (b - a) * ph; }

    var axes = svg("g", { class: "demo-axes" });
    var yTicks = logY
      ? niceTicks(Math.floor(a), Math.ceil(b), 6).filter(function (t) { return t >= a && t <= b && Number.isInteger(t); })
          .map(function (t) { return Math.pow(10, t); })
      : niceTicks(a, b, 5);
    yTicks.forEach(function (t) {
      var y = Y(t);
      axes.appendChild(svg("line", { x1: M.l, x2: M.l + pw, y1: y, y2: y, class: "demo-grid" }));
      axes.appendChild(svg("text", { x: M.l - 6, y: y + 4, "text-anchor": "end" }, logY ? "1e" + Math.round(Math.log10(t)) : fmt(t)));
    });
    axes.appendChild(svg("line", { x1: M.l, x2: M.l, y1: M.t, y2: M.t + ph, class: "demo-axis" }));
    axes.appendChild(svg("line", { x1: M.l, x2: M.l + pw, y1: M.t + ph, y2: M.t + ph, class: "demo-axis" }));
    if (chart.x_label) axes.appendChild(svg("text", { x: M.l + pw / 2, y: H - 6, "text-anchor": "middle" }, chart.x_label));
    if (chart.y_label) axes.appendChild(svg("text", {
      x: 12, y: M.t + ph / 2, "text-anchor": "middle", transform: "rotate(-90 12 " + (M.t + ph / 2) + ")",
    }, chart.y_label + (logY ? " (log)" : "")));
    root.appendChild(axes);

    var plot = svg("g", { class: "demo-plot" });
    if (chart.kind === "bar") {
      var cats = chart.categories && chart.categories.length ? chart.categories
        : (chart.series[0] ? chart.series[0].x.map(fmt) : []);
      var groupW = pw / Math.max(1, cats.length), n = Math.max(1, chart.series.length);
      var barW = groupW * 0.8 / n, base = logY ? Y(Math.pow(10, a)) : Y(0);
      cats.forEach(function (c, i) {
        axes.appendChild(svg("text", { x: M.l + groupW * (i + 0.5), y: M.t + ph + 16, "text-anchor": "middle" }, c));
      });
      chart.series.forEach(function (s, k) {
        s.y.forEach(function (v, i) {
          if (v === null || !isFinite(v) || (logY && v <= 0)) return;
          var y = Y(v), x = M.l + groupW * i + groupW * 0.1 + barW * k;
          var rect = svg("rect", {
            x: x, y: Math.min(y, base), width: barW, height: Math.max(1, Math.abs(base - y)),
            fill: COLORS[k % COLORS.length], class: "demo-bar",
          });
          rect.appendChild(svg("title", {}, s.name + " · " + (cats[i] || "") + ": " + fmt(v)));
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
      niceTicks(xLo, xHi, 6).forEach(function (t) {
        if (t < xLo || t > xHi) return;
        axes.appendChild(svg("text", { x: X(t), y: M.t + ph + 16, "text-anchor": "middle" }, fmt(t)));
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
        path.appendChild(svg("title", {}, s.name));
        plot.appendChild(path);
      });
    }
    root.appendChild(plot);

    if (chart.series.length > 1 || chart.kind === "bar") {
      var legend = svg("g", { class: "demo-legend" });
      chart.series.forEach(function (s, k) {
        var x = M.l + 8 + (k % 3) * 160, y = M.t + 8 + Math.floor(k / 3) * 16;
        legend.appendChild(svg("rect", { x: x, y: y - 8, width: 10, height: 10, fill: COLORS[k % COLORS.length] }));
        legend.appendChild(svg("text", { x: x + 14, y: y + 1 }, s.name));
      });
      root.appendChild(legend);
    }
    return root;
  }

  // --- results -------------------------------------------------------------------

  function renderResult(panel, run) {
    var result = run.result || {};
    var proves = (panel.dataset.proves || "").split(/\s+/).filter(Boolean);
    var box = panel.querySelector(".demo-result");
    box.querySelector(".demo-summary").textContent = result.summary || "";

    var claims = box.querySelector(".demo-claims");
    claims.textContent = "";
    (result.claims || []).forEach(function (c) {
      var relied = proves.indexOf(c.id) >= 0;
      var li = el("li", {
        class: "demo-claim " + (c.passed ? "demo-pass" : "demo-fail") + (relied ? " demo-relied" : ""),
        "data-claim": c.id, "data-passed": c.passed ? "true" : "false",
      });
      li.appendChild(el("span", { class: "demo-mark", "aria-label": c.passed ? "passed" : "failed" }, c.passed ? "✓" : "✗"));
      li.appendChild(el("span", { class: "demo-claim-text" }, c.text));
      if (relied) li.appendChild(el("span", { class: "demo-badge" }, "this card relies on it"));
      var values = Object.keys(c.values || {});
      if (values.length) {
        li.appendChild(el("span", { class: "demo-claim-values" },
          values.map(function (k) { return k + " = " + fmt(c.values[k]); }).join(", ")));
      }
      claims.appendChild(li);
    });

    var charts = box.querySelector(".demo-charts");
    charts.textContent = "";
    (result.charts || []).forEach(function (chart) {
      var fig = el("figure", { class: "demo-figure" });
      fig.appendChild(drawChart(chart));
      charts.appendChild(fig);
    });

    var metrics = box.querySelector(".demo-metrics tbody");
    metrics.textContent = "";
    Object.keys(result.metrics || {}).forEach(function (k) {
      var tr = el("tr");
      tr.appendChild(el("th", { scope: "row" }, k.replace(/_/g, " ")));
      tr.appendChild(el("td", {}, fmt(result.metrics[k])));
      metrics.appendChild(tr);
    });

    var tables = box.querySelector(".demo-tables");
    tables.textContent = "";
    (result.tables || []).forEach(function (t) {
      var table = el("table", { class: "demo-table" });
      table.appendChild(el("caption", {}, t.title));
      var head = el("tr");
      t.columns.forEach(function (c) { head.appendChild(el("th", { scope: "col" }, c)); });
      var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
      var tbody = el("tbody");
      t.rows.forEach(function (row) {
        var tr = el("tr");
        row.forEach(function (v) { tr.appendChild(el("td", {}, fmt(v))); });
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      tables.appendChild(table);
    });

    var meta = [];
    if (run.cached) meta.push("cached result");
    if (run.device_name) meta.push(run.device_name);
    if (run.torch_version) meta.push("torch " + run.torch_version);
    if (run.timings && run.timings.run_ms !== undefined) meta.push("ran in " + fmt(run.timings.run_ms) + " ms");
    box.querySelector(".demo-meta").textContent = meta.join(" · ");
    // Where it ran and why (small demos stay on the CPU even on a GPU host).
    var device = box.querySelector(".demo-device");
    if (device) device.textContent = run.device_note || "";
    box.hidden = false;
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
    panel.classList.remove("demo-running");
    panel.querySelector(".demo-run").disabled = false;
    panel.dataset.state = run.status;
    if (run.status === "succeeded") {
      setStatus(panel, run.cached ? "Done (cached result)" : "Done", null);
      renderResult(panel, run);
    } else {
      setStatus(panel, "Failed", null);
      showError(panel, run.reason || "The demo failed.", run.error_detail);
    }
  }

  function follow(panel, run) {
    if (!window.EventSource) return poll(panel, run.url);
    var source = new EventSource(run.events_url);
    source.addEventListener("progress", function (evt) {
      var p = JSON.parse(evt.data);
      setStatus(panel, p.status === "queued" ? "Queued…" : (p.progress_message || "Running…"), p.progress);
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
        setStatus(panel, run.progress_message || "Running…", run.progress);
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
    setStatus(panel, "Starting…", 0);
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
        var msg = typeof r.body.detail === "string" ? r.body.detail : "The run could not start.";
        showError(panel, msg);
        panel.dataset.state = "rejected";
      })
      .catch(function () {
        button.disabled = false;
        panel.classList.remove("demo-running");
        setStatus(panel, "", null);
        showError(panel, "The server could not be reached. Try again.");
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

  function initAll() { document.querySelectorAll(".demo-panel").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
  document.addEventListener("htmx:afterSwap", function (evt) {
    evt.target.querySelectorAll && evt.target.querySelectorAll(".demo-panel:not([data-state])").forEach(init);
  });
})();
