// Two things plain HTML cannot do: the test dialog and copy-to-clipboard. Without this file
// every form still works; the test result then comes back as a page of its own.
"use strict";

function openTestDialog(form) {
  const dialog = document.getElementById("test-dialog");
  const body = document.getElementById("test-dialog-body");
  if (!dialog || typeof dialog.showModal !== "function") return false;
  body.textContent = "Sending the test event…";
  dialog.showModal();
  fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { "X-Requested-With": "fetch" },
    credentials: "same-origin",
  })
    .then(async (response) => {
      if (response.ok) {
        // Rendered and escaped by the server: the endpoint's answer is text, never markup.
        body.innerHTML = await response.text();
      } else if (response.status === 429) {
        body.textContent = "Too many test sends. Wait a minute, then try again.";
      } else {
        body.textContent = `Signalpost could not send the test (HTTP ${response.status}). Reload the page and try again.`;
      }
    })
    .catch(() => {
      body.textContent = "Signalpost did not answer. Check that it is running, then try again.";
    });
  return true;
}

function copyText(button, text, source) {
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else if (source) {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    if (document.execCommand("copy")) done();
  }
}

function copyFrom(button) {
  const source = document.querySelector(button.dataset.copy);
  if (source) copyText(button, source.textContent.trim(), source);
}

// Copy while the secret stays masked: the reveal POST answers this script with the secret alone.
function copySecret(button) {
  const form = button.form;
  fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { "X-Requested-With": "fetch" },
    credentials: "same-origin",
  })
    .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
    .then((secret) => copyText(button, secret, null))
    .catch(() => { button.textContent = "Copy failed"; });
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches("[data-test-form]") && openTestDialog(form)) event.preventDefault();
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (button) copyFrom(button);
  const secretButton = event.target.closest("[data-copy-secret]");
  if (secretButton) copySecret(secretButton);
});

// Script-only buttons stay hidden when scripts do not run.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-copy-secret]")) button.hidden = false;
});
