// The explorers' figure, drawn in the browser on a <canvas> (course_lib/widgets/plot.py).
//
// The kernel sends data (panels, series of points, filled level bands, texts) and
// this module draws them: a control change costs a numpy recompute and one small
// message, and replaying a path (the `step` trait) costs no kernel round trip at all.
// Redraws are coalesced into one per animation frame, so a burst of changes never
// queues stale frames.

const FONT = "12px sans-serif";
const LABEL_FONT = "13px sans-serif";
const TITLE_FONT = "bold 13px sans-serif";
const MARGIN = { left: 66, right: 14, top: 28, bottom: 44 };
const FIGURE_TITLE_HEIGHT = 24;
const LEGEND_LINE = 18;
const SUPERSCRIPTS = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

function asArray(data) {
  // Buffers arrive as DataViews of float64 values.
  if (data instanceof DataView) return new Float64Array(data.buffer, data.byteOffset, data.byteLength / 8);
  return data || [];
}

function niceStep(span, count) {
  const raw = span / Math.max(count, 1);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const fraction = raw / power;
  return (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * power;
}

function linearTicks(low, high, count) {
  const step = niceStep(high - low, count);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks = [];
  for (let value = Math.ceil(low / step - 1e-9) * step; value <= high + step * 1e-9; value += step) {
    const rounded = Math.abs(value) < step * 1e-9 ? 0 : value;
    ticks.push([rounded, rounded.toFixed(decimals)]);
  }
  return ticks;
}

function powerOfTen(exponent) {
  if (exponent === 0) return "1";
  if (exponent === 1) return "10";
  return "10" + String(exponent).split("").map((c) => SUPERSCRIPTS[c]).join("");
}

function logTicks(low, high) {
  const first = Math.ceil(Math.log10(low) - 1e-9);
  const last = Math.floor(Math.log10(high) + 1e-9);
  const every = Math.max(1, Math.ceil((last - first + 1) / 6));
  const ticks = [];
  for (let exponent = first; exponent <= last; exponent += every) ticks.push([Math.pow(10, exponent), powerOfTen(exponent)]);
  return ticks;
}

function parseColor(color) {
  const hex = color.replace("#", "");
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

class Axes {
  // One panel: its place on the canvas and its data-to-pixel maps.
  constructor(spec, box) {
    this.spec = spec;
    this.box = box;
    this.logX = spec.xscale === "log";
    this.logY = spec.yscale === "log";
    const fx = this.logX ? Math.log10 : (v) => v;
    const fy = this.logY ? Math.log10 : (v) => v;
    this.fx = fx;
    this.fy = fy;
    this.x0 = fx(spec.xlim[0]);
    this.x1 = fx(spec.xlim[1]);
    this.y0 = fy(spec.ylim[0]);
    this.y1 = fy(spec.ylim[1]);
  }
  px(x) {
    return this.box.left + ((this.fx(x) - this.x0) / (this.x1 - this.x0)) * this.box.width;
  }
  py(y) {
    return this.box.top + this.box.height - ((this.fy(y) - this.y0) / (this.y1 - this.y0)) * this.box.height;
  }
  dataX(px) {
    const v = this.x0 + ((px - this.box.left) / this.box.width) * (this.x1 - this.x0);
    return this.logX ? Math.pow(10, v) : v;
  }
  dataY(py) {
    const v = this.y0 + ((this.box.top + this.box.height - py) / this.box.height) * (this.y1 - this.y0);
    return this.logY ? Math.pow(10, v) : v;
  }
  contains(px, py) {
    const b = this.box;
    return px >= b.left && px <= b.left + b.width && py >= b.top && py <= b.top + b.height;
  }
}

function legendEntries(series, panel) {
  return series.filter((s) => s.panel === panel && s.label && s.visible !== false);
}

function layout(ctx, model) {
  // Split the figure into panels by weight, leaving room for titles, ticks and legends.
  const width = model.get("width");
  const height = model.get("height");
  const panels = model.get("_panels");
  const series = model.get("_series");
  const top = model.get("title") ? FIGURE_TITLE_HEIGHT : 0;
  const total = panels.reduce((sum, p) => sum + (p.weight || 1), 0);
  ctx.font = FONT;
  let left = 0;
  return panels.map((spec, index) => {
    const share = (width * (spec.weight || 1)) / total;
    let legendWidth = 0;
    if (spec.legend) {
      const entries = legendEntries(series, index);
      if (entries.length) legendWidth = 36 + Math.max(...entries.map((s) => ctx.measureText(s.label).width));
    }
    const box = {
      left: left + MARGIN.left,
      top: top + MARGIN.top,
      width: share - MARGIN.left - MARGIN.right - legendWidth,
      height: height - top - MARGIN.top - MARGIN.bottom,
    };
    left += share;
    const axes = new Axes(spec, box);
    axes.legendLeft = box.left + box.width + 10;
    return axes;
  });
}

function drawBands(ctx, axes, bands, dpr, cache) {
  // Filled level bands of a grid z (ny, nx) over `extent`, interpolated per pixel.
  const key = `${bands.revision}|${axes.box.width}|${axes.box.height}|${axes.spec.xlim}|${axes.spec.ylim}|${dpr}`;
  if (cache.key !== key) {
    const w = Math.round(axes.box.width * dpr);
    const h = Math.round(axes.box.height * dpr);
    const z = asArray(bands.z);
    const levels = asArray(bands.levels);
    const colors = bands.colors.map(parseColor);
    const [ex0, ex1, ey0, ey1] = bands.extent;
    const nx = bands.nx;
    const ny = bands.ny;
    const image = new ImageData(Math.max(w, 1), Math.max(h, 1));
    for (let j = 0; j < h; j++) {
      const y = axes.dataY(axes.box.top + (j + 0.5) / dpr);
      const gy = Math.min(Math.max(((y - ey0) / (ey1 - ey0)) * (ny - 1), 0), ny - 1.000001);
      const row = Math.floor(gy);
      const ty = gy - row;
      for (let i = 0; i < w; i++) {
        const x = axes.dataX(axes.box.left + (i + 0.5) / dpr);
        const gx = Math.min(Math.max(((x - ex0) / (ex1 - ex0)) * (nx - 1), 0), nx - 1.000001);
        const col = Math.floor(gx);
        const tx = gx - col;
        const a = z[row * nx + col];
        const b = z[row * nx + col + 1];
        const c = z[(row + 1) * nx + col];
        const d = z[(row + 1) * nx + col + 1];
        const value = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
        let lo = 0;
        let hi = levels.length - 1;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (value >= levels[mid]) lo = mid;
          else hi = mid;
        }
        const rgb = colors[Math.min(lo, colors.length - 1)];
        const p = (j * w + i) * 4;
        image.data[p] = rgb[0];
        image.data[p + 1] = rgb[1];
        image.data[p + 2] = rgb[2];
        image.data[p + 3] = 255;
      }
    }
    cache.canvas = new OffscreenCanvas(Math.max(w, 1), Math.max(h, 1));
    cache.canvas.getContext("2d").putImageData(image, 0, 0);
    cache.key = key;
  }
  ctx.drawImage(cache.canvas, axes.box.left, axes.box.top, axes.box.width, axes.box.height);
}

function drawMarker(ctx, shape, x, y, size, fill, edge) {
  const r = size / 2;
  ctx.beginPath();
  if (shape === "s") ctx.rect(x - r, y - r, size, size);
  else if (shape === "*") {
    for (let k = 0; k < 10; k++) {
      const radius = k % 2 ? r * 0.45 : r;
      const angle = -Math.PI / 2 + (k * Math.PI) / 5;
      ctx.lineTo(x + radius * Math.cos(angle), y + radius * Math.sin(angle));
    }
    ctx.closePath();
  } else if (shape === "x") {
    // A plus sign of arm half-width t, turned by 45 degrees.
    const t = r * 0.3;
    const plus = [[t, t], [t, r], [-t, r], [-t, t], [-r, t], [-r, -t], [-t, -t], [-t, -r], [t, -r], [t, -t], [r, -t], [r, t]];
    const c = Math.SQRT1_2;
    for (const [u, v] of plus) ctx.lineTo(x + c * (u - v), y + c * (u + v));
    ctx.closePath();
  } else ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fillStyle = fill;
  ctx.fill();
  if (edge) {
    ctx.lineWidth = 1;
    ctx.strokeStyle = edge;
    ctx.stroke();
  }
}

function pointsShown(s, step) {
  // How many points of a series are drawn at this replay step (step < 0: all).
  const n = asArray(s.x).length;
  let end = s.end == null ? n : Math.min(s.end, n);
  if (s.progressive && step >= 0) end = Math.min(end, step + 1);
  return end;
}

function appears(item, step) {
  return item.visible !== false && !(item.appear_at != null && step >= 0 && step < item.appear_at);
}

function drawSeries(ctx, axes, s, step, summary) {
  const x = asArray(s.x);
  const y = asArray(s.y);
  const n = pointsShown(s, step);
  if (!appears(s, step) || n === 0) return;
  ctx.save();
  if (s.clip !== false) {
    ctx.beginPath();
    ctx.rect(axes.box.left, axes.box.top, axes.box.width, axes.box.height);
    ctx.clip();
  }
  if (s.line_width > 0 && n > 1) {
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < n; i++) {
      const ok = Number.isFinite(x[i]) && Number.isFinite(y[i]) && (!axes.logY || y[i] > 0);
      if (!ok) {
        pen = false;
        continue;
      }
      const px = axes.px(x[i]);
      const py = axes.py(y[i]);
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    }
    ctx.lineWidth = s.line_width;
    ctx.strokeStyle = s.color;
    ctx.globalAlpha = s.alpha == null ? 1 : s.alpha;
    ctx.setLineDash(s.dash || []);
    ctx.lineJoin = "round";
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  }
  if (s.marker) {
    const first = s.marker_at === "last" ? n - 1 : 0;
    for (let i = first; i < n; i++) {
      drawMarker(ctx, s.marker, axes.px(x[i]), axes.py(y[i]), s.marker_size || 7, s.marker_color || s.color, s.marker_edge);
    }
  }
  ctx.restore();
  if (s.key) {
    summary.series[s.key] = {
      points: n,
      last: [x[n - 1], y[n - 1]],
      pixel: [axes.px(x[n - 1]), axes.py(y[n - 1])],
    };
  }
}

function drawText(ctx, axes, t, step) {
  if (!appears(t, step)) return;
  ctx.font = t.bold ? TITLE_FONT : FONT;
  ctx.textAlign = t.align || "left";
  ctx.textBaseline = t.baseline || "bottom";
  const px = axes.px(t.x);
  const py = axes.py(t.y);
  const width = ctx.measureText(t.text).width;
  const left = ctx.textAlign === "left" ? px : ctx.textAlign === "right" ? px - width : px - width / 2;
  const top = ctx.textBaseline === "bottom" ? py - 16 : py;
  ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
  ctx.fillRect(left - 3, top, width + 6, 16);
  ctx.fillStyle = t.color || "#000";
  ctx.fillText(t.text, px, ctx.textBaseline === "bottom" ? py - 2 : py + 2);
}

function drawFrame(ctx, axes) {
  // Box, ticks, tick labels, axis labels and title of one panel.
  const { spec, box } = axes;
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 1;
  ctx.strokeRect(box.left + 0.5, box.top + 0.5, box.width, box.height);
  ctx.fillStyle = "#000";
  ctx.font = FONT;
  const xticks = spec.xticks || (axes.logX ? logTicks(...spec.xlim) : linearTicks(...spec.xlim, box.width / 80));
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const [value, label] of xticks) {
    const px = axes.px(value);
    if (px < box.left - 1 || px > box.left + box.width + 1) continue;
    ctx.fillRect(Math.round(px), box.top + box.height, 1, 4);
    ctx.fillText(label, px, box.top + box.height + 6);
  }
  const yticks = spec.yticks || (axes.logY ? logTicks(...spec.ylim) : linearTicks(...spec.ylim, box.height / 50));
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const [value, label] of yticks) {
    const py = axes.py(value);
    if (py < box.top - 1 || py > box.top + box.height + 1) continue;
    ctx.fillRect(box.left - 4, Math.round(py), 4, 1);
    ctx.fillText(label, box.left - 6, py);
  }
  ctx.font = LABEL_FONT;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  if (spec.xlabel) ctx.fillText(spec.xlabel, box.left + box.width / 2, box.top + box.height + MARGIN.bottom - 2);
  if (spec.title) {
    ctx.font = TITLE_FONT;
    ctx.fillText(spec.title, box.left + box.width / 2, box.top - 7);
  }
  if (spec.ylabel) {
    ctx.save();
    ctx.translate(box.left - MARGIN.left + 14, box.top + box.height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.font = LABEL_FONT;
    ctx.textBaseline = "middle";
    ctx.fillText(spec.ylabel, 0, 0);
    ctx.restore();
  }
}

function drawLegend(ctx, axes, entries) {
  ctx.font = FONT;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  entries.forEach((s, k) => {
    const y = axes.box.top + 8 + k * LEGEND_LINE;
    const x = axes.legendLeft;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 22, y);
    ctx.lineWidth = Math.max(s.line_width || 0, 1.5);
    ctx.strokeStyle = s.color;
    ctx.setLineDash(s.dash || []);
    if (s.line_width > 0) ctx.stroke();
    ctx.setLineDash([]);
    if (s.marker) drawMarker(ctx, s.marker, x + 11, y, 7, s.marker_color || s.color, s.marker_edge);
    ctx.fillStyle = "#000";
    ctx.fillText(s.label, x + 28, y);
  });
}

function render({ model, el }) {
  const canvas = document.createElement("canvas");
  canvas.className = "course-plot-canvas";
  el.classList.add("course-plot");
  el.appendChild(canvas);
  const buffer = document.createElement("canvas");
  const bandCaches = new Map();
  let axesList = [];
  let frames = 0;
  let scheduled = false;

  function draw() {
    scheduled = false;
    const dpr = window.devicePixelRatio || 1;
    const width = model.get("width");
    const height = model.get("height");
    for (const target of [canvas, buffer]) {
      if (target.width !== Math.round(width * dpr) || target.height !== Math.round(height * dpr)) {
        target.width = Math.round(width * dpr);
        target.height = Math.round(height * dpr);
      }
    }
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const ctx = buffer.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    const step = model.get("step");
    const series = model.get("_series");
    axesList = layout(ctx, model);
    const summary = { step, series: {} };
    axesList.forEach((axes, index) => {
      for (const bands of model.get("_bands").filter((b) => b.panel === index)) {
        if (!bandCaches.has(index)) bandCaches.set(index, {});
        drawBands(ctx, axes, bands, dpr, bandCaches.get(index));
      }
    });
    for (const s of series) if (axesList[s.panel]) drawSeries(ctx, axesList[s.panel], s, step, summary);
    for (const t of model.get("_texts")) if (axesList[t.panel]) drawText(ctx, axesList[t.panel], t, step);
    axesList.forEach((axes, index) => {
      drawFrame(ctx, axes);
      if (axes.spec.legend) drawLegend(ctx, axes, legendEntries(series, index));
    });
    const title = model.get("title");
    if (title) {
      ctx.font = TITLE_FONT;
      ctx.fillStyle = "#000";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(title, width / 2, FIGURE_TITLE_HEIGHT / 2 + 2);
    }
    const visible = canvas.getContext("2d");
    visible.setTransform(1, 0, 0, 1, 0, 0);
    visible.drawImage(buffer, 0, 0);
    frames += 1;
    // What was drawn, for the browser tests: points per series and the pixel of their last point.
    canvas.dataset.frames = String(frames);
    canvas.dataset.drawn = JSON.stringify(summary);
  }

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(draw);
    }
  }

  function onClick(event) {
    const rect = canvas.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    axesList.forEach((axes, panel) => {
      if (axes.spec.clickable && axes.contains(px, py)) {
        model.send({ event: "click", panel, x: axes.dataX(px), y: axes.dataY(py) });
      }
    });
  }

  function onMove(event) {
    const rect = canvas.getBoundingClientRect();
    const inside = axesList.some(
      (axes) => axes.spec.clickable && axes.contains(event.clientX - rect.left, event.clientY - rect.top),
    );
    canvas.style.cursor = inside ? "crosshair" : "default";
  }

  const names = ["width", "height", "title", "_panels", "_series", "_bands", "_texts", "step"];
  for (const name of names) model.on(`change:${name}`, schedule);
  canvas.addEventListener("click", onClick);
  canvas.addEventListener("mousemove", onMove);
  draw();
  return () => {
    for (const name of names) model.off(`change:${name}`, schedule);
  };
}

export default { render };
