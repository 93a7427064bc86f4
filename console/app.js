// The reference console: plain ES modules, no build step. Every call goes to the public API (api.js).
import { ApiError, call, del, get, getToken, patch, post, put, setToken } from "./api.js";

const $ = (sel, root = document) => root.querySelector(sel);
const main = $("#main");
let me = null;
let timers = [];
let uid = 0;

/** h("tag", {attrs}, ...children): builds elements without innerHTML (API text is never parsed as HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Replaces an element's children, skipping the null/false of conditional parts. */
function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** A labelled control: returns [wrapper, control]. */
function field(label, control) {
  control.id ||= `f${++uid}`;
  return [h("div", { class: "field" }, h("label", { for: control.id, text: label }), control), control];
}

function select(options, value) {
  const s = h("select");
  for (const [v, label] of options) s.append(h("option", { value: v, text: label, selected: v === value }));
  return s;
}

function describe(err) {
  if (err instanceof ApiError) return err.code ? `${err.message} (${err.code})` : err.message;
  return String(err);
}

function note(text, kind = "info") {
  const n = $("#notice");
  n.textContent = text;
  n.className = kind;
  n.hidden = !text;
}

/** Runs an action from a button: disables it meanwhile; errors end up in the notice, never in the console. */
async function act(button, fn) {
  if (button) button.disabled = true;
  try {
    await fn();
  } catch (err) {
    note(describe(err), "error");
  } finally {
    if (button) button.disabled = false;
  }
}

function confirmDialog(text, okLabel) {
  const dialog = $("#confirm");
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

function every(ms, fn) {
  const id = setInterval(() => fn().catch((err) => note(describe(err), "error")), ms);
  timers.push(id);
}

const fmtValues = (o) =>
  Object.entries(o || {}).map(([k, v]) => `${k}: ${v !== null && typeof v === "object" ? JSON.stringify(v) : v === null ? "none" : v}`).join(", ") || "—";
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

// ---------------------------------------------------------------------------------------------------- sign in
function signIn() {
  const [wrap, area] = field("Portal JWT (Bearer token)", h("textarea", { rows: 4, spellcheck: "false", required: true }));
  fill(main, 
    h("h1", { text: "Sign in" }),
    h("p", { text: "The console calls the bridge's public API with your portal JWT. Locally, mint one with:" }),
    h("pre", { text: ".venv/bin/clickup-bridge dev-token --org demo-org --user you --role admin" }),
    h(
      "form",
      {
        id: "signin",
        onsubmit: async (e) => {
          e.preventDefault();
          setToken(area.value.trim());
          try {
            await start();
          } catch (err) {
            setToken(null);
            note(`That token was refused: ${describe(err)}`, "error");
            signIn();
          }
        },
      },
      wrap,
      h("button", { type: "submit", text: "Sign in" }),
    ),
  );
  area.focus();
}

// ---------------------------------------------------------------------------------------------------- organisation
async function organisation() {
  const params = new URLSearchParams(location.search);
  const outcome = params.get("clickup");
  if (outcome) {
    note(outcome === "connected" ? "ClickUp is connected." : `ClickUp was not connected: ${params.get("reason") || outcome}`,
      outcome === "connected" ? "ok" : "error");
    history.replaceState(null, "", location.pathname + location.hash);
  }
  const conn = await get("/api/v1/clickup/connection");
  const admin = me.role === "admin";
  const live = conn.status === "connected" || conn.status === "needs_reauth";
  const statusText = { connected: "Connected", needs_reauth: "Needs re-authorisation", disconnected: "Disconnected", not_connected: "Not connected" }[conn.status] || conn.status;
  const card = h(
    "section",
    { class: `card status-${conn.status}`, "aria-labelledby": "card-title" },
    h("h2", { id: "card-title", text: "ClickUp" }),
    h("p", {}, "Status: ", h("strong", { id: "conn-status", text: statusText })),
    conn.user ? h("p", {}, "ClickUp user: ", h("span", { id: "conn-user", text: `${conn.user.username} (${conn.user.email || "no email"})` })) : null,
    conn.mode ? h("p", { text: `Connected with: ${conn.mode === "oauth" ? "OAuth" : "a personal token"} since ${fmtTime(conn.connected_at)}` }) : null,
    live ? h("p", { text: `Last hierarchy sync: ${fmtTime(conn.last_sync_at)}` }) : null,
    conn.workspaces.length
      ? h("div", {}, h("h3", { text: "Workspaces" }), h("ul", { id: "conn-workspaces" },
          conn.workspaces.map((w) => h("li", { text: `${w.name}${w.authorized ? "" : " (not authorized)"}${w.id === conn.default_workspace_id ? " — default" : ""}` }))))
      : null,
    conn.webhooks && conn.webhooks.length
      ? h("p", { text: `Webhooks: ${conn.webhooks.map((w) => `${w.workspace_id}: ${w.health}`).join(", ")}` })
      : null,
  );
  const actions = h("div", { class: "actions" });
  if (admin && conn.status !== "connected") {
    actions.append(h("button", {
      type: "button", id: "connect", text: conn.status === "needs_reauth" ? "Re-authorise ClickUp" : "Connect ClickUp",
      onclick: (e) => act(e.target, async () => {
        const returnTo = location.origin + location.pathname + "#/organisation";
        const started = await get(`/clickup/oauth/connect?return_to=${encodeURIComponent(returnTo)}`);
        location.assign(started.authorize_url);
      }),
    }));
  }
  if (live) {
    const result = h("span", { id: "test-result", role: "status" });
    actions.append(
      h("button", { type: "button", id: "test", text: "Test connection", onclick: (e) => act(e.target, async () => {
        const t = await post("/api/v1/clickup/connection/test");
        result.textContent = `${t.result}: ${t.detail}${t.latency_ms != null ? ` (${Math.round(t.latency_ms)} ms)` : ""}`;
      }) }),
      h("button", { type: "button", id: "sync", text: "Sync spaces now", onclick: (e) => act(e.target, async () => {
        const s = await post("/api/v1/clickup/sync");
        note(`Space sync ${s.state.replace("_", " ")}.`, "ok");
      }) }),
    );
    if (admin) {
      actions.append(h("button", { type: "button", id: "disconnect", class: "danger", text: "Disconnect", onclick: (e) => act(e.target, async () => {
        if (!(await confirmDialog("Disconnect ClickUp from this organisation? Its webhooks are removed and its token shredded; tasks stay in ClickUp.", "Disconnect"))) return;
        await del("/clickup/oauth/disconnect");
        note("ClickUp is disconnected.", "ok");
        await route();
      }) }));
    }
    actions.append(result);
  }
  if (!admin) actions.append(h("p", { class: "hint", text: "Connecting and disconnecting need the admin role." }));
  card.append(actions);
  const nodes = [h("h1", { text: `Organisation ${me.org_id}` }), card];
  if (live) {
    const authorized = conn.workspaces.filter((w) => w.authorized);
    const [wsWrap, wsSel] = field("Default workspace", select(authorized.map((w) => [w.id, w.name]), conn.default_workspace_id));
    nodes.push(h("section", { class: "card", "aria-labelledby": "dw" }, h("h2", { id: "dw", text: "Default workspace" }), wsWrap,
      h("button", { type: "button", id: "save-workspace", text: "Save default workspace", onclick: (e) => act(e.target, async () => {
        await put("/api/v1/clickup/connection/default-workspace", { workspace_id: wsSel.value });
        note("Default workspace saved.", "ok");
      }) })));
  }
  fill(main, ...nodes);
  try {
    main.append(await settingsEditor(admin, live));
  } catch (err) {
    main.append(h("p", { class: "error", text: `Settings: ${describe(err)}` }));
  }
}

async function hierarchy() {
  try {
    return await get("/api/v1/clickup/spaces");
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) return { spaces: [], synced_at: null, unavailable: describe(err) };
    throw err;
  }
}

const listsOf = (space) => [...space.lists, ...space.folders.flatMap((f) => f.lists.map((l) => ({ ...l, name: `${f.name} / ${l.name}` })))];

async function settingsEditor(admin, live) {
  const settings = await get("/api/v1/clickup/settings");
  const tree = live ? await hierarchy() : { spaces: [] };
  const spaces = tree.spaces.filter((s) => !s.archived);
  const allLists = spaces.flatMap((s) => listsOf(s).map((l) => ({ ...l, name: `${s.name} / ${l.name}` })));
  const section = h("section", { class: "card", "aria-labelledby": "st" }, h("h2", { id: "st", text: "ClickUp module settings" }));
  const [enWrap, enabled] = field("ClickUp module enabled", h("input", { type: "checkbox", checked: settings.enabled }));
  enWrap.classList.add("inline");
  section.append(enWrap);
  if (live && !tree.synced_at) section.append(h("p", { class: "hint", text: tree.unavailable || "The hierarchy has not been synced yet: lists appear after the first sync." }));

  // default list per space
  const defaults = {};
  const dl = h("fieldset", {}, h("legend", { text: "Default list per space" }));
  for (const s of spaces) {
    const [w, sel] = field(s.name, select([["", "(none)"], ...listsOf(s).map((l) => [l.id, l.name])], settings.space_default_lists[s.id] || ""));
    defaults[s.id] = sel;
    dl.append(w);
  }
  if (!spaces.length) dl.append(h("p", { class: "hint", text: "No spaces synced." }));
  section.append(dl);

  // status mapping: per list, portal status → one of the list's own statuses
  const sm = h("fieldset", { id: "status-mapping" }, h("legend", { text: "Status mapping (portal status → ClickUp status of the list)" }));
  const rows = h("div");
  const addRow = (listId, portal = "", clickup = "") => {
    const list = allLists.find((l) => l.id === listId);
    const statuses = list ? list.statuses.map((s) => [s.status, s.status]) : [[clickup, clickup]];
    const [lw, ls] = field("List", select(allLists.map((l) => [l.id, l.name]).concat(list ? [] : [[listId, `${listId} (not synced)`]]), listId));
    const [pw, pi] = field("Portal status", h("input", { value: portal, maxlength: 128 }));
    const [cw, cs] = field("ClickUp status", select(statuses, clickup));
    ls.addEventListener("change", () => {
      const chosen = allLists.find((l) => l.id === ls.value);
      fill(cs, ...(chosen ? chosen.statuses : []).map((s) => h("option", { value: s.status, text: s.status })));
    });
    const row = h("div", { class: "row" }, lw, pw, cw);
    row.append(h("button", { type: "button", text: "Remove", "aria-label": `Remove mapping ${portal}`, onclick: () => row.remove() }));
    row.read = () => [ls.value, pi.value.trim(), cs.value];
    rows.append(row);
  };
  for (const [listId, map] of Object.entries(settings.status_mapping)) for (const [p, c] of Object.entries(map)) addRow(listId, p, c);
  sm.append(rows, h("button", { type: "button", text: "Add status mapping", disabled: !allLists.length, onclick: () => addRow(allLists[0].id, "", allLists[0].statuses[0]?.status || "") }));
  section.append(sm);

  // field mapping: portal field → a custom field of a chosen list (GET /api/v1/clickup/lists/{id}/fields, read from
  // ClickUp: each list's answer is kept for the editor's life, so choosing lists again costs no ClickUp call)
  const fm = h("fieldset", { id: "field-mapping" }, h("legend", { text: "Field mapping (portal field → ClickUp custom field of a list)" }));
  const frows = h("div");
  const fieldsOf = new Map();
  const listFields = (listId) => {
    if (!fieldsOf.has(listId)) {
      const asked = get(`/api/v1/clickup/lists/${encodeURIComponent(listId)}/fields`).then((a) => a.fields);
      asked.catch(() => fieldsOf.delete(listId)); // ask again next time
      fieldsOf.set(listId, asked);
    }
    return fieldsOf.get(listId);
  };
  const fieldLabel = (f) => `${f.name} (${f.type.replace("_", " ")}${f.options.length ? `: ${f.options.map((o) => o.name).join(", ")}` : ""})`;
  const addField = (portal = "", id = "") => {
    const lists = [["", "(choose a list)"], ...allLists.map((l) => [l.id, l.name])];
    const [lw, ls] = field("List", select(lists, id ? "" : allLists[0]?.id || ""));
    const [pw, pi] = field("Portal field", h("input", { value: portal, maxlength: 128 }));
    const [cw, cf] = field("ClickUp field", select(id ? [[id, `${id} (stored)`]] : [], id));
    const status = h("span", { class: "hint", role: "status" });
    const showFields = async () => {
      if (!ls.value) return;
      const keep = cf.value;
      fill(cf);
      cf.disabled = true;
      status.textContent = "Reading the list's fields from ClickUp…";
      try {
        const found = await listFields(ls.value);
        fill(cf, ...found.map((f) => h("option", { value: f.id, text: fieldLabel(f), selected: f.id === keep })));
        status.textContent = found.length ? "" : "This list has no custom fields.";
      } catch (err) {
        status.textContent = describe(err);
      } finally {
        cf.disabled = !admin || !cf.options.length;
      }
    };
    ls.addEventListener("change", showFields);
    const row = h("div", { class: "row" }, lw, pw, cw, status);
    row.append(h("button", { type: "button", text: "Remove", "aria-label": `Remove field mapping ${portal}`, onclick: () => row.remove() }));
    row.read = () => [pi.value.trim(), cf.value];
    frows.append(row);
    showFields();
  };
  for (const [p, id] of Object.entries(settings.field_mapping)) addField(p, id);
  fm.append(frows, h("button", { type: "button", text: "Add field mapping", disabled: !allLists.length, onclick: () => addField() }));
  section.append(fm);

  const [whWrap, wh] = field("Portal webhook URL (https)", h("input", { type: "url", value: settings.portal_webhook_url || "", placeholder: "https://portal.example.com/hooks/clickup" }));
  section.append(whWrap);

  const secretOut = h("p", { id: "secret", role: "status" });
  if (admin) {
    section.append(h("div", { class: "actions" },
      h("button", { type: "button", id: "save-settings", text: "Save settings", onclick: (e) => act(e.target, async () => {
        const status_mapping = {};
        for (const r of rows.children) {
          const [l, p, c] = r.read();
          if (!p) continue;
          (status_mapping[l] ||= {})[p] = c;
        }
        const field_mapping = {};
        for (const r of frows.children) {
          const [p, id] = r.read();
          if (p || id) field_mapping[p] = id;
        }
        const space_default_lists = {};
        for (const [s, sel] of Object.entries(defaults)) if (sel.value) space_default_lists[s] = sel.value;
        await put("/api/v1/clickup/settings", {
          ...settings, enabled: enabled.checked, status_mapping, field_mapping, space_default_lists,
          portal_webhook_url: wh.value.trim() || null,
        });
        note("Settings saved.", "ok");
      }) }),
      h("button", { type: "button", id: "rotate-secret", text: "Rotate webhook secret", onclick: (e) => act(e.target, async () => {
        if (!(await confirmDialog("Rotate the portal webhook secret? Pushed events are signed with the new one from now on.", "Rotate"))) return;
        const s = await post("/api/v1/clickup/portal-webhook/secret");
        secretOut.textContent = `New secret (shown once, header ${s.header}): ${s.secret}`;
      }) }),
      secretOut));
  } else {
    for (const el of section.querySelectorAll("input, select, button")) el.disabled = true;
    section.append(h("p", { class: "hint", text: "Settings are changed by admins." }));
  }
  return section;
}

// ---------------------------------------------------------------------------------------------------- customers
const BROKEN = { space_deleted: "the space was deleted in ClickUp", list_deleted: "the list was deleted in ClickUp" };
async function customers() {
  const tree = await hierarchy();
  const spaces = tree.spaces.filter((s) => !s.archived);
  const [cw, cust] = field("Customer id", h("input", { value: localStorage.getItem("bridge.console.customer") || "", required: true }));
  const [sw, spaceSel] = field("Space", select([["", "(choose a space)"], ...spaces.map((s) => [s.id, s.name])], ""));
  const [lw, listSel] = field("List (optional: the space's default list otherwise)", select([["", "(space default)"]], ""));
  const fillLists = () => {
    const s = spaces.find((x) => x.id === spaceSel.value);
    fill(listSel, h("option", { value: "", text: "(space default)" }), ...(s ? listsOf(s) : []).map((l) => h("option", { value: l.id, text: l.name })));
  };
  spaceSel.addEventListener("change", fillLists);
  const current = h("div", { id: "assignment", role: "status", "aria-live": "polite" });
  const nameOf = (id) => {
    for (const s of tree.spaces) {
      if (s.id === id) return s.name;
      for (const l of listsOf(s)) if (l.id === id) return l.name;
    }
    return `${id} (no longer in ClickUp)`;
  };
  const show = async () => {
    const id = cust.value.trim();
    if (!id) return;
    localStorage.setItem("bridge.console.customer", id);
    try {
      const a = await get(`/api/v1/customers/${encodeURIComponent(id)}/clickup-space`);
      fill(current, 
        h("p", {}, "Assigned to: ", h("strong", { id: "assigned-to", text: a.list_id ? `${nameOf(a.space_id)} → ${nameOf(a.list_id)}` : nameOf(a.space_id) })),
        a.status === "broken"
          ? h("p", { class: "error", id: "assignment-broken", text: `Broken: ${BROKEN[a.broken_reason] || "ClickUp removed the space or list"}. New tickets of this customer cannot become tasks: assign another space or list.` })
          : h("p", { class: "ok", text: "Assignment OK" }),
      );
      spaceSel.value = spaces.some((s) => s.id === a.space_id) ? a.space_id : "";
      fillLists();
      if (a.list_id) listSel.value = a.list_id;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) fill(current, h("p", { text: `Customer ${id} has no ClickUp space yet.` }));
      else throw err;
    }
  };
  fill(main, 
    h("h1", { text: "Customers" }),
    tree.synced_at ? null : h("p", { class: "hint", text: tree.unavailable || "The hierarchy has not been synced yet." }),
    h("form", { class: "card", onsubmit: (e) => { e.preventDefault(); act(null, show); } }, cw, h("button", { type: "submit", text: "Show assignment" })),
    h("section", { class: "card", "aria-labelledby": "as" }, h("h2", { id: "as", text: "ClickUp space" }), current, sw, lw,
      h("div", { class: "actions" },
        h("button", { type: "button", id: "assign", text: "Assign", onclick: (e) => act(e.target, async () => {
          if (!spaceSel.value) throw new Error("Choose a space first.");
          const body = { space_id: spaceSel.value };
          if (listSel.value) body.list_id = listSel.value;
          await put(`/api/v1/customers/${encodeURIComponent(cust.value.trim())}/clickup-space`, body);
          note("Customer assigned.", "ok");
          await show();
        }) }),
        h("button", { type: "button", text: "Remove assignment", onclick: (e) => act(e.target, async () => {
          if (!(await confirmDialog(`Remove customer ${cust.value.trim()}'s ClickUp space?`, "Remove"))) return;
          await del(`/api/v1/customers/${encodeURIComponent(cust.value.trim())}/clickup-space`);
          note("Assignment removed.", "ok");
          await show();
        }) }))),
  );
  await show();
}

// ---------------------------------------------------------------------------------------------------- tickets
const recentTickets = () => JSON.parse(localStorage.getItem("bridge.console.tickets") || "[]");
function remember(id, title) {
  const list = recentTickets().filter((t) => t.id !== id);
  list.unshift({ id, title });
  localStorage.setItem("bridge.console.tickets", JSON.stringify(list.slice(0, 20)));
}

let membersCache; // undefined: not asked; null: the route is not deployed (feature-detected)
function memberName(id) {
  const m = (membersCache || []).find((x) => Number(x.id) === Number(id));
  return m ? m.username : String(id);
}

async function members() {
  if (membersCache !== undefined) return membersCache;
  try {
    membersCache = (await get("/api/v1/clickup/members")).members;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) membersCache = null; // the route is not deployed
    return null; // anything else (e.g. not connected): type ids this time, ask again next time
  }
  return membersCache;
}

async function tickets(ticketId) {
  if (ticketId) return ticket(ticketId);
  const [tw, title] = field("Title", h("input", { required: true, maxlength: 500 }));
  const [dw, desc] = field("Description", h("textarea", { rows: 3 }));
  const [pw, prio] = field("Priority", select([["urgent", "Urgent"], ["high", "High"], ["normal", "Normal"], ["low", "Low"]], "normal"));
  const [cw, cust] = field("Customer id", h("input", { required: true, value: localStorage.getItem("bridge.console.customer") || "" }));
  const [duew, due] = field("Due date (optional)", h("input", { type: "date" }));
  const [ow, open] = field("Ticket id", h("input", { placeholder: "a ticket UUID" }));
  fill(main, 
    h("h1", { text: "Tickets" }),
    h("form", { class: "card", id: "new-ticket", "aria-labelledby": "nt", onsubmit: (e) => {
      e.preventDefault();
      act(e.submitter, async () => {
        const id = crypto.randomUUID();
        const body = { title: title.value, priority: prio.value, customer_id: cust.value.trim(), ticket_url: `${location.origin}${location.pathname}#/tickets/${id}` };
        if (desc.value.trim()) body.description = desc.value;
        if (due.value) body.due_date = due.value;
        await post(`/api/v1/tickets/${id}/clickup-task`, body);
        remember(id, title.value);
        location.hash = `#/tickets/${id}`;
      });
    } }, h("h2", { id: "nt", text: "New ticket → Create ClickUp task" }), tw, dw, pw, cw, duew, h("button", { type: "submit", id: "create-task", text: "Create ClickUp task" })),
    h("form", { class: "card", onsubmit: (e) => { e.preventDefault(); if (open.value.trim()) location.hash = `#/tickets/${open.value.trim()}`; } },
      h("h2", { text: "Open a ticket" }), ow, h("button", { type: "submit", text: "Open" })),
    h("section", { class: "card" }, h("h2", { text: "Recent tickets" }),
      h("ul", {}, recentTickets().map((t) => h("li", {}, h("a", { href: `#/tickets/${t.id}`, text: t.title || t.id }))))),
  );
  title.focus();
}

const STATE_TEXT = { queued: "Queued", creating: "Creating…", created: "Created", failed: "Failed", deleted: "Deleted in ClickUp" };

async function ticket(id) {
  const title = (recentTickets().find((t) => t.id === id) || {}).title;
  const stateBox = h("section", { class: "card", id: "task-card", "aria-labelledby": "tk" });
  const changeBox = h("section", { class: "card", "aria-labelledby": "ch" });
  const historyBox = h("section", { class: "card", "aria-labelledby": "hi" });
  fill(main, h("h1", { text: title ? `Ticket: ${title}` : `Ticket ${id}` }), h("p", { class: "hint", text: `Ticket id ${id}` }), stateBox, changeBox, historyBox);
  let lastShown = "";
  let editorBuilt = false;
  const refresh = async () => {
    let link;
    try {
      link = await get(`/api/v1/tickets/${id}/clickup-task`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        if (lastShown === "none") return; // keep what the user is typing in the link form
        lastShown = "none";
        editorBuilt = false;
        fill(changeBox);
        fill(historyBox);
        fill(stateBox, h("h2", { id: "tk", text: "ClickUp task" }), h("p", { id: "task-state", text: "No ClickUp task for this ticket." }), linkForm());
        return;
      }
      throw err;
    }
    if (link.state === "created") await members();
    const key = JSON.stringify(link);
    if (key === lastShown) return;
    lastShown = key;
    fill(stateBox, 
      h("h2", { id: "tk", text: "ClickUp task" }),
      h("p", {}, "State: ", h("strong", { id: "task-state", class: `state-${link.state}`, text: STATE_TEXT[link.state] || link.state })),
      link.error ? h("p", { class: "error", id: "task-error", text: link.error.message.includes(link.error.code) ? link.error.message : `${link.error.message} (${link.error.code})` }) : null,
      link.task_url ? h("p", {}, h("a", { id: "task-link", href: link.task_url, target: "_blank", rel: "noopener", text: `Open task ${link.task_id} in ClickUp` })) : null,
      link.state === "created" || link.state === "deleted"
        ? h("dl", { id: "task-fields" },
            h("dt", { text: "Status" }), h("dd", { id: "task-status", text: link.status || "—" }),
            h("dt", { text: "Priority" }), h("dd", { id: "task-priority", text: link.priority || "none" }),
            h("dt", { text: "Due date" }), h("dd", { id: "task-due", text: link.due_date || "none" }),
            h("dt", { text: "Assignees" }), h("dd", { id: "task-assignees", text: link.assignees.length ? link.assignees.map(memberName).join(", ") : "nobody" }),
            h("dt", { text: "Changes not yet in ClickUp" }), h("dd", { text: String(link.pending_changes) }))
        : null,
      h("div", { class: "actions" },
        link.state === "failed"
          ? h("button", { type: "button", id: "retry", text: "Retry", onclick: (e) => act(e.target, async () => {
              await post(`/api/v1/tickets/${id}/clickup-task/retry`);
              await refresh();
            }) })
          : null,
        // Unlinking: not while the task is being created (the API answers 409 task_creation_in_flight then)
        link.state === "queued" || link.state === "creating"
          ? null
          : h("button", { type: "button", id: "unlink", class: "danger", text: "Unlink task", onclick: (e) => act(e.target, async () => {
              const what = link.task_id ? `ClickUp task ${link.task_id}` : "its failed ClickUp task";
              if (!(await confirmDialog(`Unlink this ticket from ${what}? The task stays in ClickUp; its changes no longer reach the ticket.`, "Unlink"))) return;
              await del(`/api/v1/tickets/${id}/clickup-task`);
              note("Unlinked: the task stays in ClickUp.", "ok");
              await refresh();
            }) })),
    );
    if (link.state === "created" && !editorBuilt) {
      editorBuilt = true;
      await buildEditor(link);
    }
    await showHistory();
  };
  // Link the ticket to a task that already exists in ClickUp: its id, or its URL (custom task ids too)
  const linkForm = () => {
    const [lw, ref] = field("Existing ClickUp task (id or URL)", h("input", { placeholder: "86c0vxm2k or https://app.clickup.com/t/86c0vxm2k", maxlength: 300 }));
    return h("form", { id: "link-task", onsubmit: (e) => {
      e.preventDefault();
      act(e.submitter, async () => {
        const value = ref.value.trim();
        if (!value) throw new Error("Give the task's id or its URL.");
        const linked = await put(`/api/v1/tickets/${id}/clickup-task/link`, /^https?:\/\//i.test(value) ? { task_url: value } : { task_id: value });
        note(`Linked to ClickUp task ${linked.task_id}: its changes now reach this ticket.`, "ok");
        await refresh();
      });
    } }, h("h3", { text: "Link an existing ClickUp task" }), lw, h("button", { type: "submit", id: "link-submit", text: "Link task" }));
  };
  const showHistory = async () => {
    const hist = await get(`/api/v1/tickets/${id}/clickup-task/history`);
    fill(historyBox, h("h2", { id: "hi", text: "History" }), h("table", { id: "history" },
      h("thead", {}, h("tr", {}, ["When", "Who", "What", "Before", "After"].map((c) => h("th", { scope: "col", text: c })))),
      h("tbody", {}, hist.entries.slice().reverse().map((e) => h("tr", {},
        h("td", { text: fmtTime(e.at) }), h("td", { text: e.actor }), h("td", { text: e.action }),
        h("td", { text: fmtValues(e.before) }), h("td", { text: fmtValues(e.after) }))))));
  };
  const buildEditor = async (link) => {
    const settings = await get("/api/v1/clickup/settings");
    const portalStatuses = Object.keys(settings.status_mapping[link.list_id] || {});
    const [sw, status] = field("Status", select([["", "(unchanged)"], ...portalStatuses.map((s) => [s, s])], ""));
    const [pw, prio] = field("Priority", select([["", "(unchanged)"], ["urgent", "Urgent"], ["high", "High"], ["normal", "Normal"], ["low", "Low"], ["none", "No priority"]], ""));
    const [dw, due] = field("Due date", h("input", { type: "date" }));
    const [cdw, clearDue] = field("Clear the due date", h("input", { type: "checkbox" }));
    cdw.classList.add("inline");
    const team = await members();
    let assigneesCtl;
    let aw;
    if (team) {
      [aw, assigneesCtl] = field("Assignees", h("select", { multiple: true, size: Math.min(6, team.length + 1) },
        team.map((m) => h("option", { value: m.id, text: `${m.username}${m.email ? ` <${m.email}>` : ""}`, selected: link.assignees.includes(Number(m.id)) }))));
    } else {
      [aw, assigneesCtl] = field("Assignees (ClickUp user ids, comma-separated; empty: unchanged)", h("input", { inputmode: "numeric", placeholder: "e.g. 183, 204" }));
    }
    const [tw, text] = field("Comment", h("textarea", { rows: 3 }));
    fill(changeBox, 
      h("h2", { id: "ch", text: "Change the task" }),
      portalStatuses.length ? null : h("p", { class: "hint", text: "No status mapping for this task's list: add one on the Organisation screen to change statuses." }),
      h("form", { id: "change", onsubmit: (e) => {
        e.preventDefault();
        act(e.submitter, async () => {
          const change = {};
          if (status.value) change.status = status.value;
          if (prio.value) change.priority = prio.value === "none" ? null : prio.value;
          if (clearDue.checked) change.due_date = null;
          else if (due.value) change.due_date = due.value;
          if (team) {
            const chosen = [...assigneesCtl.selectedOptions].map((o) => Number(o.value));
            const before = [...link.assignees].sort().join();
            if (chosen.slice().sort().join() !== before) change.assignees = chosen;
          } else if (assigneesCtl.value.trim()) {
            change.assignees = assigneesCtl.value.split(",").map((s) => Number(s.trim())).filter((n) => n);
          }
          await patch(`/api/v1/tickets/${id}/clickup-task`, change);
          status.value = prio.value = due.value = "";
          clearDue.checked = false;
          note("Change accepted: it is applied in ClickUp shortly.", "ok");
          await refresh();
        });
      } }, sw, pw, dw, cdw, aw, h("button", { type: "submit", id: "apply-change", text: "Apply change" })),
      h("form", { id: "comment", onsubmit: (e) => {
        e.preventDefault();
        act(e.submitter, async () => {
          await post(`/api/v1/tickets/${id}/clickup-task/comments`, { text: text.value });
          text.value = "";
          note("Comment accepted: it is posted in ClickUp shortly.", "ok");
        });
      } }, tw, h("button", { type: "submit", text: "Add comment" })),
    );
  };
  await refresh();
  every(1500, refresh);
}

// ---------------------------------------------------------------------------------------------------- events
function summary(ev) {
  const d = ev.data || {};
  const by = d.by ? ` by ${typeof d.by === "object" ? d.by.username || d.by.id : d.by}` : "";
  const t = ev.type;
  if (t === "clickup.task.status_changed") return `status ${d.previous ?? "—"} → ${d.status}${by}`;
  if (t === "clickup.task.priority_changed") return `priority ${d.previous ?? "none"} → ${d.priority ?? "none"}${by}`;
  if (t === "clickup.task.due_date_changed") return `due date → ${d.due_date ?? "none"}${by}`;
  if (t === "clickup.task.created") return `task ${d.task_id} created`;
  if (t === "clickup.task.failed") return `${d.code}: ${d.message}`;
  if (t === "clickup.task.linked") return `linked to task ${d.task_id} (${d.status ?? "—"}) by ${d.by}`;
  if (t === "clickup.task.unlinked") return `unlinked from ${d.task_id ? `task ${d.task_id}` : "its failed task"} by ${d.by}`;
  if (t.startsWith("clickup.task.comment")) return `${d.text ?? ""}${by}`;
  if (t === "clickup.task.assignees_changed") return `assignees → ${(d.assignees || []).map(memberName).join(", ") || "nobody"}${by}`;
  if (t === "clickup.connection.connected") return `connected (${d.mode === "oauth" ? "OAuth" : "personal token"}), ${(d.workspaces || []).length} workspace(s)`;
  if (t === "clickup.connection.disconnected") return "disconnected";
  if (t === "clickup.connection.needs_reauth") return "ClickUp refused the token: re-authorise";
  if (t === "clickup.assignment.broken") return `customer ${d.customer_id}: ${BROKEN[d.reason] || d.reason}`;
  return JSON.stringify(d).slice(0, 160);
}

async function events() {
  const body = h("tbody");
  const status = h("p", { class: "hint", id: "events-status", role: "status" });
  fill(main, 
    h("h1", { text: "Events" }),
    h("p", { text: "The organisation's portal events, newest first; new ones appear as they are recorded." }),
    status,
    h("table", { id: "events" }, h("thead", {}, h("tr", {}, ["When", "Type", "Ticket", "What"].map((c) => h("th", { scope: "col", text: c })))), body),
  );
  let cursor = null;
  const poll = async () => {
    for (;;) {
      const page = await get(`/api/v1/clickup/events?limit=200${cursor ? `&after=${encodeURIComponent(cursor)}` : ""}`);
      for (const ev of page.events) {
        body.prepend(h("tr", { class: "event" },
          h("td", { text: fmtTime(ev.occurred_at) }), h("td", { text: ev.type }),
          h("td", {}, ev.ticket_id ? h("a", { href: `#/tickets/${ev.ticket_id}`, text: ev.ticket_id.slice(0, 8) }) : "—"),
          h("td", { text: summary(ev) })));
      }
      if (page.cursor) cursor = page.cursor;
      if (page.events.length < 200) break;
    }
    status.textContent = `${body.children.length} events · updated ${new Date().toLocaleTimeString()}`;
  };
  await poll();
  every(2000, poll);
}

// ---------------------------------------------------------------------------------------------------- routing
async function route() {
  timers.forEach(clearInterval);
  timers = [];
  const [, screen = "organisation", arg] = (location.hash || "#/organisation").split("/");
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === `#/${screen}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const screens = { organisation, customers, tickets, events };
  try {
    await (screens[screen] || organisation)(arg && decodeURIComponent(arg));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signOut("Your token expired or was refused: sign in again.");
    fill(main, h("h1", { text: "Something went wrong" }), h("p", { class: "error", text: describe(err) }));
  }
}

function signOut(message) {
  setToken(null);
  me = null;
  timers.forEach(clearInterval);
  $("#nav").hidden = $("#signout").hidden = true;
  $("#whoami").textContent = "";
  note(message || "", message ? "error" : "info");
  signIn();
}

async function start() {
  me = await call("GET", "/api/v1/me");
  $("#whoami").textContent = `${me.user_id} (${me.role}) · ${me.org_id}`;
  $("#nav").hidden = $("#signout").hidden = false;
  await route();
}

$("#signout").addEventListener("click", () => signOut());
window.addEventListener("hashchange", () => {
  if (me) {
    note("");
    route();
  }
});
if (getToken()) start().catch(() => signOut("Your token expired or was refused: sign in again."));
else signIn();
