// The card editor: debounced live preview, the demo picker and its "run preview".
(function () {
  "use strict";

  var DEBOUNCE_MS = 400;

  function csrfFetch(url, options) {
    return window.backprop && window.backprop.fetch
      ? window.backprop.fetch(url, options)
      : window.fetch(url, Object.assign({ credentials: "same-origin" }, options));
  }

  function setupPreview(form) {
    var target = document.getElementById("preview");
    var state = document.getElementById("preview-state");
    var idOut = document.getElementById("f-id");
    var isNew = form.querySelector('input[name="status"]').value === "new";
    var timer = null;
    var sequence = 0;

    function refresh() {
      var mine = ++sequence;
      if (state) state.textContent = "updating…";
      csrfFetch(form.dataset.previewUrl, { method: "POST", body: new FormData(form) })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          if (mine !== sequence) return; // a newer preview is on its way
          target.innerHTML = html;
          if (window.backpropRenderMath) window.backpropRenderMath(target);
          var body = target.querySelector(".preview-body");
          if (isNew && idOut && body && body.dataset.generatedId) {
            idOut.textContent = body.dataset.generatedId + " (generated from the title)";
          }
          if (state) state.textContent = "";
          target.dataset.fresh = String(mine);
        })
        .catch(function () { if (state) state.textContent = "preview unavailable"; });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, DEBOUNCE_MS);
    }
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    // A new, empty card is not "4 problems" in red: its preview waits for the first edit.
    if (!isNew) refresh();
    else if (state) state.textContent = target.dataset.msgWaiting || "";
  }

  function setupDemoPicker(form) {
    var select = document.getElementById("f-demo");
    if (!select) return;
    function show() {
      form.querySelectorAll(".demo-claims").forEach(function (box) {
        var on = box.dataset.demo === select.value;
        box.hidden = !on;
        box.querySelectorAll("input").forEach(function (input) { input.disabled = !on; });
      });
    }
    select.addEventListener("change", show);
    show();

    var button = document.getElementById("run-demo");
    var out = document.getElementById("demo-result");
    if (!button || !out) return;
    button.addEventListener("click", function () {
      var option = select.options[select.selectedIndex];
      if (!select.value) { out.textContent = "Pick a demo first."; return; }
      var params = {};
      var raw = (document.getElementById("f-params").value || "").trim();
      if (raw) {
        try { params = JSON.parse(raw.replace(/([{,]\s*)([A-Za-z_][\w-]*)\s*:/g, '$1"$2":').replace(/:\s*([A-Za-z][\w-]*)\s*([,}])/g, ':"$1"$2')); }
        catch (e) { out.textContent = "Params must be a mapping like {depth: 20}."; return; }
      }
      var url = button.dataset.runUrl.replace("{name}", encodeURIComponent(option.dataset.name));
      out.textContent = "Running…";
      csrfFetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(params),
      })
        .then(asJson)
        .then(function (answer) { follow(out, answer, 0); })
        .catch(function () { out.textContent = "The demo runner is not available."; });
    });
  }

  function asJson(response) {
    return response.json().then(function (data) { return { ok: response.ok, data: data }; });
  }

  // A queued run (202) is polled at its url until it is done.
  function follow(out, answer, polls) {
    var data = answer.data || {};
    if (answer.ok && data.url && !data.done && polls < 120) {
      out.textContent = "Running… (" + (data.status || "queued") + ")";
      setTimeout(function () {
        window.fetch(data.url, { credentials: "same-origin" })
          .then(asJson)
          .then(function (next) {
            next.data = Object.assign({ url: data.url }, next.data);
            follow(out, next, polls + 1);
          })
          .catch(function () { out.textContent = "Lost track of the run."; });
      }, 1000);
      return;
    }
    render(out, answer);
  }

  function render(out, answer) {
    out.textContent = "";
    var data = answer.data || {};
    if (!answer.ok) { out.textContent = "Could not run: " + (data.detail || "error"); return; }
    var result = data.result || data;
    if (result.summary) {
      var p = document.createElement("p");
      p.textContent = result.summary;
      out.appendChild(p);
    } else if (data.status || data.id) {
      var s = document.createElement("p");
      s.textContent = "Run " + (data.id || "") + ": " + (data.status || "queued");
      out.appendChild(s);
    }
    var list = document.createElement("ul");
    (result.claims || []).forEach(function (claim) {
      var li = document.createElement("li");
      li.className = claim.passed ? "claim-pass" : "claim-fail";
      li.textContent = (claim.passed ? "✓ " : "✗ ") + claim.id + ": " + claim.text;
      list.appendChild(li);
    });
    out.appendChild(list);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("card-form");
    if (!form) return;
    setupPreview(form);
    setupDemoPicker(form);
  });
})();
