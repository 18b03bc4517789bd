/* Helpers shared by the operator's pages: elements, durations, a confirmation
   dialog, JSON posts with the CSRF token, messages. No dependencies. */
"use strict";

window.Ops = (function () {
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    seconds = Math.max(0, Number(seconds));
    if (seconds < 60) return seconds < 10 ? seconds.toFixed(1) + " s" : Math.round(seconds) + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + String(Math.floor(seconds % 60)).padStart(2, "0") + " s";
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " h " + String(minutes % 60).padStart(2, "0") + " min";
    return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
  }

  function percent(rate) {
    return rate === null || rate === undefined ? "—" : (rate * 100).toFixed(rate < 0.1 ? 1 : 0) + "%";
  }

  function clock(iso) {
    if (!iso) return "—";
    const moment = new Date(iso);
    return moment.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrfToken(),
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
      },
      body: new URLSearchParams(body || {}).toString(),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = { detail: "the server answered " + response.status };
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  function message(text, level) {
    const list = document.getElementById("ops-messages");
    if (!list) return;
    const item = el("li", { className: level || "success", text: text });
    list.prepend(item);
    while (list.children.length > 4) list.lastElementChild.remove();
  }

  /* Ask before acting: resolves true when the operator confirms. */
  function confirmAction(title, body, confirmLabel) {
    const dialog = document.getElementById("ops-confirm");
    if (!dialog || typeof dialog.showModal !== "function") {
      return Promise.resolve(window.confirm(title + "\n\n" + body));
    }
    dialog.querySelector("#ops-confirm-title").textContent = title;
    dialog.querySelector("#ops-confirm-body").textContent = body;
    dialog.querySelector("#ops-confirm-ok").textContent = confirmLabel || "Confirm";
    return new Promise(function (resolve) {
      dialog.addEventListener(
        "close",
        function () {
          resolve(dialog.returnValue === "confirm");
        },
        { once: true }
      );
      dialog.returnValue = "cancel";
      dialog.showModal();
    });
  }

  return { el, duration, percent, clock, postJSON, message, confirmAction };
})();
