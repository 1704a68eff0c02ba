// What plain HTML cannot do: the test dialog, copy-to-clipboard, the Request/Response tabs
// and delivery rows that update themselves. Without this file every form still works; the test
// result then comes back as a page of its own, both tabs show at once, and a reload updates.
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

// Tabs: the WAI-ARIA pattern, arrows move between Request and Response.
function selectTab(tab) {
  const list = tab.closest("[role=tablist]");
  for (const other of list.querySelectorAll("[role=tab]")) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
  }
}

function setUpTabs(root) {
  for (const tabs of root.querySelectorAll("[data-tabs]")) {
    const list = tabs.querySelector("[role=tablist]");
    list.hidden = false;
    for (const heading of tabs.querySelectorAll(".panel > h4")) heading.hidden = true;
    selectTab(list.querySelector("[aria-selected=true]") || list.querySelector("[role=tab]"));
  }
}

document.addEventListener("click", (event) => {
  const tab = event.target.closest("[role=tab]");
  if (tab) selectTab(tab);
});

document.addEventListener("keydown", (event) => {
  const tab = event.target.closest("[role=tab]");
  if (!tab || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
  const tabs = [...tab.closest("[role=tablist]").querySelectorAll("[role=tab]")];
  const step = event.key === "ArrowRight" ? 1 : -1;
  const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
  selectTab(next);
  next.focus();
  event.preventDefault();
});

// While any delivery on the page is in flight, ask for those rows again and swap in the new
// ones, keeping each row open or closed as the reader left it.
const POLL_EVERY_MS = 2000;

function pollDeliveries(logs) {
  const waiting = [...logs.querySelectorAll("[data-in-flight]")];
  if (waiting.length === 0) return;
  const ids = waiting.map((row) => row.dataset.delivery).join(",");
  const url = new URL(logs.dataset.poll, window.location.href);
  url.searchParams.set("ids", ids);
  fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((answer) => {
      for (const [id, html] of Object.entries(answer.rows)) {
        const old = document.getElementById(`delivery-${id}`);
        if (!old) continue;
        const holder = document.createElement("div");
        // Rendered and escaped by the server, as the page itself is.
        holder.innerHTML = html;
        const fresh = holder.firstElementChild;
        fresh.open = old.open;
        old.replaceWith(fresh);
        setUpTabs(fresh); // once in the document, where its panels are found by id
      }
      if (answer.in_flight) setTimeout(() => pollDeliveries(logs), POLL_EVERY_MS);
    })
    .catch(() => setTimeout(() => pollDeliveries(logs), POLL_EVERY_MS * 5));
}

// Script-only buttons stay hidden when scripts do not run.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-copy-secret]")) button.hidden = false;
  setUpTabs(document);
  const logs = document.querySelector("[data-poll]");
  if (logs) setTimeout(() => pollDeliveries(logs), POLL_EVERY_MS);
});
