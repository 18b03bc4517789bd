/* Forms with data-confirm-title ask in the page's dialog before they submit. */
"use strict";

document.addEventListener("submit", async function (event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirmTitle || form.dataset.confirmed) return;
  event.preventDefault();
  const submitter = event.submitter;
  const ok = await window.Ops.confirmAction(
    form.dataset.confirmTitle,
    form.dataset.confirmBody || "",
    form.dataset.confirmLabel || "Confirm"
  );
  if (!ok) return;
  form.dataset.confirmed = "yes";
  if (submitter) submitter.disabled = true;
  form.submit();
});
