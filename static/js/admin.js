// Staff console: Django's split widgets (amount + currency, date + time) render inputs that
// no <label> points at; name each part after its field's label so screen readers say it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("input[id], select[id], textarea[id]").forEach((field) => {
      if (field.type === "hidden" || (field.labels && field.labels.length) || field.getAttribute("aria-label")) return;
      const match = /^(.*)_(\d+)$/.exec(field.id);
      if (!match) return;
      // Django 4+ renders a MultiWidget's <label> without "for"; it sits in the field's row
      const row = field.closest(".form-row, .fieldBox");
      const label = document.querySelector('label[for="' + match[1] + '"]') || (row && row.querySelector("label"));
      if (!label) return;
      const base = label.textContent.replace(/:$/, "").trim();
      let part = field.tagName === "SELECT" ? "currency" : "amount";
      if (field.classList.contains("vDateField")) part = "date";
      if (field.classList.contains("vTimeField")) part = "time";
      field.setAttribute("aria-label", base + " (" + part + ")");
    });
  });
})();
