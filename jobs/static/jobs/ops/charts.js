/* A small SVG bar chart: completed and failed jobs per time bucket, stacked.
   Written for the dashboard; no dependencies. */
"use strict";

window.OpsCharts = (function () {
  const NS = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* The axis top: four ticks of 1, 2 or 5 times a power of ten. */
  function niceMax(value) {
    const wanted = Math.max(1, value) / 4;
    const power = Math.pow(10, Math.floor(Math.log10(wanted)));
    for (const step of [1, 2, 5, 10]) {
      if (step * power >= wanted) return Math.max(4, 4 * step * power);
    }
    return 40 * power;
  }

  /* Draw into `box`: labels[i] under bucket i, stacked series
     [{name, className, values}], tooltips per bar. */
  function stackedBars(box, labels, series, options) {
    options = options || {};
    const width = box.clientWidth || 600;
    const height = options.height || 180;
    const margin = { top: 10, right: 8, bottom: 24, left: 40 };
    const plotWidth = Math.max(10, width - margin.left - margin.right);
    const plotHeight = height - margin.top - margin.bottom;
    const totals = labels.map(function (_, index) {
      return series.reduce(function (sum, one) { return sum + (one.values[index] || 0); }, 0);
    });
    const top = niceMax(Math.max(0, ...totals));
    const root = svg("svg", {
      viewBox: "0 0 " + width + " " + height,
      width: width,
      height: height,
      class: "ops-svg",
    });
    for (let tick = 0; tick <= 4; tick += 1) {
      const value = (top / 4) * tick;
      const y = margin.top + plotHeight - (value / top) * plotHeight;
      root.append(svg("line", { x1: margin.left, x2: width - margin.right, y1: y, y2: y, class: "ops-grid" }));
      root.append(svg("text", { x: margin.left - 6, y: y + 4, class: "ops-axis", "text-anchor": "end" },
        Number.isInteger(value) ? String(value) : value.toFixed(1)));
    }
    const slot = plotWidth / Math.max(1, labels.length);
    const barWidth = Math.max(1, slot * 0.8);
    const every = Math.max(1, Math.ceil(labels.length / (plotWidth / 48)));
    labels.forEach(function (label, index) {
      const x = margin.left + index * slot + (slot - barWidth) / 2;
      let base = margin.top + plotHeight;
      const parts = [];
      series.forEach(function (one) {
        const value = one.values[index] || 0;
        parts.push(one.name + " " + value);
        if (!value) return;
        const barHeight = (value / top) * plotHeight;
        base -= barHeight;
        const rect = svg("rect", { x: x, y: base, width: barWidth, height: barHeight, class: one.className });
        root.append(rect);
      });
      const hit = svg("rect", { x: margin.left + index * slot, y: margin.top, width: slot, height: plotHeight, class: "ops-hit" });
      hit.append(svg("title", {}, label + ": " + parts.join(", ")));
      root.append(hit);
      if (index % every === 0) {
        root.append(svg("text", { x: x + barWidth / 2, y: height - 6, class: "ops-axis", "text-anchor": "middle" }, label));
      }
    });
    box.replaceChildren(root);
  }

  return { stackedBars };
})();
