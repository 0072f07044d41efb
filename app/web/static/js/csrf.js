// CSRF: state-changing requests must carry the session's token (see app/web/security.py).
// Forms carry it as a hidden field; htmx requests get the X-CSRF-Token header here, and
// scripts use backprop.fetch(url, options), which adds it to every non-GET call.
(function () {
  "use strict";

  var SAFE = { GET: 1, HEAD: 1, OPTIONS: 1 };

  function token() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var verb = (evt.detail.verb || "get").toUpperCase();
    if (!SAFE[verb]) evt.detail.headers["X-CSRF-Token"] = token();
  });

  function csrfFetch(url, options) {
    options = Object.assign({ credentials: "same-origin" }, options || {});
    var method = (options.method || "GET").toUpperCase();
    if (!SAFE[method]) {
      var headers = new Headers(options.headers || {});
      headers.set("X-CSRF-Token", token());
      options.headers = headers;
    }
    return window.fetch(url, options);
  }

  window.backprop = window.backprop || {};
  window.backprop.csrfToken = token;
  window.backprop.fetch = csrfFetch;
})();
