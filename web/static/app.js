// siplens web page: a client of the admin API, in plain JavaScript with no build step
// and no dependency. Every element is built with DOM calls (never innerHTML), so text
// from SIP messages is always shown as text.
//
// Live updates are done by polling, not Server-Sent Events: the trace sinks have no
// change feed (an SSE handler would poll them anyway, once per open tab), the admin
// server's WriteTimeout would cut a long-lived stream every minute, and a poll of one
// page of summaries is a few kilobytes. Polls pause while the tab is hidden and while
// an older page of calls is shown, so an idle tab costs nothing.
"use strict";

const TOKEN_KEY = "siplens.token";
const POLL_CALLS_MS = 2000;
const POLL_CALL_MS = 1500;
const POLL_OVERVIEW_MS = 5000;
const POLL_REGS_MS = 10000;
const PAGE_SIZE = 50;

const OUTCOMES = ["answered", "redirected", "busy", "unavailable", "declined", "not-found",
  "unauthorized", "rejected", "failed", "timed-out", "cancelled", "unanswered"];

// ---- small DOM helpers ----

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// fill replaces el's children, skipping null and false (replaceChildren itself would
// write them as the text "null").
function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function $(sel, root) { return (root || document).querySelector(sel); }

// ---- the API ----

class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// The token comes from ?token= once (then leaves the address bar, so it is not
// bookmarked or shared by accident), or from the login form; it stays in this tab's
// sessionStorage and rides on every API request as a Bearer token.
function takeTokenFromURL() {
  const u = new URL(location.href);
  const t = u.searchParams.get("token");
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    u.searchParams.delete("token");
    history.replaceState(null, "", u.pathname + u.search + u.hash);
  }
}

async function apiFetch(path) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = "Bearer " + token;
  const res = await fetch(path, { headers, cache: "no-store" });
  if (res.status === 401) showLogin();
  if (!res.ok) {
    let msg = res.status + " " + res.statusText;
    try { const e = await res.json(); if (e && e.error) msg = e.error; } catch (_) { /* not JSON */ }
    throw new APIError(res.status, msg);
  }
  return res;
}

async function api(path) { return (await apiFetch(path)).json(); }

function showLogin() {
  const f = $("#login");
  if (!f.hidden) return;
  f.hidden = false;
  f.elements.token.focus();
}

function setupLogin() {
  $("#login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, ev.target.elements.token.value.trim());
    ev.target.reset();
    ev.target.hidden = true;
    route();
  });
}

// The reason phrases of the knowledge base, read once, to show "486 Busy Here" where
// a summary only has the number.
let reasons = null;
async function loadReasons() {
  if (reasons) return reasons;
  try {
    const list = await api("/api/codes");
    reasons = new Map(list.map((c) => [c.code, c.reason]));
  } catch (_) {
    return new Map();
  }
  return reasons;
}

function codeText(code, phrase) {
  if (!code) return "—";
  const r = phrase || (reasons && reasons.get(code)) || "";
  return r ? code + " " + r : String(code);
}

// ---- formatting ----

function pad(n, w) { return String(n).padStart(w || 2, "0"); }

function fmtTime(iso, withDate) {
  const d = new Date(iso);
  if (isNaN(d)) return "";
  const t = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3);
  if (!withDate) return t;
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + t;
}

function isToday(iso) { return new Date(iso).toDateString() === new Date().toDateString(); }

function fmtDuration(ns) {
  const s = ns / 1e9;
  if (s < 1) return Math.round(s * 1000) + " ms";
  if (s < 120) return s.toFixed(1) + " s";
  return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
}

function fmtSeconds(s) {
  if (s <= 0) return "expired";
  const m = Math.floor(s / 60), r = s % 60;
  if (m >= 60) return Math.floor(m / 60) + " h " + pad(m % 60) + " min";
  return m ? m + " min " + pad(r) + " s" : r + " s";
}

function pct(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + " %"; }

function ms(x) { return x === null || x === undefined ? "—" : (x >= 1000 ? (x / 1000).toFixed(2) + " s" : Math.round(x) + " ms"); }

function outcomeBadge(o) { return h("span", { class: "badge o-" + o, text: o }); }

function codeClass(code) { return code ? "c" + Math.floor(code / 100) : "c0"; }

function producerText(p) {
  if (!p) return "";
  switch (p.kind) {
    case "step": return "siplens" + (p.step ? " step " + p.step : "") + (p.rule ? " (rule " + p.rule + ")" : "");
    case "branch": return "branch " + p.branch + (p.contact ? " (" + p.contact + ")" : "") + (p.address ? " at " + p.address : "");
    case "timer": return "siplens " + p.timer + (p.branch ? " on branch " + p.branch : "");
    case "stack": return "the SIP stack of siplens (sipgo)" + (p.detail ? ", " + p.detail : "");
  }
  return "unknown (nothing recorded tells)";
}

// ---- router ----

let stopView = () => {};
let viewToken = 0;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
  const parts = path.split("/");
  return { name: parts[0] || "calls", arg: parts.slice(1).join("/"), params };
}

// setStatus shows the time of the last update, or an error: small in the bar, and in
// a banner over the page (a refused Host or a store failure must not go unnoticed).
function setStatus(text, isError) {
  const s = $("#status");
  s.textContent = isError ? "error" : text;
  s.classList.toggle("error", !!isError);
  const alert = $("#alert");
  alert.textContent = isError ? text : "";
  alert.hidden = !isError;
}

function route() {
  stopView();
  stopView = () => {};
  const myToken = ++viewToken;
  const r = parseHash();
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("active", a.dataset.nav === r.name || (r.name === "call" && a.dataset.nav === "calls"));
  }
  const view = $("#view");
  const views = { calls: callsView, call: callView, registrations: registrationsView, overview: overviewView, explain: explainView };
  const fn = views[r.name] || callsView;
  fill(view);
  view.dataset.view = r.name;
  const alive = () => myToken === viewToken;
  const cleanup = fn(view, r, alive);
  if (typeof cleanup === "function") stopView = cleanup;
}

// poll runs fn now and then every ms while the view is shown and the tab visible.
function poll(alive, ms, fn) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (stopped || !alive()) return;
    if (!document.hidden) {
      try {
        await fn();
        setStatus("updated " + fmtTime(new Date().toISOString()));
      } catch (e) {
        setStatus(e.message, true);
      }
    }
    if (!stopped && alive()) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

function errorBox(e) { return h("p", { class: "error-box", role: "alert", text: e.message || String(e) }); }

// ---- Calls ----

function callsView(view, r, alive) {
  const p = r.params;
  const form = h("form", { class: "filters", onsubmit: (ev) => { ev.preventDefault(); applyFilters(form); } },
    field("Search", h("input", { name: "q", type: "search", placeholder: "Call-ID, user or number", value: p.get("q") || "", size: 24 })),
    field("Code", h("input", { name: "code", inputmode: "numeric", pattern: "[1-6][0-9][0-9]", placeholder: "486", value: p.get("code") || "", size: 4 })),
    field("Class", select("class", p.get("class"), [["", "any"], ["1", "1xx"], ["2", "2xx"], ["3", "3xx"], ["4", "4xx"], ["5", "5xx"], ["6", "6xx"]])),
    field("Outcome", select("outcome", p.get("outcome"), [["", "any"], ...OUTCOMES.map((o) => [o, o])])),
    field("Method", select("method", p.get("method"), [["", "any"], ["INVITE", "INVITE"], ["REGISTER", "REGISTER"], ["MESSAGE", "MESSAGE"], ["OPTIONS", "OPTIONS"], ["SUBSCRIBE", "SUBSCRIBE"]])),
    field("User", h("input", { name: "user", placeholder: "bob", value: p.get("user") || "", size: 10 })),
    field("Since", select("since", p.get("since"), [["", "any time"], ["15m", "15 min"], ["1h", "1 hour"], ["6h", "6 hours"], ["24h", "24 hours"], ["168h", "7 days"]])),
    h("button", { type: "submit", text: "Filter" }),
    h("button", { type: "button", class: "link", text: "Clear", onclick: () => { location.hash = "#/calls"; } }),
  );
  for (const el of form.querySelectorAll("select")) el.addEventListener("change", () => applyFilters(form));
  const live = h("input", { type: "checkbox", id: "live", checked: !p.get("until") });
  const info = h("span", { class: "muted" });
  const table = h("table", { class: "calls" },
    h("thead", {}, h("tr", {}, ["Time", "Method", "From", "To", "Final answer", "Outcome", "Duration", "Msgs", "Answered by"].map((t) => h("th", { text: t })))),
    h("tbody", {}));
  const pager = h("div", { class: "pager" });
  view.append(h("h1", {}, "Calls ", h("small", { class: "muted", text: "newest first" })), form,
    h("div", { class: "toolbar" }, h("label", {}, live, " live updates"), info), table, pager);

  const until = p.get("until") || "";
  // The page size may be set in the address (#/calls?limit=20), up to the API's 1000.
  const size = Math.min(999, Math.max(1, parseInt(p.get("limit"), 10) || PAGE_SIZE));
  let stop = () => {};
  const load = async () => {
    const qs = new URLSearchParams();
    for (const k of ["q", "code", "class", "outcome", "method", "user", "since"]) if (p.get(k)) qs.set(k, p.get(k));
    if (until) qs.set("until", until);
    qs.set("limit", size + 1); // one more tells whether an older page exists
    await loadReasons();
    const list = await api("/api/calls?" + qs);
    if (!alive()) return;
    renderCalls(table.tBodies[0], list.slice(0, size));
    info.textContent = list.length ? "" : "No call matches.";
    renderPager(pager, p, list, size);
  };
  const start = () => {
    stop();
    if (live.checked) stop = poll(alive, POLL_CALLS_MS, load);
    else load().catch((e) => setStatus(e.message, true));
  };
  live.addEventListener("change", start);
  start();
  return () => stop();
}

function field(label, input) { return h("label", { class: "field" }, h("span", { text: label }), input); }

function select(name, value, options) {
  return h("select", { name }, options.map(([v, t]) => h("option", { value: v, selected: v === (value || ""), text: t })));
}

function applyFilters(form) {
  const qs = new URLSearchParams();
  const limit = parseHash().params.get("limit");
  if (limit) qs.set("limit", limit);
  for (const el of form.elements) {
    if (el.name && el.value.trim()) qs.set(el.name, el.value.trim());
  }
  const s = qs.toString();
  location.hash = "#/calls" + (s ? "?" + s : "");
}

function renderCalls(tbody, list) {
  const rows = list.map((c) => {
    const href = "#/call/" + encodeURIComponent(c.call_id);
    const open = () => { location.hash = href; };
    return h("tr", { class: "click", "data-callid": c.call_id, onclick: open, tabindex: 0, onkeydown: (ev) => { if (ev.key === "Enter") open(); } },
      h("td", { class: "mono nowrap", title: c.first, text: fmtTime(c.first, !isToday(c.first)) }),
      h("td", { text: c.method }),
      h("td", { text: c.from }),
      h("td", { text: c.to }),
      h("td", {}, h("a", { href, class: "code " + codeClass(c.code), text: codeText(c.code) })),
      h("td", {}, outcomeBadge(c.outcome)),
      h("td", { class: "num", text: fmtDuration(c.duration) }),
      h("td", { class: "num", text: c.messages }),
      h("td", { class: "small", title: c.reason || "", text: c.producer || "" }));
  });
  fill(tbody, ...rows);
}

// Paging goes back in time: the next page is the calls that started before the
// oldest call shown (keyset paging on the start time), which stays correct while new
// calls arrive at the top.
function renderPager(pager, p, list, size) {
  const more = list.length > size;
  const shown = list.slice(0, size);
  const link = (text, until) => {
    const qs = new URLSearchParams(p);
    qs.delete("until");
    if (until) qs.set("until", until);
    const s = qs.toString();
    return h("a", { class: "button", href: "#/calls" + (s ? "?" + s : ""), text });
  };
  const parts = [];
  if (p.get("until")) parts.push(link("« Newest", ""));
  if (more && shown.length) parts.push(link("Older »", shown[shown.length - 1].first));
  fill(pager, ...parts);
}

// ---- One call ----

function callView(view, r, alive) {
  const id = decodeURIComponent(r.arg);
  const base = "/api/calls/" + encodeURIComponent(id);
  const head = h("div", { class: "callhead" });
  const diagBox = h("section", { class: "diagnosis" });
  const ladderBox = h("div", { class: "ladder", id: "ladder" });
  // The message drawer opens on the right when an arrow is clicked; the ladder then
  // narrows beside it (and scrolls) instead of being covered.
  const msgBox = h("aside", { class: "message", id: "message", hidden: true, "aria-label": "SIP message" });
  const tools = h("div", { class: "tools" },
    h("button", { type: "button", text: "Mermaid", title: "the ladder as a Mermaid sequence diagram", onclick: () => showMermaid(base) }),
    h("button", { type: "button", text: "Download pcap", onclick: () => download(base + "/pcap", fileName(id) + ".pcap") }),
    h("button", { type: "button", text: "Download SVG", onclick: () => download(base + "/ladder?format=svg", fileName(id) + ".svg") }),
    h("a", { class: "button", href: "#/calls", text: "All calls" }));
  const modal = h("div", { class: "modal", hidden: true });
  view.append(head, diagBox, tools, h("p", { class: "muted small", text: "Click an arrow, or a line of evidence, to read the message as it was on the wire." }), ladderBox, msgBox, modal);
  const closeDrawer = () => {
    msgBox.hidden = true;
    document.body.classList.remove("drawer-open");
    selected = -1;
    for (const g of ladderBox.querySelectorAll(".arrow.selected")) g.classList.remove("selected");
  };
  const onKey = (ev) => { if (ev.key === "Escape") { closeDrawer(); $(".modal").hidden = true; } };
  document.addEventListener("keydown", onKey);

  let detail = null;
  let selected = -1;
  const select = (i) => {
    selected = i;
    for (const g of ladderBox.querySelectorAll(".arrow")) g.classList.toggle("selected", Number(g.dataset.message) === i);
    const m = detail && detail.messages.find((x) => x.index === i);
    if (!m) return;
    renderMessage(msgBox, m, closeDrawer);
    msgBox.hidden = false;
    document.body.classList.add("drawer-open");
  };
  let lastJSON = "";
  let stop = () => {};
  const load = async () => {
    const d = await api(base);
    if (!alive()) return;
    const j = JSON.stringify(d);
    if (j !== lastJSON) { // redraw only on change: keeps the selection and scroll
      lastJSON = j;
      detail = d;
      renderCallHead(head, d);
      renderDiagnosis(diagBox, d, select);
      drawLadder(ladderBox, d.ladder, select);
      if (selected >= 0) select(selected);
    }
    // A call with its final answer changes no more, apart from its BYE: stop polling.
    const ended = d.messages.some((m) => m.label.startsWith("BYE") || m.label.startsWith("CANCEL"));
    const quiet = Date.now() - Date.parse(d.summary.last) > 5000;
    if (d.summary.code >= 200 && (d.summary.outcome !== "answered" || ended) && quiet) stop();
  };
  stop = poll(alive, POLL_CALL_MS, async () => {
    try { await load(); } catch (e) {
      if (e.status === 404) { fill(view, errorBox(e), h("a", { href: "#/calls", text: "Back to the calls" })); stop(); return; }
      throw e;
    }
  });
  return () => {
    stop();
    document.removeEventListener("keydown", onKey);
    document.body.classList.remove("drawer-open");
  };
}

function fileName(id) { return "call-" + id.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80); }

function renderCallHead(head, d) {
  const s = d.summary;
  fill(head,
    h("h1", {}, s.method + " ", h("span", { class: "mono", text: s.from }), " → ", h("span", { class: "mono", text: s.to })),
    h("p", { class: "meta" },
      h("span", { class: "code big " + codeClass(s.code), text: codeText(s.code, d.diagnosis.phrase) }), " ",
      outcomeBadge(s.outcome), " ",
      h("span", { class: "muted", text: fmtTime(s.first, true) + " · " + fmtDuration(s.duration) + " · " + s.messages + " messages · Call-ID " }),
      h("span", { class: "mono", text: s.call_id })));
}

function renderDiagnosis(box, d, select) {
  const g = d.diagnosis;
  box.className = "diagnosis d-" + codeClass(g.final_code);
  const ev = (g.evidence || []).map((e) => e.message >= 0
    ? h("li", {}, h("a", { href: "#", "data-message": e.message, onclick: (x) => { x.preventDefault(); select(e.message); }, text: "#" + e.message }), " ", e.text)
    : h("li", { text: e.text }));
  fill(box,
    h("h2", { text: "Diagnosis" }),
    h("p", { class: "cause", text: g.cause }),
    h("dl", {},
      h("dt", { text: "Final answer" }), h("dd", { text: codeText(g.final_code, g.phrase) }),
      h("dt", { text: "Produced by" }), h("dd", { text: producerText(g.producer) })),
    ev.length ? h("div", {}, h("h3", { text: "Evidence" }), h("ul", { class: "evidence" }, ev)) : null,
    (g.checks || []).length ? h("div", {}, h("h3", { text: "What to check" }), h("ol", { class: "checks" }, g.checks.map((c) => h("li", { text: c })))) : null);
}

function renderMessage(box, m, close) {
  fill(box,
    h("div", { class: "drawer-head" }, h("h3", {}, "#" + m.index + " " + m.label),
      h("button", { type: "button", class: "close", title: "close (Esc)", "aria-label": "close", text: "×", onclick: close })),
    h("p", { class: "meta small" }, fmtTime(m.time, true) + " · " + m.direction + " · " + m.transport + " · " + m.from + " → " + m.to),
    h("pre", { class: "sip", text: m.text }));
}

// drawLadder draws the ladder JSON (diag.Ladder) as an SVG: one column per host, an
// arrow per message with its label and time, retransmissions dashed, siplens'
// decisions as yellow notes. Each arrow is a button that shows its message.
function drawLadder(box, l, select) {
  const charW = 7.2, left = 150, top = 56, rowH = 28, margin = 20, minGap = 150;
  const arrowText = (a) => a.label + (a.retransmission ? " (retransmission)" : "");
  const textW = (t) => t.length * charW;
  const n = l.participants.length;
  // Each gap between neighbouring columns is as wide as the longest label of the
  // arrows that cross it (an arrow over several gaps shares its width among them), so
  // a long "407 Proxy Authentication Required" on one side does not widen the other.
  const boxW = l.participants.map((p) => Math.max(120, textW(p.label) + 24));
  const gaps = [];
  for (let i = 0; i + 1 < n; i++) gaps.push(Math.max(minGap, (boxW[i] + boxW[i + 1]) / 2 + 12));
  for (const a of l.arrows) {
    const lo = Math.min(a.from, a.to), hi = Math.max(a.from, a.to);
    if (lo === hi) continue;
    const need = textW(arrowText(a)) + 40;
    let have = 0;
    for (let i = lo; i < hi; i++) have += gaps[i];
    if (have < need) for (let i = lo; i < hi; i++) gaps[i] += (need - have) / (hi - lo);
  }
  const xs = [left + boxW[0] / 2 + 10];
  for (let i = 1; i < n; i++) xs.push(xs[i - 1] + gaps[i - 1]);
  const x = (i) => Math.round(xs[i]);
  const rows = [...l.arrows.map((a) => ({ row: a.row, a })), ...l.notes.map((n) => ({ row: n.row, n }))].sort((p, q) => p.row - q.row);
  let right = n ? x(n - 1) + boxW[n - 1] / 2 : left;
  for (const r of rows) {
    if (r.n) right = Math.max(right, x(r.n.over) + 8 + textW(r.n.text) + 16);
    if (r.a && r.a.from === r.a.to) right = Math.max(right, x(r.a.from) + 40 + textW(arrowText(r.a)));
  }
  const width = Math.ceil(right + margin);
  const height = top + rows.length * rowH + margin;
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "ladder-svg", role: "img", "aria-label": "SIP ladder of call " + l.call_id },
    // One arrowhead per colour: a marker cannot take the colour of its line.
    svg("defs", {}, ["req", "res", "c4", "c5", "c6"].map((k) =>
      svg("marker", { id: "ah-" + k, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" },
        svg("path", { d: "M0,0 L10,5 L0,10 z", class: "head-" + k })))));
  const bottom = height - margin / 2;
  l.participants.forEach((p, i) => {
    const bw = boxW[i];
    root.append(
      svg("line", { class: "life", x1: x(i), y1: top - 14, x2: x(i), y2: bottom }),
      svg("g", { class: "host" + (p.self ? " self" : "") },
        svg("title", { text: (p.addresses || []).join(", ") }),
        svg("rect", { x: x(i) - bw / 2, y: 8, width: bw, height: 28, rx: 5 }),
        svg("text", { x: x(i), y: 27, "text-anchor": "middle", text: p.label })));
  });
  rows.forEach((r, k) => {
    const y = top + k * rowH + rowH / 2;
    if (r.a) {
      const a = r.a;
      const cc = codeClass(responseCode(a.label, a.request));
      const cls = (a.request ? "req" : "res") + (a.retransmission ? " rtx" : "") + " " + cc;
      const head = `url(#ah-${a.request ? "req" : ["c4", "c5", "c6"].includes(cc) ? cc : "res"})`;
      const g = svg("g", { class: "arrow " + cls, "data-message": a.message, tabindex: 0, role: "button", "aria-label": "message " + a.message + ": " + arrowText(a) });
      g.append(svg("title", { text: arrowText(a) + " · " + a.transport + " · " + fmtTime(a.time, true) + " · click to read" }));
      // The time stays outside the arrow's group, so that the group's box (and its
      // centre, where a click lands) is the arrow itself.
      root.append(svg("text", { class: "time", x: 8, y: y + 8, text: fmtTime(a.time) + "  +" + (a.offset_us / 1e6).toFixed(3) }));
      const x1 = x(a.from), x2 = x(a.to);
      if (x1 === x2) {
        g.append(svg("path", { class: "line", d: `M${x1},${y} h34 v10 h-34`, fill: "none", "marker-end": head }),
          svg("rect", { class: "hit", x: x1, y: y - 14, width: 40 + arrowText(a).length * charW, height: rowH }),
          svg("text", { class: "label", x: x1 + 40, y: y + 8, text: arrowText(a) }));
      } else {
        g.append(svg("rect", { class: "hit", x: Math.min(x1, x2), y: y - 14, width: Math.abs(x2 - x1), height: rowH }),
          svg("line", { class: "line", x1, y1: y + 8, x2, y2: y + 8, "marker-end": head }),
          svg("text", { class: "label", x: (x1 + x2) / 2, y: y + 3, "text-anchor": "middle", text: arrowText(a) }));
      }
      const pick = () => select(a.message);
      g.addEventListener("click", pick);
      g.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pick(); } });
      root.append(g);
      return;
    }
    const n = r.n;
    const w = n.text.length * charW + 16;
    root.append(svg("g", { class: "note" },
      svg("text", { class: "time", x: 8, y: y + 8, text: fmtTime(n.time) + "  +" + (n.offset_us / 1e6).toFixed(3) }),
      svg("rect", { x: x(n.over) + 8, y: y - 6, width: w, height: 20, rx: 3 }),
      svg("text", { x: x(n.over) + 16, y: y + 8, text: n.text })));
  });
  fill(box, root);
}

function responseCode(label, request) {
  if (request) return 0;
  const n = parseInt(label, 10);
  return isNaN(n) ? 0 : n;
}

async function download(path, name) {
  try {
    const res = await apiFetch(path);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    setStatus(e.message, true);
  }
}

async function showMermaid(base) {
  const modal = $(".modal");
  try {
    const text = await (await apiFetch(base + "/ladder?format=mermaid")).text();
    const area = h("textarea", { readonly: true, rows: 20, spellcheck: "false" });
    area.value = text;
    fill(modal, h("div", { class: "dialog" },
      h("h3", { text: "Mermaid sequence diagram" }),
      h("p", { class: "muted small", text: "Paste into any Mermaid renderer (GitHub and GitLab markdown draw it in a ```mermaid block)." }),
      area,
      h("div", { class: "tools" },
        h("button", { type: "button", text: "Copy", onclick: async () => { area.select(); try { await navigator.clipboard.writeText(text); } catch (_) { document.execCommand("copy"); } } }),
        h("button", { type: "button", text: "Close", onclick: () => { modal.hidden = true; } }))));
    modal.hidden = false;
  } catch (e) {
    setStatus(e.message, true);
  }
}

// ---- Registrations ----

function registrationsView(view, r, alive) {
  const table = h("table", { class: "regs" },
    h("thead", {}, h("tr", {}, ["User", "Contact", "Source", "Transport", "NAT", "q", "Expires in", "User agent"].map((t) => h("th", { text: t })))),
    h("tbody", {}));
  const info = h("p", { class: "muted" });
  view.append(h("h1", { text: "Registrations" }), info, table);
  let fetched = 0;
  let list = [];
  const render = () => {
    const gone = (Date.now() - fetched) / 1000;
    fill(table.tBodies[0], ...list.map((b) => {
      const left = Math.max(0, Math.ceil(b.seconds_left - gone));
      return h("tr", {},
        h("td", { text: b.aor }),
        h("td", { class: "mono small", text: b.contact }),
        h("td", { class: "mono", text: b.source }),
        h("td", { text: b.transport }),
        h("td", { text: b.nat ? "yes" : "" }),
        h("td", { class: "num", text: b.q }),
        h("td", { class: "num countdown" + (left < 60 ? " soon" : ""), title: b.expires_at, text: fmtSeconds(left) }),
        h("td", { class: "small", text: b.user_agent }));
    }));
  };
  const stopPoll = poll(alive, POLL_REGS_MS, async () => {
    const got = await api("/api/registrations");
    if (!alive()) return;
    list = got;
    fetched = Date.now();
    info.textContent = list.length ? list.length + " contact(s) of " + new Set(list.map((b) => b.aor)).size + " user(s)" : "No registered contact.";
    render();
  });
  // The countdown ticks between polls from the expiry the server gave.
  const tick = setInterval(() => { if (alive() && list.length) render(); }, 1000);
  return () => { stopPoll(); clearInterval(tick); };
}

// ---- Overview ----

const OUTCOME_ORDER = ["answered", "busy", "unavailable", "declined", "cancelled", "not-found", "redirected",
  "unauthorized", "rejected", "timed-out", "failed", "unanswered"];

function overviewView(view, r, alive) {
  const win = r.params.get("window") || "1h";
  const sel = select("window", win, [["15m", "15 minutes"], ["1h", "1 hour"], ["6h", "6 hours"], ["24h", "24 hours"]]);
  sel.addEventListener("change", () => { location.hash = "#/overview?window=" + sel.value; });
  const cards = h("div", { class: "cards" });
  const chart = h("div", { class: "chart" });
  const classes = h("div", { class: "classes" });
  const codesBox = h("div", {});
  view.append(h("h1", {}, "Overview ", h("small", {}, field("window", sel))), cards,
    h("section", {}, h("h2", { text: "Calls by outcome" }), chart),
    h("div", { class: "two" },
      h("section", {}, h("h2", { text: "Final answers by class (all requests)" }), classes),
      h("section", {}, h("h2", { text: "Most frequent codes" }), codesBox)),
    h("p", { class: "muted small" }, "How each figure is computed: docs/web.md. ASR = answered ÷ seizures; NER = (answered + busy + declined + unavailable + cancelled) ÷ seizures; PDD = caller's INVITE to the first 18x siplens sent back."));
  return poll(alive, POLL_OVERVIEW_MS, async () => {
    await loadReasons();
    const o = await api("/api/overview?window=" + encodeURIComponent(win));
    if (!alive()) return;
    const card = (id, label, value, sub) => h("div", { class: "card", id }, h("div", { class: "label", text: label }), h("div", { class: "value", text: value }), h("div", { class: "sub muted", text: sub || "" }));
    fill(cards,
      card("kpi-calls", "Calls", o.calls, o.in_progress + " without final answer"),
      card("kpi-asr", "ASR", pct(o.asr), o.answered + " answered of " + o.seizures + " seizures"),
      card("kpi-ner", "NER", pct(o.ner), o.effective + " reached the user"),
      card("kpi-pdd", "Post-dial delay", ms(o.pdd.median_ms), "median; p90 " + ms(o.pdd.p90_ms) + ", " + o.pdd.samples + " calls"),
      card("kpi-active", "Active calls", o.active.calls, o.active.source === "server" ? "from the server" : o.active.setting_up + " setting up, " + o.active.established + " up (from records)"),
      card("kpi-tx", "Transactions", o.active.transactions === null ? "—" : o.active.transactions, o.active.transactions === null ? "not reported by this server" : "open now"));
    drawChart(chart, o);
    drawClasses(classes, o.response_classes);
    fill(codesBox, h("table", { class: "codes" }, h("tbody", {}, o.codes.slice(0, 10).map((c) =>
      h("tr", {}, h("td", {}, h("a", { href: "#/explain?q=" + c.code, class: "code " + codeClass(c.code), text: codeText(c.code, c.reason) })), h("td", { class: "num", text: c.count }))))));
    if (o.truncated) cards.append(h("p", { class: "muted small", text: "The window holds more calls than one overview reads; figures cover the most recent ones." }));
  });
}

function drawChart(box, o) {
  const buckets = o.per_bucket;
  const W = 900, H = 220, left = 36, bottom = 24, top = 10;
  const totals = buckets.map((b) => Object.values(b.outcomes).reduce((s, n) => s + n, 0));
  const maxN = Math.max(1, ...totals);
  const bw = (W - left - 10) / Math.max(1, buckets.length);
  const y = (n) => H - bottom - (n / maxN) * (H - bottom - top);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img", "aria-label": "calls per " + (o.bucket_s / 60) + " minute(s) by outcome" });
  for (const f of [0, 0.5, 1]) {
    const n = Math.round(maxN * f);
    root.append(svg("line", { class: "grid", x1: left, x2: W - 10, y1: y(n), y2: y(n) }), svg("text", { class: "axis", x: left - 6, y: y(n) + 4, "text-anchor": "end", text: n }));
  }
  buckets.forEach((b, i) => {
    let acc = 0;
    for (const out of OUTCOME_ORDER) {
      const n = b.outcomes[out] || 0;
      if (!n) continue;
      root.append(svg("rect", { class: "bar o-" + out, x: left + i * bw + 1, width: Math.max(1, bw - 2), y: y(acc + n), height: y(acc) - y(acc + n) },
        svg("title", { text: fmtTime(b.start).slice(0, 5) + " " + out + ": " + n })));
      acc += n;
    }
  });
  const step = Math.max(1, Math.ceil(buckets.length / 8));
  buckets.forEach((b, i) => {
    if (i % step) return;
    root.append(svg("text", { class: "axis", x: left + i * bw, y: H - 6, text: fmtTime(b.start).slice(0, 5) }));
  });
  const used = OUTCOME_ORDER.filter((out) => o.outcomes[out]);
  fill(box, root, h("div", { class: "legend" }, used.map((out) => h("span", {}, h("i", { class: "swatch o-" + out }), out + " " + o.outcomes[out]))),
    h("p", { class: "muted small", text: "One bar per " + (o.bucket_s / 60) + " minute(s)." }));
}

function drawClasses(box, classes) {
  const keys = ["1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "none"];
  const total = Math.max(1, ...keys.map((k) => classes[k] || 0));
  fill(box, ...keys.filter((k) => classes[k]).map((k) => h("div", { class: "hbar" },
    h("span", { class: "k", text: k }),
    h("span", { class: "track" }, barFill(k === "none" ? "c0" : "c" + k[0], classes[k] / total)),
    h("span", { class: "num", text: classes[k] }))));
  if (!box.children.length) box.append(h("p", { class: "muted", text: "Nothing recorded in this window." }));
}

// barFill sets its width through the CSSOM: the page's Content-Security-Policy allows
// no inline style attributes.
function barFill(cls, frac) {
  const el = h("span", { class: "fill " + cls });
  el.style.width = (100 * frac).toFixed(1) + "%";
  return el;
}

// ---- Explain ----

function explainView(view, r, alive) {
  const input = h("input", { type: "search", name: "q", id: "explain-q", placeholder: "480, 4xx, not registered, busy…", value: r.params.get("q") || "", size: 36, autofocus: true });
  const results = h("div", { class: "codes-list" });
  view.append(h("h1", { text: "Explain a response code" }),
    h("p", { class: "muted", text: "Every code of the IANA registry: what it means, what usually causes it, what to check, and whether a retry helps." }),
    h("form", { class: "filters", onsubmit: (ev) => ev.preventDefault() }, input), results);
  let timer = null;
  let seq = 0;
  const search = async () => {
    const my = ++seq;
    const q = input.value.trim();
    history.replaceState(null, "", "#/explain" + (q ? "?q=" + encodeURIComponent(q) : ""));
    try {
      const list = await api("/api/codes" + (q ? "?q=" + encodeURIComponent(q) : ""));
      if (!alive() || my !== seq) return;
      fill(results, ...(list.length ? list.map(codeCard) : [h("p", { class: "muted", text: "No code matches." })]));
    } catch (e) {
      fill(results, errorBox(e));
    }
  };
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 150); });
  search();
  return () => clearTimeout(timer);
}

function codeCard(c) {
  const list = (title, items) => items.length ? h("div", {}, h("h4", { text: title }), h("ul", {}, items.map((i) => h("li", { text: i })))) : null;
  return h("article", { class: "code-card", id: "code-" + c.code },
    h("h3", {}, h("span", { class: "code " + codeClass(c.code), text: c.code }), " " + (c.reason || "(not registered)"),
      h("small", { class: "muted", text: "  " + c.class_name + (c.rfc ? " · " + c.rfc : "") })),
    h("p", { text: c.meaning }),
    list("Usual causes", c.causes),
    list("What to check", c.checks),
    c.retry ? h("p", { class: "small" }, h("b", { text: "Retry: " }), c.retry) : null);
}

// ---- start ----

takeTokenFromURL();
setupLogin();
window.addEventListener("hashchange", route);
route();
