// Mock interview: the countdown (from the server's remaining time, so a reload or a
// second device shows the same clock), the auto-submit when time runs out, draft saving,
// and the keyboard: Ctrl+Enter hands in the answer; on the checklist 1-9 toggle the key
// points and Enter confirms. The forms work without this script.
(function () {
  "use strict";

  function stage() { return document.getElementById("interview"); }

  function format(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    var m = Math.floor(s / 60);
    s = s % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  // Set once the answer is handed in: no draft may follow it (the server refuses a
  // draft for an answered question with 409).
  var handedIn = false;

  function submitAnswer(action) {
    var form = document.getElementById("answer-form");
    if (!form || form.dataset.sent) return;
    stopDrafts();
    var button = form.querySelector('button[name="action"][value="' + action + '"]');
    form.dataset.sent = "1";
    if (button) button.click(); else form.submit();
  }

  function startTimer() {
    var el = document.getElementById("countdown");
    if (!el) return;
    var end = performance.now() + parseInt(el.dataset.remainingMs || "0", 10);
    var budget = parseInt(el.dataset.budgetS || "0", 10) * 1000;
    function tick() {
      var left = end - performance.now();
      el.textContent = left > 0 ? format(left) : el.dataset.msgUp;
      el.classList.toggle("is-low", left > 0 && left <= Math.min(30000, budget / 4));
      el.classList.toggle("is-up", left <= 0);
      if (left <= 0) { submitAnswer("done"); return; }
      window.setTimeout(tick, Math.min(250, Math.max(20, left)));
    }
    tick();
  }

  var draftTimer = null;
  var lastSaved = null;
  function stopDrafts() {
    handedIn = true;
    if (draftTimer) window.clearTimeout(draftTimer);
    draftTimer = null;
  }

  function saveDraft() {
    if (handedIn) return;
    var root = stage();
    var area = document.getElementById("answer");
    if (!root || !area || !window.backprop || area.value === lastSaved) return;
    var text = area.value;
    var status = document.getElementById("draft-status");
    window.backprop.fetch("/api/interview/" + root.dataset.interviewId + "/draft", {
      method: "PUT",
      keepalive: true,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ position: parseInt(root.dataset.position, 10), text: text }),
    }).then(function (response) {
      if (response.ok) {
        lastSaved = text;
        if (status) status.textContent = status.dataset.saved || "✓";
        root.dataset.draftSaved = String(text.length);
      }
    }).catch(function () { /* offline: the next keystroke tries again */ });
  }

  function onInput(evt) {
    if (evt.target.id !== "answer" || handedIn) return;
    if (draftTimer) window.clearTimeout(draftTimer);
    draftTimer = window.setTimeout(saveDraft, 600);
  }

  function toggle(n) {
    var boxes = document.querySelectorAll("#confirm-form .iv-tick");
    var box = boxes[n - 1];
    if (!box || box.disabled) return false;
    box.checked = !box.checked;
    box.focus({ preventScroll: true });
    return true;
  }

  document.addEventListener("keydown", function (evt) {
    var root = stage();
    if (!root || evt.isComposing) return;
    var phase = root.dataset.phase;
    if (phase === "answering") {
      if (evt.key === "Enter" && (evt.ctrlKey || evt.metaKey)) {
        evt.preventDefault();
        submitAnswer("done");
      }
      return;
    }
    if (evt.ctrlKey || evt.metaKey || evt.altKey) return;
    var onControl = evt.target && evt.target.closest && evt.target.closest("a, button, summary, textarea");
    if (evt.key >= "1" && evt.key <= "9") {
      if (toggle(parseInt(evt.key, 10))) evt.preventDefault();
    } else if (evt.key === "Enter" && !onControl) {
      var form = document.getElementById("confirm-form");
      if (form && !form.dataset.sent) {
        evt.preventDefault();
        form.dataset.sent = "1";
        form.submit();
      }
    }
  });

  document.addEventListener("input", onInput);
  // Done or Skip clicked (or Enter in the form): the answer goes with the form itself.
  document.addEventListener("submit", function (evt) {
    if (evt.target && evt.target.id === "answer-form") stopDrafts();
  }, true);
  document.addEventListener("DOMContentLoaded", function () {
    var area = document.getElementById("answer");
    if (area) {
      lastSaved = area.value;
      area.focus();
      area.setSelectionRange(area.value.length, area.value.length);
    }
    var confirm = document.getElementById("confirm-button");
    if (confirm && !area) confirm.focus({ preventScroll: true });
    startTimer();
  });
  // Leaving the page with unsaved words: send them now.
  window.addEventListener("pagehide", saveDraft);
})();
