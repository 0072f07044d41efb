// Sign-up: "Password again" that differs is caught before sending, so neither password
// is cleared and focus stays on the field to fix (the server checks again).
(function () {
  "use strict";
  function check(confirm) {
    var first = document.getElementById(confirm.dataset.sameAs);
    var differs = first && confirm.value && first.value !== confirm.value;
    confirm.setCustomValidity(differs ? confirm.dataset.msgDiffer || "The two passwords differ." : "");
  }
  document.addEventListener("input", function (evt) {
    var confirm = document.querySelector("[data-same-as]");
    if (confirm && (evt.target === confirm || evt.target.id === confirm.dataset.sameAs)) check(confirm);
  });
})();
