// Keyboard shortcuts and the reveal toggle. Server-rendered pages; this only adds keys.
(function () {
  "use strict";
  const typing = (el) => el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);

  function toggleReveal() {
    const shielded = document.querySelectorAll("#media, .faces img");
    const button = document.getElementById("reveal");
    if (!shielded.length) return;
    const reveal = shielded[0].classList.contains("shielded");
    shielded.forEach((el) => el.classList.toggle("shielded", !reveal));
    if (button) {
      button.setAttribute("aria-pressed", String(reveal));
      button.textContent = reveal ? "Hide (v)" : "Reveal (v)";
    }
  }

  function moveSelection(step) {
    const rows = Array.from(document.querySelectorAll("tr[data-href]"));
    if (!rows.length) return;
    let i = rows.findIndex((r) => r.classList.contains("selected"));
    rows.forEach((r) => r.classList.remove("selected"));
    i = Math.min(rows.length - 1, Math.max(0, i + step));
    rows[i].classList.add("selected");
    rows[i].scrollIntoView({ block: "nearest" });
  }

  function chooseDecision(decision) {
    const radio = document.getElementById("decision-" + decision);
    if (!radio) return;
    radio.checked = true;
    const reason = document.getElementById("reason");
    const group = reason && reason.querySelector('optgroup[label="' + decision + '"] option');
    if (group) reason.value = group.value;
    if (reason) reason.focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("reveal");
    if (button) button.addEventListener("click", toggleReveal);
    document.querySelectorAll("tr[data-href]").forEach((row) =>
      row.addEventListener("dblclick", () => (window.location = row.dataset.href)));
  });

  document.addEventListener("keydown", (ev) => {
    if (typing(document.activeElement) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const selected = document.querySelector("tr.selected");
    switch (ev.key) {
      case "j": moveSelection(1); break;
      case "k": moveSelection(-1); break;
      case "Enter": if (selected) window.location = selected.dataset.href; break;
      case "x": if (selected) { const box = selected.querySelector("input[type=checkbox]"); box.checked = !box.checked; } break;
      case "v": toggleReveal(); break;
      case "c": { const f = document.getElementById("claim"); if (f) f.submit(); break; }
      case "a": chooseDecision("approve"); break;
      case "r": chooseDecision("reject"); break;
      case "e": chooseDecision("escalate"); break;
      default: return;
    }
    ev.preventDefault();
  });
})();
