// The review session's keyboard flow and time-to-answer measurement.
// Space shows the answer, 1-4 grade, U undoes, D opens the card's demo under the card. The forms work
// without this script (and without htmx); with htmx, each answer swaps in the next stage.
(function () {
  "use strict";

  var shownAt = performance.now();

  function stage() { return document.getElementById("stage"); }

  function typingInto(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }

  function reveal() {
    var details = document.getElementById("reveal");
    if (!details || details.open) return false;
    details.open = true;
    return true;
  }

  function onToggle(evt) {
    // The answer is now visible: move focus to it, so screen readers read it and the
    // next Tab reaches the grade buttons.
    if (evt.target.id === "reveal" && evt.target.open) {
      var answer = document.getElementById("answer");
      if (answer) answer.focus({ preventScroll: true });
      if (window.backpropRenderMath) window.backpropRenderMath(evt.target);
    }
  }

  function submitWith(form, button) {
    // A click, not requestSubmit(button): htmx learns the submitter (rating) from it.
    if (!form) return;
    if (button) button.click();
    else if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  function grade(rating) {
    var details = document.getElementById("reveal");
    if (!details || !details.open) return false; // answer first, as Anki
    var form = details.querySelector(".grade-form");
    var button = form && form.querySelector('button[name="rating"][value="' + rating + '"]');
    if (!button || button.disabled) return false;
    submitWith(form, button);
    return true;
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey || evt.isComposing) return;
    if (typingInto(evt.target) || !stage()) return;
    var key = evt.key;
    var handled = false;
    if (key === " " || key === "Spacebar") {
      // A focused button or link keeps its own Space; elsewhere Space shows the answer.
      var focused = evt.target && evt.target.closest && evt.target.closest("button, a, summary");
      if (!focused || focused.tagName === "SUMMARY") handled = reveal();
    } else if (key >= "1" && key <= "4") {
      handled = grade(key);
    } else if (key === "u" || key === "U") {
      var undo = stage().querySelector(".undo-form");
      if (undo) { submitWith(undo, null); handled = true; }
    } else if (key === "d" || key === "D") {
      var demo = stage().querySelector(".demo-link");
      if (demo) { demo.click(); handled = true; }
    }
    if (handled) evt.preventDefault();
  });

  // Time to answer: from the card appearing to the grade, sent with the grade.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.classList || !form.classList.contains("grade-form")) return;
    var field = form.querySelector('input[name="duration_ms"]');
    if (field) field.value = String(Math.round(performance.now() - shownAt));
  }, true);

  document.addEventListener("toggle", onToggle, true);

  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.target.id === "practice-demo") {
      // The demo opened under the card: take the reader to it.
      var heading = evt.target.querySelector(".demo-heading");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.scrollIntoView({ block: "start" });
        heading.focus({ preventScroll: true });
      }
      return;
    }
    if (evt.target.id !== "stage" && !(evt.detail && evt.detail.target && evt.detail.target.id === "stage")) return;
    shownAt = performance.now();
    var fresh = stage();
    if (!fresh) return;
    // Keep keyboard focus inside the stage (the old focused button is gone).
    var heading = fresh.querySelector("#stage-heading");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
    window.scrollTo({ top: 0 });
  });

  // A failed request (server down, offline) must not look like a lost answer.
  function showProblem(message) {
    var box = stage();
    if (!box) return;
    var note = box.querySelector(".notice.problem");
    if (!note) {
      note = document.createElement("p");
      note.className = "notice problem";
      note.setAttribute("role", "alert");
      box.insertBefore(note, box.children[1] || null);
    }
    note.textContent = message;
  }
  document.addEventListener("htmx:sendError", function () {
    var box = stage();
    showProblem(box ? box.dataset.msgOffline : "Offline");
  });
  document.addEventListener("htmx:responseError", function (evt) {
    var box = stage();
    var status = evt.detail && evt.detail.xhr ? evt.detail.xhr.status : 0;
    showProblem((box ? box.dataset.msgError : "Server error") + " (" + status + ")");
  });
})();
