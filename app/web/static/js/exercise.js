// The exercise panel: a CodeMirror editor in place of the code textarea (Python
// highlighting, Tab indents, Ctrl/Cmd+Enter submits), kept in sync with the textarea the
// form posts; refusals (4xx/5xx sentences) are shown in the panel instead of dropped.
(function () {
  "use strict";

  function init(panel) {
    if (panel.dataset.ready) return;
    panel.dataset.ready = "1";
    if (!window.BackpropEditor) return;
    initSource(panel);
    var form = panel.querySelector(".exercise-form");
    var textarea = form && form.querySelector("textarea.exercise-code");
    var holder = form && form.querySelector(".exercise-editor");
    if (!form || !textarea || !holder) return;
    var editor = window.BackpropEditor.create(mountIn(holder), {
      doc: textarea.value,
      onChange: function (text) { textarea.value = text; },
      onSubmit: function () {
        textarea.value = editor.getValue();
        if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit"));
      },
    });
    var label = panel.querySelector(".exercise-code-label");
    if (label && editor.view) editor.view.contentDOM.setAttribute("aria-label", label.textContent);
    textarea.hidden = true;
    form.addEventListener("submit", function () { textarea.value = editor.getValue(); }, true);
    panel.backpropEditor = editor;
  }

  // Each editor lives in a shadow root: there CodeMirror styles itself with constructed
  // stylesheets, which the Content-Security-Policy (style-src 'self') allows, where a
  // <style> element in the document would be refused.
  function mountIn(holder, className) {
    var shadow = holder.attachShadow({ mode: "open" });
    var look = document.createElement("link");
    look.rel = "stylesheet";
    look.href = "/static/css/exercise-editor.css";  // our look, inside the shadow root
    var mount = document.createElement("div");
    if (className) mount.className = className;
    shadow.appendChild(look);
    shadow.appendChild(mount);
    holder.hidden = false;
    // Keys typed in the editor stay there (practice's single-key shortcuts see the shadow
    // host, not the editor, as the target).
    holder.addEventListener("keydown", function (evt) { evt.stopPropagation(); });
    return mount;
  }

  // A demo's shared source: highlighted, read-only.
  function initSource(panel) {
    var text = panel.querySelector("textarea.demo-source-text");
    var holder = panel.querySelector(".demo-source-view");
    if (!text || !holder) return;
    var view = window.BackpropEditor.create(mountIn(holder, "read-only"), {
      doc: text.value,
      readOnly: true,
    });
    if (view.view) {
      view.view.contentDOM.setAttribute("aria-label", text.getAttribute("aria-label") || "");
      view.view.scrollDOM.tabIndex = 0;  // a keyboard can scroll the read-only window
    }
    text.hidden = true;
  }

  function initAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches(".exercise-panel")) init(scope);
    scope.querySelectorAll(".exercise-panel").forEach(init);
  }

  function panelOf(evt) {
    var elt = evt.detail && (evt.detail.target || evt.detail.elt);
    return elt && elt.closest ? elt.closest(".exercise-panel") : null;
  }

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    if (panelOf(evt) && status >= 400 && status < 600) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });

  function busy(evt, on) {
    var panel = panelOf(evt);
    if (!panel) return;
    var marker = panel.querySelector(".exercise-busy");
    var button = panel.querySelector(".exercise-submit");
    if (marker) marker.hidden = !on;
    if (button) button.disabled = on;
  }
  document.addEventListener("htmx:beforeRequest", function (evt) { busy(evt, true); });
  document.addEventListener("htmx:afterRequest", function (evt) { busy(evt, false); });
  document.addEventListener("htmx:load", function (evt) { initAll(evt.detail.elt); });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initAll(document); });
  } else {
    initAll(document);
  }
})();
