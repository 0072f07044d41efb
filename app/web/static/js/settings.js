// Settings page: saving a theme also updates this device's toggle (app.js reads it).
(function () {
  "use strict";
  document.addEventListener("submit", function (evt) {
    if (!evt.target.classList || !evt.target.classList.contains("settings-form")) return;
    var theme = evt.target.querySelector('select[name="theme"]');
    if (!theme) return;
    try { localStorage.setItem("theme", theme.value); } catch (e) { /* private mode */ }
  });
})();
