// Wallet forms: an amount is checked where it is typed, the error sits beside the field and
// what was typed stays in it. The server checks again (limits, balance) and answers beside
// the field too (templates/wallet/index.html).
(function () {
  "use strict";
  const AMOUNT = /^\d{1,12}(\.\d{1,2})?$/;

  function check(form) {
    const input = form.querySelector("[data-amount]");
    const error = document.getElementById(input.getAttribute("aria-describedby").split(" ").pop());
    const value = input.value.trim();
    let problem = "";
    if (value === "") problem = "Enter an amount.";
    else if (!AMOUNT.test(value)) problem = "Enter an amount in plain digits with at most two decimals, for example 50.00.";
    else if (/^0+(\.0+)?$/.test(value)) problem = "Enter an amount above zero.";
    error.textContent = problem;
    if (problem) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    return !problem;
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-amount-form]").forEach((form) => {
      const input = form.querySelector("[data-amount]");
      form.addEventListener("submit", (event) => {
        if (!check(form)) { event.preventDefault(); input.focus(); return; }
        // kept for this tab only, so a refusal from the server does not lose what was typed
        try { sessionStorage.setItem("bt-amount:" + input.id, input.value); } catch (e) { /* storage off */ }
      });
      let kept = null;
      try { kept = sessionStorage.getItem("bt-amount:" + input.id); sessionStorage.removeItem("bt-amount:" + input.id); } catch (e) { kept = null; }
      // a refusal from the server: the typed amount comes back and the focus goes to the field
      if (input.getAttribute("aria-invalid") === "true") {
        if (kept && !input.value) input.value = kept;
        input.focus();
        // the redirect's #fragment is scrolled to after load, which resets focus: focus again
        window.addEventListener("load", () => setTimeout(() => input.focus(), 0), { once: true });
      }
    });
  });
})();
