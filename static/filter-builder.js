// The webhook form's filter builder: writes the filter's JSON for the common cases (symbols,
// a threshold on a number field, the side of a trade). The JSON textarea works without it;
// the server checks whatever is written there.
"use strict";

const NUMBER = /^-?\d+(\.\d+)?$/;
const FIELD = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

function builtFilter() {
  const value = (id) => document.getElementById(id).value.trim();
  const filter = {};
  const symbols = value("builder-symbols").split(",").map((s) => s.trim()).filter(Boolean);
  if (symbols.length) filter["data.symbol"] = { $in: symbols };
  const field = value("builder-field");
  const threshold = value("builder-threshold");
  if (field || threshold) {
    if (!FIELD.test(field)) throw new Error("Name the number field, e.g. change_percent or price.");
    if (!NUMBER.test(threshold)) throw new Error("Write the threshold as a number, e.g. 5 or 185.50.");
    filter[`data.${field}`] = { [value("builder-operator")]: Number(threshold) };
  }
  const side = value("builder-side");
  if (side) filter["data.side"] = side;
  return filter;
}

function writeFilter() {
  const error = document.getElementById("builder-error");
  const target = document.getElementById("filter");
  try {
    const filter = builtFilter();
    target.value = Object.keys(filter).length ? JSON.stringify(filter, null, 2) : "";
    error.hidden = true;
  } catch (problem) {
    error.textContent = problem.message;
    error.hidden = false;
  }
}

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-build-filter]")) writeFilter();
});

// Without this script the builder could not write anything, so it is shown only now.
document.addEventListener("DOMContentLoaded", () => {
  for (const builder of document.querySelectorAll("[data-filter-builder]")) builder.hidden = false;
});
