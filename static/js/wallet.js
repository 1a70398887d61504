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
      form.addEventListener("submit", (event) => {
        if (!check(form)) { event.preventDefault(); form.querySelector("[data-amount]").focus(); }
      });
    });
    // a refusal from the server: put the focus on the field it is about
    const invalid = document.querySelector("form[data-amount-form] [aria-invalid=true]");
    if (invalid) invalid.focus();
  });
})();
