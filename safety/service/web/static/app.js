// Keys, reveal one subject at a time, flagged-frame markers that seek, the break
// reminder, bulk confirmation. Server-rendered pages; this only adds behaviour.
(function () {
  "use strict";
  const typing = (el) => el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);

  // Reveal: one subject (its player, or the face pair) at a time, never everything.
  function setRevealed(container, reveal) {
    container.querySelectorAll(".shielded, .revealed").forEach((el) => {
      el.classList.toggle("shielded", !reveal);
      el.classList.toggle("revealed", reveal);
    });
    const button = container.querySelector(":scope > .reveal, :scope .at > .reveal");
    if (button) {
      button.setAttribute("aria-pressed", String(reveal));
      if (button.classList.contains("frame-reveal")) {
        button.textContent = reveal ? "Hide this frame" : "Reveal this frame only";
      } else {
        button.textContent = reveal ? "Hide (v)" : "Reveal (v)";
      }
    }
  }

  // What reveals as one: the reason's faces, a subject's player, one flagged frame.
  function hideAllBut(container) {
    document.querySelectorAll(".revealable").forEach((c) => { if (c !== container) setRevealed(c, false); });
  }

  function toggle(container) {
    const reveal = !!container.querySelector(".shielded");
    if (reveal) hideAllBut(container);
    setRevealed(container, reveal);
  }

  function currentContainer() {
    const open = document.querySelector(".revealable .revealed");
    if (open) return open.closest(".revealable");
    return document.querySelector(".revealable");
  }

  // A marker seeks its player to the flagged frame and shows that frame's findings.
  function seek(marker) {
    const section = marker.closest(".subject");
    const video = section.querySelector("video");
    if (video) { video.pause(); video.currentTime = parseFloat(marker.dataset.time); }
    section.querySelectorAll(".marker").forEach((m) => m.classList.toggle("current", m === marker));
    section.querySelectorAll(".marker-findings").forEach((ul) => { ul.hidden = ul.dataset.marker !== marker.dataset.marker; });
  }

  function placeMarkers(section) {
    const video = section.querySelector("video");
    if (!video || !isFinite(video.duration) || video.duration <= 0) return;
    section.querySelectorAll(".marker").forEach((m) => {
      m.style.left = (100 * parseFloat(m.dataset.time) / video.duration) + "%";
      m.classList.add("placed");
    });
  }

  function moveSelection(step) {
    const rows = Array.from(document.querySelectorAll("tr[data-href]"));
    if (!rows.length) return false;
    let i = rows.findIndex((r) => r.classList.contains("selected"));
    rows.forEach((r) => r.classList.remove("selected"));
    i = Math.min(rows.length - 1, Math.max(0, i + step));
    rows[i].classList.add("selected");
    rows[i].scrollIntoView({ block: "nearest" });
    return true;
  }

  // One keystroke picks the decision and its first reason; Enter (on the focused
  // confirm button) submits it.
  function chooseDecision(decision) {
    const radio = document.getElementById("decision-" + decision);
    if (!radio) return false;
    radio.checked = true;
    const reason = document.getElementById("reason");
    const first = reason && reason.querySelector('optgroup[label="' + decision + '"] option');
    if (first) reason.value = first.value;
    document.getElementById("submit-decision").focus();
    return true;
  }

  function breakReminder() {
    const body = document.body;
    if (!body.dataset.since) return;
    const started = parseFloat(body.dataset.since) * 1000 - (parseFloat(body.dataset.now) * 1000 - Date.now());
    const limit = parseFloat(body.dataset.breakAfterMin) * 60000;
    const timer = document.getElementById("timer");
    const tick = () => {
      const minutes = Math.floor((Date.now() - started) / 60000);
      if (timer) timer.textContent = "reviewing for " + minutes + " min";
      document.getElementById("break-reminder").hidden = Date.now() - started < limit;
    };
    tick();
    setInterval(tick, 30000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".reveal").forEach((b) =>
      b.addEventListener("click", () => toggle(b.closest(".revealable"))));
    document.querySelectorAll(".marker").forEach((m) => m.addEventListener("click", () => seek(m)));
    document.querySelectorAll(".subject").forEach((section) => {
      const video = section.querySelector("video");
      if (!video) return;
      video.addEventListener("loadedmetadata", () => placeMarkers(section));
      placeMarkers(section);
    });
    document.querySelectorAll("tr[data-href]").forEach((row) =>
      row.addEventListener("dblclick", () => (window.location = row.dataset.href)));
    const bulk = document.getElementById("bulk");
    if (bulk) bulk.addEventListener("submit", (ev) => {
      const n = bulk.querySelectorAll("input[name=tickets]:checked").length;
      const what = bulk.querySelector("select[name=decision]").value;
      if (!window.confirm("Apply '" + what + "' to " + n + " item(s)?")) ev.preventDefault();
    });
    breakReminder();
  });

  document.addEventListener("keydown", (ev) => {
    if (typing(document.activeElement) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const selected = document.querySelector("tr.selected");
    let handled = true;
    switch (ev.key) {
      case "j": handled = moveSelection(1); break;
      case "k": handled = moveSelection(-1); break;
      case "Enter": handled = !!selected; if (selected) window.location = selected.dataset.href; break;
      case "x": if (selected) { const box = selected.querySelector("input[type=checkbox]"); box.checked = !box.checked; } else handled = false; break;
      case "v": { const c = currentContainer(); if (c) toggle(c); else handled = false; break; }
      case "c": { const f = document.getElementById("claim"); if (f) f.submit(); else handled = false; break; }
      case "a": handled = chooseDecision("approve"); break;
      case "r": handled = chooseDecision("reject"); break;
      case "e": handled = chooseDecision("escalate"); break;
      default: handled = false;
    }
    if (handled) ev.preventDefault();
  });
})();
