/* The live dashboard: polls the dashboard's JSON every few seconds while the tab
   is visible, and updates queues, charts, workers and stuck jobs in place. */
"use strict";

(function () {
  const Ops = window.Ops;
  const el = Ops.el;
  const config = JSON.parse(document.getElementById("ops-config").textContent);
  const root = document.querySelector(".ops-dashboard");
  const statusLine = document.getElementById("ops-status");
  const state = { timer: null, chartsTimer: null, fetches: 0, chartFetches: 0, charts: null, busy: false };
  window.opsDashboard = state;

  function url(template, values) {
    return Object.entries(values).reduce(function (text, [key, value]) {
      return text.replace(key, encodeURIComponent(value));
    }, template);
  }

  function jobLink(id, text) {
    return el("a", { href: url(config.jobUrl, { JOB: id }), text: text || id.slice(0, 8), title: id });
  }

  /* Keep one row per item (by key) in tbody, in the items' order. */
  function syncRows(tbody, items, key, build, update) {
    const existing = new Map();
    for (const row of Array.from(tbody.children)) existing.set(row.dataset.key, row);
    const wanted = [];
    for (const item of items) {
      const id = String(key(item));
      let row = existing.get(id);
      if (!row) {
        row = build(item);
        row.dataset.key = id;
      }
      update(row, item);
      existing.delete(id);
      wanted.push(row);
    }
    existing.forEach(function (row) { row.remove(); });
    wanted.forEach(function (row) { tbody.append(row); });
  }

  function setText(node, text) {
    text = String(text);
    if (node.textContent !== text) node.textContent = text;
  }

  // QUEUES ------------------------------------------------------------------

  async function queueAction(queue, action) {
    const texts = {
      pause: ["Pause queue " + queue.name + "?",
        "No job of " + queue.name + " starts on any worker until it is resumed, including workers started later. " +
        queue.waiting + " waiting job(s) stay queued; running jobs finish.", "Pause"],
      resume: ["Resume queue " + queue.name + "?",
        "Workers consume " + queue.name + " again: its " + queue.waiting + " waiting job(s) start.", "Resume"],
      purge: ["Purge queue " + queue.name + "?",
        "Its " + queue.waiting + " waiting job(s) are cancelled and their messages removed from Redis. " +
        "Running jobs go on. Cancelled jobs can be retried later.", "Purge"],
    }[action];
    if (!(await Ops.confirmAction(texts[0], texts[1], texts[2]))) return;
    const answer = await Ops.postJSON(url(config.queueActionUrl, { QUEUE: queue.name, ACTION: action }));
    Ops.message(answer.data.message || answer.data.detail || "Done.", answer.ok ? "success" : "error");
    refresh();
  }

  function queueState(queue) {
    if (queue.paused) return el("span", { className: "ops-badge ops-paused", text: "paused" });
    if (queue.unconsumed) return el("span", { className: "ops-badge ops-bad", text: "no consumer", title: "jobs wait and no live worker consumes this queue" });
    return el("span", { className: "ops-badge ops-ok", text: "active" });
  }

  function outcomes(completed, failed, rate) {
    return completed + " / " + failed + " · " + Ops.percent(rate);
  }

  function buildQueueRow(queue) {
    const cells = ["name", "state", "waiting", "oldest", "running", "consumers", "rate", "hour", "day"].map(function (name) {
      return el(name === "name" ? "th" : "td", { className: "ops-q-" + name + (["waiting", "oldest", "running", "rate", "hour", "day"].includes(name) ? " num" : "") });
    });
    const row = el("tr", { className: "ops-queue-row", dataset: { queue: queue.name } }, cells);
    row.querySelector(".ops-q-name").append(el("a", { href: config.jobsUrl + "?queue=" + encodeURIComponent(queue.name), text: queue.name }));
    if (config.canChangeQueues) row.append(el("td", { className: "ops-q-actions" }));
    return row;
  }

  function updateQueueRow(row, queue) {
    const stateCell = row.querySelector(".ops-q-state");
    const stateKey = queue.paused ? "paused" : queue.unconsumed ? "unconsumed" : "active";
    if (stateCell.dataset.state !== stateKey) {
      stateCell.replaceChildren(queueState(queue));
      stateCell.dataset.state = stateKey;
    }
    row.dataset.paused = queue.paused ? "true" : "false";
    setText(row.querySelector(".ops-q-waiting"), queue.waiting + (queue.awaiting_resend ? " (" + queue.awaiting_resend + " to re-send)" : ""));
    setText(row.querySelector(".ops-q-oldest"), Ops.duration(queue.oldest_waiting_s));
    setText(row.querySelector(".ops-q-running"), queue.running);
    setText(row.querySelector(".ops-q-consumers"), queue.consumers.length ? queue.consumers.join(", ") : "—");
    setText(row.querySelector(".ops-q-rate"), queue.per_minute_1h);
    setText(row.querySelector(".ops-q-hour"), outcomes(queue.completed_1h, queue.failed_1h, queue.failure_rate_1h));
    setText(row.querySelector(".ops-q-day"), outcomes(queue.completed_24h, queue.failed_24h, queue.failure_rate_24h));
    const actions = row.querySelector(".ops-q-actions");
    if (actions && actions.dataset.paused !== String(queue.paused)) {
      actions.dataset.paused = String(queue.paused);
      actions.replaceChildren(
        el("button", { type: "button", className: "button ops-" + (queue.paused ? "resume" : "pause"),
          text: queue.paused ? "Resume" : "Pause", onclick: function () { queueAction(row._queue, queue.paused ? "resume" : "pause"); } }),
        " ",
        el("button", { type: "button", className: "button ops-purge", text: "Purge…", onclick: function () { queueAction(row._queue, "purge"); } })
      );
    }
    row._queue = queue;
  }

  // WORKERS -------------------------------------------------------------------

  function progressBar(job) {
    const bar = el("div", { className: "ops-progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" }, [
      el("div", { className: "ops-progress-fill" }),
      el("span", { className: "ops-progress-text" }),
    ]);
    return bar;
  }

  function buildJobItem(job) {
    return el("li", { className: "ops-job", dataset: { jobId: job.id } }, [
      el("div", { className: "ops-job-head" }, [jobLink(job.id), " ", el("span", { className: "ops-job-type", text: job.job_type }), " ", el("span", { className: "ops-job-meta" })]),
      progressBar(job),
    ]);
  }

  function updateJobItem(item, job) {
    const bar = item.querySelector(".ops-progress");
    bar.setAttribute("aria-valuenow", job.progress);
    bar.dataset.progress = job.progress;
    item.querySelector(".ops-progress-fill").style.width = job.progress + "%";
    setText(item.querySelector(".ops-progress-text"), job.progress + "%" + (job.progress_message ? " · " + job.progress_message : ""));
    setText(item.querySelector(".ops-job-meta"), "attempt " + job.attempt + "/" + job.max_attempts + " · running " + Ops.duration(job.running_s) + " · beat " + Ops.duration(job.heartbeat_ago_s) + " ago");
  }

  function buildWorker(worker) {
    return el("article", { className: "ops-worker", dataset: { worker: worker.name } }, [
      el("header", {}, [el("strong", { className: "ops-worker-name", text: worker.name }), " ", el("span", { className: "ops-worker-state" })]),
      el("p", { className: "ops-worker-meta" }),
      el("ul", { className: "ops-jobs" }),
    ]);
  }

  function updateWorker(card, worker) {
    card.classList.toggle("ops-silent", !worker.answering);
    const stateKey = worker.answering ? "ok" : "silent";
    const stateCell = card.querySelector(".ops-worker-state");
    if (stateCell.dataset.state !== stateKey) {
      stateCell.dataset.state = stateKey;
      stateCell.replaceChildren(worker.answering
        ? el("span", { className: "ops-badge ops-ok", text: "answering" })
        : el("span", { className: "ops-badge ops-bad", text: worker.has_record ? "not answering" : "no presence record" }));
    }
    const parts = [];
    parts.push("queues: " + (worker.queues.length ? worker.queues.join(", ") : "none"));
    if (worker.concurrency) parts.push("concurrency " + worker.concurrency);
    if (worker.prefetch_multiplier) parts.push("prefetch ×" + worker.prefetch_multiplier);
    parts.push(worker.seen_ago_s === null ? "no presence beat" : "last beat " + Ops.duration(worker.seen_ago_s) + " ago");
    parts.push(worker.jobs.length + " running");
    setText(card.querySelector(".ops-worker-meta"), parts.join(" · "));
    const list = card.querySelector(".ops-jobs");
    syncRows(list, worker.jobs, function (job) { return job.id; }, buildJobItem, updateJobItem);
    if (!worker.jobs.length && !list.querySelector(".ops-idle")) {
      list.append(el("li", { className: "ops-idle", text: "idle" }));
    } else if (worker.jobs.length) {
      const idle = list.querySelector(".ops-idle");
      if (idle) idle.remove();
    }
  }

  // STUCK JOBS ------------------------------------------------------------------

  async function jobAction(job, action) {
    const texts = {
      rerun: ["Re-run job " + job.id.slice(0, 8) + "?",
        "The job (" + job.job_type + ") is cancelled — its process killed if it still runs — and queued again as a new attempt.", "Re-run"],
      fail: ["Fail job " + job.id.slice(0, 8) + " for good?",
        "The job (" + job.job_type + ") is marked failed, its type's failure hook runs, and a running process is killed. It can be retried later.", "Fail"],
    }[action];
    if (!(await Ops.confirmAction(texts[0], texts[1], texts[2]))) return;
    const answer = await Ops.postJSON(url(config.jobActionUrl, { JOB: job.id, ACTION: action }));
    Ops.message(answer.data.message || answer.data.detail || "Done.", answer.ok ? "success" : "error");
    refresh();
  }

  function stuckRow(kind) {
    return function (job) {
      const cells = [el("td", {}, [jobLink(job.id), " ", el("span", { className: "ops-job-type", text: job.job_type })]),
        el("td", { text: kind === "running" ? job.worker : job.queue }),
        el("td", { className: "ops-why" }),
        el("td", { className: "num ops-figure" })];
      if (config.canChangeJobs) {
        cells.push(el("td", {}, [
          el("button", { type: "button", className: "button ops-rerun", text: "Re-run", onclick: function () { jobAction(job, "rerun"); } }),
          " ",
          el("button", { type: "button", className: "button ops-fail", text: "Fail", onclick: function () { jobAction(job, "fail"); } }),
        ]));
      }
      return el("tr", {}, cells);
    };
  }

  function updateStuck(kind) {
    return function (row, job) {
      setText(row.querySelector(".ops-why"), job.reason);
      setText(row.querySelector(".ops-figure"), kind === "running" ? job.progress + "%" : Ops.duration(job.waiting_s));
    };
  }

  function renderStuck(table, jobs, kind, emptyText) {
    const body = table.tBodies[0];
    const rows = jobs.length ? jobs : [];
    syncRows(body, rows, function (job) { return job.id; }, stuckRow(kind), updateStuck(kind));
    if (!rows.length) {
      body.replaceChildren(el("tr", { dataset: { key: "none" } }, [el("td", { colspan: "5", className: "ops-none", text: emptyText })]));
    }
  }

  // RENDERING -----------------------------------------------------------------

  function render(data) {
    const tbody = document.querySelector("#ops-queue-table tbody");
    syncRows(tbody, data.queues, function (queue) { return queue.name; }, buildQueueRow, updateQueueRow);
    const select = document.getElementById("ops-chart-queue");
    for (const queue of data.queues) {
      if (!select.querySelector('option[value="' + CSS.escape(queue.name) + '"]')) {
        select.append(el("option", { value: queue.name, text: queue.name }));
      }
    }
    setText(document.getElementById("ops-running-total"), data.running_total + " job(s) running");
    const list = document.getElementById("ops-worker-list");
    if (!data.workers.length) {
      list.replaceChildren(el("p", { className: "ops-none", dataset: { key: "none" }, text: "No worker has a presence record and no job runs." }));
    } else {
      const none = list.querySelector(".ops-none");
      if (none) none.remove();
      syncRows(list, data.workers, function (worker) { return worker.name; }, buildWorker, updateWorker);
    }
    renderStuck(document.getElementById("ops-stuck-running"), data.stuck.running, "running", "None: every running job's heartbeat is fresh.");
    renderStuck(document.getElementById("ops-stuck-waiting"), data.stuck.waiting, "waiting", "None: no job waits far past its queue's usual wait.");
    root.dataset.generatedAt = data.generated_at;
  }

  function drawCharts() {
    if (!state.charts) return;
    const queue = document.getElementById("ops-chart-queue").value;
    for (const [name, boxId] of [["hour", "ops-chart-hour"], ["day", "ops-chart-day"]]) {
      const series = state.charts[name];
      const picked = queue ? [series.queues[queue]].filter(Boolean) : Object.values(series.queues);
      const sum = function (kind) {
        return series.starts.map(function (_, index) {
          return picked.reduce(function (total, one) { return total + (one[kind][index] || 0); }, 0);
        });
      };
      const labels = series.starts.map(function (start) { return start.slice(11, 16); });
      window.OpsCharts.stackedBars(document.getElementById(boxId), labels, [
        { name: "completed", className: "ops-bar-completed", values: sum("completed") },
        { name: "failed", className: "ops-bar-failed", values: sum("failed") },
      ]);
    }
  }

  async function getJSON(address) {
    const response = await fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("the server answered " + response.status);
    return response.json();
  }

  async function refresh() {
    if (state.busy) return;
    state.busy = true;
    try {
      const data = await getJSON(config.dataUrl);
      state.fetches += 1;
      render(data);
      statusLine.textContent = "Live: updated " + Ops.clock(data.generated_at) + ", refreshing every " + config.pollS + " s while this tab is visible.";
      statusLine.classList.remove("ops-stale");
    } catch (error) {
      statusLine.textContent = "Could not refresh (" + error.message + "); trying again in " + config.pollS + " s.";
      statusLine.classList.add("ops-stale");
    } finally {
      state.busy = false;
    }
  }

  async function refreshCharts() {
    try {
      state.charts = await getJSON(config.chartsUrl);
      state.chartFetches += 1;
      drawCharts();
    } catch (error) {
      statusLine.textContent = "Could not load the charts (" + error.message + ").";
    }
  }

  function stop() {
    clearInterval(state.timer);
    clearInterval(state.chartsTimer);
    state.timer = state.chartsTimer = null;
    root.dataset.polling = "off";
    statusLine.textContent = "Paused while this tab is hidden.";
  }

  function start() {
    stop();
    root.dataset.polling = "on";
    refresh();
    refreshCharts();
    state.timer = setInterval(refresh, config.pollS * 1000);
    state.chartsTimer = setInterval(refreshCharts, config.chartsPollS * 1000);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") start();
    else stop();
  });
  document.getElementById("ops-chart-queue").addEventListener("change", drawCharts);
  window.addEventListener("resize", drawCharts);

  render(JSON.parse(document.getElementById("ops-initial").textContent));
  if (document.visibilityState === "visible") start();
  else stop();
})();
