// The explorer's page: plain JS over the JSON API (see serve/api.rs).
// Every picture the server returns is drawn as it came (pixel values in
// [0, 1]); the last decoded image and its code stay on the canvas as
// data-pixels and data-code, so tests can compare them with the library.
"use strict";

const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const views = [];

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  const res = await fetch(path, init);
  const json = await res.json();
  if (!res.ok) throw new Error(json.error || res.statusText);
  return json;
}

function drawImage(canvas, pixels, shape) {
  const [h, w, c] = shape;
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) {
      img.data[4 * i + k] = Math.round(255 * pixels[i * c + (c === 3 ? k : 0)]);
    }
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function strip(box, images, shape, captions, onClick) {
  box.replaceChildren();
  images.forEach((px, i) => {
    const fig = document.createElement("figure");
    const c = document.createElement("canvas");
    drawImage(c, px, shape);
    c.dataset.pixels = JSON.stringify(px);
    fig.append(c);
    if (captions) fig.append(document.createTextNode(captions[i]));
    if (onClick) fig.addEventListener("click", () => onClick(i));
    box.append(fig);
  });
}

function report(view, err) {
  view.status.textContent = err ? String(err.message || err) : "";
}

// The nearest training image to `pixels`, at most one request in flight.
function nearest(view, pixels) {
  view.nearestWanted = pixels;
  if (view.nearestBusy) return;
  view.nearestBusy = true;
  const want = view.nearestWanted;
  api(`/api/models/${view.m.index}/nearest`, { image: want }).then((r) => {
    const c = view.el.querySelector("canvas.nearest");
    drawImage(c, r.image, view.m.shape);
    view.el.querySelector(".nearest-info").textContent =
      `#${r.index} of ${view.m.train_images}, distance ${r.distance.toFixed(2)}`;
  }).catch((e) => report(view, e)).finally(() => {
    view.nearestBusy = false;
    if (view.nearestWanted !== want) nearest(view, view.nearestWanted);
  });
}

// The label selector of a conditional model; `changed` runs on a new choice.
function labelSelect(view, changed) {
  if (!view.m.classes) return () => undefined;
  const box = view.el.querySelector(".label-select");
  const sel = box.querySelector("select");
  box.hidden = false;
  for (let c = 0; c < view.m.classes; c++) sel.append(new Option(String(c), String(c)));
  sel.addEventListener("change", changed);
  return () => Number(sel.value);
}

async function showNll(view) {
  for (;;) {
    const r = await api(`/api/models/${view.m.index}/nll`);
    if (r.status === "done") {
      const n = r.nll;
      view.nll.textContent = `test NLL ${n.nats.toFixed(2)} ± ${n.std_error.toFixed(2)} nats/image ` +
        `(${n.bits_per_dim.toFixed(3)} bits/dim): ${n.method}`;
      return;
    }
    if (r.status === "none") { view.nll.textContent = `test NLL: none (${r.why})`; return; }
    view.nll.textContent = "test NLL: computing…";
    await new Promise((ok) => setTimeout(ok, 1000));
  }
}

function seed(view) {
  return Math.max(0, Number(view.el.querySelector("input.seed").value) || 0);
}

function samplesButton(view, n, extra) {
  view.el.querySelector("button.sample").addEventListener("click", () => {
    const box = view.el.querySelector(".samples");
    box.textContent = "sampling…";
    api(`/api/models/${view.m.index}/sample`, { n, seed: seed(view), label: view.label(), ...extra })
      .then((r) => strip(box, r.images, view.m.shape))
      .catch((e) => { box.textContent = ""; report(view, e); });
  });
}

function section(m) {
  const el = document.createElement("section");
  el.className = "model";
  el.dataset.kind = m.kind;
  el.dataset.index = m.index;
  el.innerHTML = `<h2></h2><p class="nll"></p><p class="error"></p>`;
  el.querySelector("h2").textContent = `${m.name}: ${m.title} (${m.parameters.toLocaleString()} parameters)`;
  document.getElementById("models").append(el);
  const view = { m, el, nll: el.querySelector(".nll"), status: el.querySelector(".error") };
  showNll(view).catch((e) => report(view, e));
  return view;
}

function addTemplate(view, id) {
  view.el.append(document.getElementById(id).content.cloneNode(true));
}

// Latest-wins decoding: one request in flight; the newest wish goes next.
function decode(view, z) {
  view.wanted = z;
  if (view.busy) return;
  view.busy = true;
  const label = view.label();
  api(`/api/models/${view.m.index}/decode`, { points: [z], label }).then((r) => {
    const c = view.el.querySelector("canvas.decoded");
    drawImage(c, r.images[0], view.m.shape);
    c.dataset.code = JSON.stringify(z);
    c.dataset.label = label === undefined ? "" : String(label);
    c.dataset.pixels = JSON.stringify(r.images[0]);
    c.dataset.seq = String(Number(c.dataset.seq || 0) + 1);
    view.el.querySelector(".where").textContent = view.where || "the sliders' code";
    report(view, null);
    nearest(view, r.images[0]);
  }).catch((e) => report(view, e)).finally(() => {
    view.busy = false;
    if (view.wanted !== z) decode(view, view.wanted);
  });
}

function drawMap(view) {
  const map = view.el.querySelector("canvas.map");
  const ctx = map.getContext("2d");
  const { u0, u1, v0, v1 } = view.frame;
  const x = (u) => (u - u0) / (u1 - u0) * map.width;
  const y = (v) => (v1 - v) / (v1 - v0) * map.height;
  ctx.clearRect(0, 0, map.width, map.height);
  const labels = view.m.test_labels;
  view.m.latent.points.forEach((p, i) => {
    ctx.fillStyle = labels ? COLOURS[labels[i] % 10] : "#555";
    ctx.fillRect(x(p[0]) - 1.5, y(p[1]) - 1.5, 3, 3);
  });
  for (const i of view.picks) {
    const p = view.m.latent.points[i];
    ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(x(p[0]), y(p[1]), 6, 0, 2 * Math.PI); ctx.stroke();
  }
}

function pick(view, u, v) {
  let best = 0, bestD = Infinity;
  view.m.latent.points.forEach((p, i) => {
    const d = (p[0] - u) ** 2 + (p[1] - v) ** 2;
    if (d < bestD) { best = i; bestD = d; }
  });
  view.picks = view.picks.length >= 2 ? [best] : [...view.picks, best];
  drawMap(view);
  if (view.picks.length < 2) return;
  const [from, to] = view.picks;
  api(`/api/models/${view.m.index}/path`, { from, to, steps: 10 })
    .then((r) => strip(view.el.querySelector(".path"), r.images, view.m.shape,
      r.images.map((_, i) => i === 0 ? `#${from}` : i === r.images.length - 1 ? `#${to}` : "")))
    .catch((e) => report(view, e));
}

function sliders(view) {
  const L = view.m.latent;
  const box = view.el.querySelector(".sliders");
  view.sliders = L.ranges.slice(0, 32).map(([lo, hi], j) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: lo, max: hi, step: (hi - lo) / 200, value: 0 });
    input.addEventListener("input", () => {
      const z = view.code.slice();
      z[j] = Number(input.value);
      view.where = null;
      setCode(view, z);
    });
    label.append(`z${j}`, input);
    box.append(label);
    return input;
  });
}

function setCode(view, z) {
  view.code = z;
  view.sliders.forEach((s, j) => { s.value = z[j]; });
  decode(view, z);
}

function latentView(view) {
  const L = view.m.latent;
  // A new label decodes the current code again.
  view.label = labelSelect(view, () => decode(view, view.code.slice()));
  view.picks = [];
  view.code = L.origin.slice();
  view.el.querySelector(".projection").textContent = L.projection;
  const us = L.points.map((p) => p[0]), vs = L.points.map((p) => p[1]);
  // The map's frame: the test codes' bounding box with a 10% margin.
  const pad = (lo, hi) => 0.1 * (hi - lo || 1);
  const [ua, ub, va, vb] = [Math.min(...us), Math.max(...us), Math.min(...vs), Math.max(...vs)];
  view.frame = { u0: ua - pad(ua, ub), u1: ub + pad(ua, ub), v0: va - pad(va, vb), v1: vb + pad(va, vb) };
  drawMap(view);
  sliders(view);
  view.decodeAt = (fx, fy) => {
    const { u0, u1, v0, v1 } = view.frame;
    const u = u0 + fx * (u1 - u0), v = v1 - fy * (v1 - v0);
    view.where = `(${u.toFixed(2)}, ${v.toFixed(2)}) on the map`;
    setCode(view, L.origin.map((o, j) => o + u * L.axes[0][j] + v * L.axes[1][j]));
  };
  const map = view.el.querySelector("canvas.map");
  const fraction = (ev) => {
    const r = map.getBoundingClientRect();
    return [(ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height];
  };
  map.addEventListener("pointermove", (ev) => {
    const linked = document.getElementById("link").checked;
    const [fx, fy] = fraction(ev);
    for (const v of linked ? views.filter((w) => w.m.latent) : [view]) v.decodeAt(fx, fy);
  });
  map.addEventListener("click", (ev) => {
    const [fx, fy] = fraction(ev);
    const { u0, u1, v0, v1 } = view.frame;
    pick(view, u0 + fx * (u1 - u0), v1 - fy * (v1 - v0));
  });
  if (!L.has_prior) {
    // An autoencoder has no prior: its "samples" are decodes of N(0, I) draws.
    view.el.querySelector("button.sample").textContent = "decode N(0, I) draws (no prior)";
  }
  samplesButton(view, 16);
}

// A value in [0, 1] as a colour from dark blue through red to yellow.
function heatColour(p) {
  const stops = [[13, 8, 135], [156, 23, 158], [237, 121, 83], [240, 249, 33]];
  const t = Math.min(1, Math.max(0, p)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t)), f = t - i;
  return stops[i].map((a, k) => Math.round(a + f * (stops[i + 1][k] - a)));
}

// The conditionals' means as a heat map (grey models) or as colours (RGB).
function drawHeat(canvas, mean, shape) {
  const [h, w, c] = shape;
  if (c === 3) { drawImage(canvas, mean, shape); return; }
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    const [r, g, b] = heatColour(mean[i]);
    img.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}

// Latest-wins, like decoding: the conditionals of the drawing as it is now.
function heat(view) {
  view.heatWanted = view.image.slice();
  if (view.heatBusy) return;
  view.heatBusy = true;
  const image = view.heatWanted;
  const label = view.label();
  api(`/api/models/${view.m.index}/conditionals`, { image, seed: seed(view), label }).then((r) => {
    const c = view.el.querySelector("canvas.heat");
    drawHeat(c, r.mean, view.m.shape);
    c.dataset.image = JSON.stringify(image);
    c.dataset.label = label === undefined ? "" : String(label);
    c.dataset.mean = JSON.stringify(r.mean);
    c.dataset.seq = String(Number(c.dataset.seq || 0) + 1);
    const nll = -r.log_prob.reduce((a, b) => a + b, 0);
    view.el.querySelector(".heat-info").textContent = `−log p(drawing) = ${nll.toFixed(1)} nats`;
  }).catch((e) => report(view, e)).finally(() => {
    view.heatBusy = false;
    if (view.heatWanted.some((v, i) => v !== image[i])) heat(view);
  });
}

function pixelView(view) {
  const m = view.m, [h, w, c] = m.shape;
  view.label = labelSelect(view, () => heat(view));
  view.image = new Array(h * w * c).fill(0);
  const draw = view.el.querySelector("canvas.draw");
  const rows = view.el.querySelector("input.rows");
  rows.max = h - 1; rows.value = Math.floor(h / 2);
  const redraw = () => {
    drawImage(draw, view.image, m.shape);
    draw.dataset.image = JSON.stringify(view.image);
    heat(view);
  };
  redraw();
  const paint = (ev) => {
    if (!(ev.buttons & 1)) return;
    const r = draw.getBoundingClientRect();
    const x = Math.floor((ev.clientX - r.left) / r.width * w);
    const y = Math.floor((ev.clientY - r.top) / r.height * h);
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    const v = ev.shiftKey ? 0 : 1;
    if (view.image[(y * w + x) * c] === v) return;
    for (let k = 0; k < c; k++) view.image[(y * w + x) * c + k] = v;
    redraw();
  };
  draw.addEventListener("pointerdown", paint);
  draw.addEventListener("pointermove", paint);
  view.el.querySelector("button.clear").addEventListener("click", () => { view.image.fill(0); redraw(); });
  view.el.querySelector("button.load").addEventListener("click", () => {
    const j = Number(view.el.querySelector("input.pick").value) || 0;
    api(`/api/models/${m.index}/test/${j}`).then((r) => { view.image = r.image; redraw(); })
      .catch((e) => report(view, e));
  });
  view.el.querySelector("button.complete").addEventListener("click", () => {
    const box = view.el.querySelector(".completions");
    box.textContent = "completing…";
    box.dataset.done = "0";
    const body = { image: view.image, rows: Number(rows.value), seed: seed(view), n: 4, label: view.label() };
    api(`/api/models/${m.index}/complete`, body).then((r) => {
      strip(box, r.images, m.shape);
      box.dataset.done = "1";
      nearest(view, r.images[0]);
    }).catch((e) => { box.textContent = ""; report(view, e); });
  });
  samplesButton(view, 8);
}

function mixtureView(view) {
  const m = view.m;
  view.label = () => undefined;
  const box = view.el.querySelector(".samples");
  const show = (r) => { strip(box, r.images, m.shape); nearest(view, r.images[0]); };
  strip(view.el.querySelector(".components"), m.mixture.means, m.shape,
    m.mixture.weights.map((w) => w.toFixed(3)), (c) => {
      api(`/api/models/${m.index}/sample`, { n: 8, seed: seed(view), component: c }).then(show)
        .catch((e) => report(view, e));
    });
  view.el.querySelector("button.sample").addEventListener("click", () => {
    api(`/api/models/${m.index}/sample`, { n: 16, seed: seed(view) }).then(show)
      .catch((e) => report(view, e));
  });
}

async function main() {
  const { models } = await api("/api/models");
  document.getElementById("status").textContent =
    `${models.length} model${models.length === 1 ? "" : "s"} loaded`;
  for (const m of models) {
    const view = section(m);
    if (m.latent) { addTemplate(view, "latent-view"); latentView(view); }
    else if (m.autoregressive) { addTemplate(view, "pixel-view"); pixelView(view); }
    else if (m.mixture) { addTemplate(view, "mixture-view"); mixtureView(view); }
    views.push(view);
  }
  const latent = views.filter((v) => v.m.latent);
  document.getElementById("link-label").hidden = latent.length < 2;
  document.body.dataset.ready = "1";
}

main().catch((e) => { document.getElementById("status").textContent = `error: ${e.message}`; });
