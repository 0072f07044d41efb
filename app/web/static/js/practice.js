// The review session's keyboard flow and time-to-answer measurement.
// Space (or Enter) shows the answer and then grades Good, 1-4 grade, U undoes, - buries,
// @ suspends, Ctrl+1..4 flag, I shows card info, E edits (admins), D opens the card's
// demo under the card: Anki's keys where Anki has one. The forms work
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

  function clickIn(selector) {
    var target = stage().querySelector(selector);
    if (!target) return false;
    // A link that loads under the card: ask htmx directly, so a key pressed while
    // htmx is still settling a fresh stage never turns into a page load.
    var into = target.getAttribute("hx-target");
    if (window.htmx && target.tagName === "A" && into) {
      window.htmx.ajax("GET", target.getAttribute("hx-get"), { target: into, swap: "innerHTML" });
      return true;
    }
    target.click();
    return true;
  }

  function answerShown() {
    var details = document.getElementById("reveal");
    return !!(details && details.open);
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.isComposing || typingInto(evt.target) || !stage()) return;
    var key = evt.key;
    var handled = false;
    if (evt.ctrlKey && !evt.altKey && !evt.metaKey && key >= "1" && key <= "4") {
      // Anki's flags: Ctrl+1..4 (the same again clears it).
      handled = clickIn('.flag-form button.flag-' + key);
      if (handled) evt.preventDefault();
      return;
    }
    if (evt.ctrlKey || evt.metaKey || evt.altKey) return;
    var focused = evt.target && evt.target.closest && evt.target.closest("button, a, summary, select");
    var onControl = focused && focused.tagName !== "SUMMARY";
    if (key === " " || key === "Spacebar" || key === "Enter") {
      // A focused button or link keeps its own Space and Enter; elsewhere they show the
      // answer, and once it is shown they grade Good, as in Anki.
      if (!onControl) handled = answerShown() ? grade("3") : reveal();
    } else if (key >= "1" && key <= "4") {
      handled = grade(key);
    } else if (key === "u" || key === "U") {
      var undo = stage().querySelector(".undo-form");
      if (undo) { submitWith(undo, null); handled = true; }
    } else if (key === "-") {
      handled = clickIn(".bury-form button");
    } else if (key === "@") {
      handled = clickIn(".suspend-form button");
    } else if (key === "i" || key === "I") {
      handled = clickIn(".info-link");
    } else if (key === "e" || key === "E") {
      handled = clickIn(".edit-link");
    } else if (key === "d" || key === "D") {
      handled = clickIn(".demo-link");
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

  // Keyboard focus starts on "Show answer" (no Tab through the header first); the
  // heading is not focused, so no focus box lands on each new card's title.
  function focusStart(root) {
    var button = root && root.querySelector(".reveal-button");
    if (button) button.focus({ preventScroll: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { focusStart(stage()); });
  } else focusStart(stage());

  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.target.id === "practice-info") {
      var title = evt.target.querySelector("#card-info-h");
      if (title) { title.scrollIntoView({ block: "start" }); title.focus({ preventScroll: true }); }
      return;
    }
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
    focusStart(fresh);
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
