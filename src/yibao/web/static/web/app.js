// yibao: the little the pages need beyond htmx. No inline scripts (CSP script-src 'self').
(function () {
  "use strict";
  // A form submits once: a double tap does not send it twice (the server's idempotency
  // key makes a resend harmless anyway, this only spares the queue).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.once === undefined) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      b.classList.add("busy");
      if (b.dataset.busyText) b.textContent = b.dataset.busyText;
    });
  });
  // Print buttons and pages opened to be printed.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-print]");
    if (target) { event.preventDefault(); window.print(); }
  });
  window.addEventListener("load", function () {
    if (document.body.dataset.autoprint === "1") window.print();
    // The tier columns on the person card: tapping a column picks its tier.
    document.querySelectorAll(".quote input[type=radio]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var group = document.querySelectorAll("input[name='" + radio.name + "']");
        group.forEach(function (r) { r.closest(".quote").classList.toggle("selected", r.checked); });
      });
    });
  });
})();
