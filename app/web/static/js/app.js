// Page-wide behaviour: KaTeX for math placed by the renderer, and the theme toggle.
(function () {
  "use strict";

  function renderMath(root) {
    if (!window.katex) return;
    root.querySelectorAll(".math-inline, .math-display").forEach(function (el) {
      if (el.dataset.rendered) return;
      var tex = el.textContent;
      try {
        window.katex.render(tex, el, {
          displayMode: el.classList.contains("math-display"),
          // An error is thrown, not drawn: KaTeX draws it with an inline style, which
          // the Content-Security-Policy blocks. The TeX stays, marked, with the reason.
          throwOnError: true,
        });
        el.dataset.rendered = "1";
      } catch (err) {
        el.classList.add("math-error");
        el.title = String((err && err.message) || err);
      }
    });
  }

  var THEMES = ["auto", "light", "dark"];
  function applyTheme(theme) {
    document.documentElement.dataset.theme = theme;
  }
  function storedTheme() {
    // This device's toggle wins; else the theme saved on the settings page (the
    // server renders it into <html data-theme>); else follow the system.
    var saved = document.documentElement.dataset.theme || "auto";
    try { return localStorage.getItem("theme") || saved; } catch (e) { return saved; }
  }
  applyTheme(storedTheme());

  document.addEventListener("DOMContentLoaded", function () {
    renderMath(document.body);
    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
        try { localStorage.setItem("theme", next); } catch (e) { /* private mode */ }
        applyTheme(next);
        toggle.setAttribute("aria-label", "Colour theme: " + next);
      });
    }
  });
  // Content swapped in by htmx gets its math rendered too.
  document.addEventListener("htmx:afterSwap", function (evt) { renderMath(evt.target); });
  window.backpropRenderMath = renderMath;
})();
