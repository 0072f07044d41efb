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

// A learner who never chose a time zone (still UTC) gets the browser's, preselected
// and said so; it is saved with the form.
(function () {
  "use strict";
  function preselect() {
    var select = document.getElementById("time_zone");
    if (!select || !select.dataset.fromBrowser || !window.Intl) return;
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    if (!zone || zone === select.value) return;
    var option = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
    if (!option) return;
    select.value = zone;
    var hint = document.getElementById("time_zone-hint");
    if (hint) hint.textContent = (select.dataset.msgBrowser || "%(zone)s").replace("%(zone)s", zone);
    select.dataset.preselected = zone;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", preselect);
  else preselect();
})();
