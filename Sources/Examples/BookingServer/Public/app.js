// The booking page: plain ES module, talks only to this server's JSON API.
const $ = (selector) => document.querySelector(selector);
const visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const MY_BOOKINGS = "swift-booking.my-bookings";
const ADMIN_TOKEN = "swift-booking.admin-token";

const state = {
  selected: null, attemptKey: null, businessZone: null, busy: false, resource: null, resources: [], moving: null,
  // The hold on the selected slot: { token, resource, start, end, deadline (performance.now() ms) }.
  hold: null, holdTimer: null, holding: 0, holdPending: null,
  // The latest availability request: an older answer that arrives after a newer one is not shown.
  availabilityRequest: 0,
  // The same for My bookings: only the newest refresh renders and saves.
  mineRequest: 0,
  // Whether /api/resources answered at load: without it the page cannot know which resource to ask for.
  resourcesLoaded: false,
  // A booking sent with no answer (no reply, or a 5xx): { key, body } exactly as sent. It may have been made, so it
  // is sent again, unchanged and with its key, before anything else that books (Book again, another slot picked).
  pending: null,
  // Every booking body this page sent, by its Idempotency-Key: if the server ever answers IDEMPOTENCY_KEY_REUSED,
  // the body the key first carried is sent again to learn the booking it made.
  sent: new Map(),
};

// ---------- helpers ----------

function say(message, kind = "info") {
  const status = $("#status");
  status.textContent = message;
  status.className = `status ${kind}`;
}

// Every request gives up after 15 s (the server answers a busy store within about 5): a request that hangs reads as
// no answer, which the page treats as it treats a network error (a booking keeps its key, so a retry is safe).
const REQUEST_TIMEOUT_MS = 15_000;

async function api(path, { method = "GET", body, headers = {} } = {}) {
  const init = {
    method, headers: { Accept: "application/json, application/problem+json", ...headers },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    const message = error?.name === "TimeoutError"
      ? "The server did not answer in time. Please try again."
      : "The server could not be reached. Check your connection.";
    return { ok: false, status: 0, data: { error: message } };
  }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  return { ok: response.ok, status: response.status, data, headers: response.headers };
}

// "4:59": minutes and seconds left.
function clock(milliseconds) {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// A wait in words, from a Retry-After in seconds.
function waitWords(seconds) {
  if (!Number.isFinite(seconds) || seconds <= 0) return "a few minutes";
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `about ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

// What a refused booking, hold or move tells the visitor, by the problem's code.
function refusal(result) {
  switch (result.data?.code) {
    case "SLOT_UNAVAILABLE": return "Sorry, that slot was just taken. Please pick another one.";
    case "SLOT_HELD": {
      const wait = waitWords(Number(result.headers?.get("Retry-After")));
      const resource = state.resources.find((r) => r.id === state.resource);
      const what = resource?.daily_limit || resource?.weekly_limit ? "that slot, or the last place left that day or week," : "that slot";
      return `Someone else is holding ${what} while they book. It may be free again in ${wait}; please pick another one or try again then.`;
    }
    case "ALREADY_BOOKED": return "You already have a booking in that slot with this email.";
    case "BOOKING_LIMIT_REACHED": return `${result.data.error} Please pick another day.`;
    case "HOLD_EXPIRED": return "Your hold on that slot lapsed. Please pick a slot again.";
    case "IDEMPOTENCY_KEY_REUSED": return "Something went wrong. Please try again."; // the page's own mistake, not theirs
    default: return result.data?.error ?? "Something went wrong. Please try again.";
  }
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
// For a day whose clock changes (a time shown twice, or skipped): the times with their zone ("01:30 EDT", "01:30 EST").
const zonedTimeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
const fullFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const zonedFullFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });

// The visitor's wall clock at an instant (ms): its date, the seconds since its midnight, and its UTC offset ("GMT-4").
const wallFormat = new Intl.DateTimeFormat("en-US", {
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  hourCycle: "h23", timeZoneName: "shortOffset",
});

function wallClock(instant) {
  const parts = Object.fromEntries(wallFormat.formatToParts(instant).map((part) => [part.type, part.value]));
  return {
    day: `${parts.year}-${parts.month}-${parts.day}`, offset: parts.timeZoneName,
    seconds: (Number(parts.hour) % 24) * 3600 + Number(parts.minute) * 60 + Number(parts.second),
  };
}

const HOUR_MS = 3_600_000;
const clockChanges = new Map(); // by the visitor's date: whether its UTC offset changes that day

// Whether the visitor's UTC offset changes during the (visitor's) day of `instant`. Such a day's times carry their
// zone wherever the page shows them, the grid as the rest: "01:00" alone is ambiguous on a day it happens twice,
// even when only one of the two is left free. The day's first instant is within two hours of its wall-clock
// midnight, so its offsets are read every quarter hour from 3 h before that to 33 h after.
function clockChangesOn(value) {
  const instant = new Date(value).getTime();
  const { day, seconds } = wallClock(instant);
  if (!clockChanges.has(day)) {
    const from = instant - seconds * 1000 - 3 * HOUR_MS;
    const to = from + 36 * HOUR_MS;
    let changes = false;
    // The same offset 36 h apart: no change in between (zones change at most once in months).
    if (wallClock(from).offset !== wallClock(to).offset) {
      const offsets = new Set();
      for (let at = from; at <= to; at += HOUR_MS / 4) {
        const clock = wallClock(at);
        if (clock.day === day) offsets.add(clock.offset);
      }
      changes = offsets.size > 1;
    }
    clockChanges.set(day, changes);
  }
  return clockChanges.get(day);
}

// A slot's start time, with its zone on a day whose clock changes.
function timeOf(value) {
  return (clockChangesOn(value) ? zonedTimeFormat : timeFormat).format(new Date(value));
}

function describe(start, end) {
  const full = clockChangesOn(start) ? zonedFullFormat : fullFormat;
  return `${full.format(new Date(start))} – ${timeOf(end)}`;
}

// A random key (128 bits): `randomUUID` exists only in secure contexts, `getRandomValues` everywhere.
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

// ---------- resources ----------

// The resources the server offers; the picker shows only when there is a choice. Without them the page asks for
// nothing else (the server's default resource may not exist): the slot area says to press Refresh, which asks again.
async function loadResources() {
  const result = await api("/api/resources");
  state.resourcesLoaded = result.ok && Array.isArray(result.data);
  state.resources = state.resourcesLoaded ? result.data : [];
  state.resource = state.resources[0]?.id ?? null;
  $("#resource").replaceChildren(...state.resources.map((resource) => element("option", { value: resource.id, text: resource.name })));
  $("#resource-picker").hidden = state.resources.length < 2;
}

// The query naming the chosen resource, or nothing (the server's default) when the server lists none.
function resourceQuery(prefix) {
  return state.resource ? `${prefix}resource=${encodeURIComponent(state.resource)}` : "";
}

// How many seats a slot of the chosen resource has: 1 unless its capacity says more.
function capacity() {
  return state.resources.find((resource) => resource.id === state.resource)?.capacity ?? 1;
}

function seatsText(seats) {
  return `${seats} seat${seats === 1 ? "" : "s"} left`;
}

function resourceName(id) {
  return state.resources.length > 1 ? state.resources.find((resource) => resource.id === id)?.name ?? id : null;
}

async function chooseResource() {
  state.resource = $("#resource").value;
  await dropHold();
  select(null);
  await Promise.all([loadSchedule(), loadAvailability()]);
}

// ---------- availability ----------

// The same zone under two names (Asia/Kolkata, which Chrome calls Asia/Calcutta) is the same zone.
function sameZone(zone, other) {
  try {
    return new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone
      === new Intl.DateTimeFormat("en", { timeZone: other }).resolvedOptions().timeZone;
  } catch {
    return zone === other; // a zone this browser does not know
  }
}

async function loadSchedule() {
  const resource = state.resource;
  const result = state.resourcesLoaded ? await api(`/api/schedule${resourceQuery("?")}`) : { ok: false };
  if (resource !== state.resource) return;
  if (!result.ok) {
    // Not the previous resource's words under this one's slots.
    $("#schedule-info").textContent = "";
    $("#zone-note").textContent = `Times are shown in ${visitorZone}.`;
    state.businessZone = null;
    return;
  }
  const { slot_minutes: minutes, days_ahead: days, min_notice_minutes: notice } = result.data;
  const name = resourceName(resource);
  $("#schedule-info").textContent = `${name ? `${name}: ` : ""}${minutes}-minute appointments, bookable up to ${days} day${days === 1 ? "" : "s"} ahead${notice > 0 ? ` and at least ${notice} minutes in advance` : ""}.`;
  state.businessZone = result.data.time_zone;
  const note = $("#zone-note");
  note.textContent = state.businessZone && !sameZone(state.businessZone, visitorZone)
    ? `Times are shown in your time zone (${visitorZone}); the business works in ${state.businessZone}.`
    : `Times are shown in ${visitorZone}.`;
}

async function loadAvailability() {
  const container = $("#availability");
  if (!state.resourcesLoaded) {
    state.availabilityRequest += 1; // an older answer, still on its way, is not shown over this
    container.setAttribute("aria-busy", "false");
    container.replaceChildren(element("p", { class: "field-error", text: "The booking options could not be loaded. Press Refresh to try again." }));
    return;
  }
  container.setAttribute("aria-busy", "true");
  container.replaceChildren(element("p", { class: "muted", text: "Loading free slots…" }));
  const resource = state.resource;
  const request = ++state.availabilityRequest;
  const result = await api(`/api/availability${resourceQuery("?")}`);
  // Another resource was chosen, or the list asked for again, meanwhile: the newer answer is the one to show.
  if (resource !== state.resource || request !== state.availabilityRequest) return;
  container.setAttribute("aria-busy", "false");
  if (!result.ok) {
    container.replaceChildren(element("p", { class: "field-error", text: result.data?.error ?? "Could not load free slots." }));
    return;
  }
  const slots = result.data;
  // Availability leaves out the seat this page holds, as for everyone: keep showing the held slot.
  const held = state.hold?.resource === state.resource ? state.hold : null;
  if (held && !slots.some((slot) => slot.start === held.start)) {
    slots.push({ start: held.start, end: held.end, seats_left: 0 });
    slots.sort((a, b) => a.start.localeCompare(b.start));
  }
  const seats = capacity() > 1;
  if (slots.length === 0) {
    container.replaceChildren(element("p", { class: "muted", text: "No free slots in the coming days. Try again later." }));
    return;
  }
  const days = new Map();
  for (const slot of slots) {
    const day = dayFormat.format(new Date(slot.start));
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(slot);
  }
  const groups = [];
  for (const [day, daySlots] of days) {
    const buttons = daySlots.map((slot) => {
      const time = timeOf(slot.start);
      const mine = held?.start === slot.start;
      const label = mine ? "held for you" : seats ? seatsText(slot.seats_left) : "";
      return element("button", {
        type: "button", class: "slot", "data-start": slot.start, "data-end": slot.end,
        "data-seats": String(slot.seats_left),
        "aria-pressed": String(state.selected?.start === slot.start),
        "aria-label": `${day} ${time}${label ? `, ${label}` : ""}`,
        onclick: () => pick(slot),
      }, element("span", { text: time }), ...(label ? [element("span", { class: "seats", text: label })] : []));
    });
    groups.push(element("h3", { text: day }), element("div", { class: "slots" }, ...buttons));
  }
  container.replaceChildren(...groups);
  if (state.selected && !slots.some((slot) => slot.start === state.selected.start)) select(null);
  rovingTabStop();
}

// ---------- the slot grid, by keyboard ----------

// A week holds hundreds of slots: the grid is one Tab stop (the chosen slot, else the first), and the arrow keys
// move within it (left and right by slot, up and down by day, Home and End to its ends), as ARIA's grid pattern asks.
function rovingTabStop(target) {
  const buttons = [...document.querySelectorAll("#availability .slot")];
  const stop = target ?? buttons.find((button) => button.getAttribute("aria-pressed") === "true") ?? buttons[0];
  for (const button of buttons) button.tabIndex = button === stop ? 0 : -1;
}

function moveAmongSlots(event) {
  const current = event.target.closest?.(".slot");
  if (!current) return;
  const buttons = [...document.querySelectorAll("#availability .slot")];
  const index = buttons.indexOf(current);
  const days = [...document.querySelectorAll("#availability .slots")];
  const day = days.indexOf(current.parentElement);
  const firstOfDay = (offset) => days[Math.min(Math.max(day + offset, 0), days.length - 1)]?.querySelector(".slot");
  const target = {
    ArrowRight: buttons[index + 1], ArrowLeft: buttons[index - 1],
    ArrowDown: firstOfDay(1), ArrowUp: firstOfDay(-1), Home: buttons[0], End: buttons[buttons.length - 1],
  }[event.key];
  if (!target) return;
  event.preventDefault();
  rovingTabStop(target);
  target.focus();
}

// ---------- holds ----------

// Picking a slot to book holds it (one seat of it) for a few minutes, so nobody takes it while the visitor
// types; picking another releases the previous hold first. A move needs no hold. A booking sent while the
// hold is on its way waits for it (`holdPending`).
function pick(slot) {
  // While a booking or a move is sent, the slot it takes stays chosen.
  if (state.busy) return;
  if (state.moving) { select(slot); return; }
  if (state.pending) { settleThenPick(slot); return; }
  if (state.hold && state.hold.start === slot.start && state.hold.resource === state.resource) return;
  // A second click while this slot's hold is on its way: the same hold, not a second one (which the first would refuse).
  if (state.holdPending && state.selected?.start === slot.start) return;
  const previous = state.hold;
  if (previous) forgetHold();
  select(slot);
  showHold("Holding this slot for you…");
  const attempt = ++state.holding;
  const pending = holdSlot(slot, attempt, previous);
  state.holdPending = pending;
  pending.finally(() => { if (state.holdPending === pending) state.holdPending = null; });
}

async function holdSlot(slot, attempt, previous) {
  if (previous) await releaseHold(previous);
  const sent = performance.now();
  const result = await api("/api/holds", {
    method: "POST",
    body: { slotStart: slot.start, slotEnd: slot.end, ...(state.resource ? { resource: state.resource } : {}) },
  });
  if (attempt !== state.holding) {
    // Another slot was picked meanwhile: this hold is nobody's.
    if (result.ok) await releaseHold({ token: result.data.token });
    return;
  }
  if (result.ok) {
    startHold(result, sent);
  } else if (result.status === 409 || result.status === 422) {
    showHold("");
    say(refusal(result), "error");
    select(null);
    await loadAvailability();
    restoreFocus(slotOrStatus()); // the picked slot's button was re-rendered away
  } else {
    // No answer: the slot can still be booked, without a hold.
    showHold("");
  }
}

// The hold's end on this page's clock, from the server's expires_at and Date (whole seconds): `deadline`, counted
// from when the request left and a second early, so the page never thinks a hold lives that the server let go;
// `freedAt`, counted from the answer, by when the server has surely let it go.
function startHold(result, sent) {
  const hold = result.data;
  const received = performance.now();
  const serverNow = Date.parse(result.headers.get("Date") ?? "");
  const left = Date.parse(hold.expires_at) - (Number.isFinite(serverNow) ? serverNow : Date.now());
  state.hold = {
    token: hold.token, resource: hold.resource, start: hold.slot_start, end: hold.slot_end,
    deadline: sent + left - 1000, freedAt: received + left,
  };
  tick();
  state.holdTimer = setInterval(tick, 250);
}

function tick() {
  const hold = state.hold;
  if (!hold) return;
  const left = hold.deadline - performance.now();
  if (left <= 0) {
    lapse();
    return;
  }
  showHold(`Held for you for ${clock(left)}`);
}

// The hold ran out: say so, and show what is free now, and again once the server has surely let it go.
function lapse() {
  const freedAt = state.hold.freedAt;
  forgetHold();
  select(null);
  say("Your hold on the slot lapsed and others may book it now. Please pick a slot again.", "error");
  loadAvailability();
  setTimeout(loadAvailability, Math.max(0, freedAt - performance.now()) + 250);
}

function showHold(text) {
  const status = $("#hold-status");
  status.textContent = text;
  status.hidden = text === "";
}

// Stops the countdown; the hold itself is used up, lapsed or released.
function forgetHold() {
  clearInterval(state.holdTimer);
  state.holdTimer = null;
  state.hold = null;
  showHold("");
}

// Gives up holding: the hold in place is released, and one still on its way will be when it arrives.
function dropHold() {
  state.holding += 1;
  return releaseHold();
}

// Gives the hold back (this page's, or one it no longer wants) so its seat is free at once.
async function releaseHold(hold = state.hold) {
  if (!hold) return;
  if (hold === state.hold) forgetHold();
  if (hold.deadline !== undefined && performance.now() >= hold.deadline) return; // lapsed: nothing to give back
  await api(`/api/holds/${encodeURIComponent(hold.token)}`, { method: "DELETE" });
}

function select(slot) {
  state.selected = slot;
  state.attemptKey = slot ? newKey() : null;
  for (const button of document.querySelectorAll(".slot")) {
    button.setAttribute("aria-pressed", String(slot !== null && button.dataset.start === slot.start));
  }
  rovingTabStop();
  $("#selected-slot").textContent = slot ? `Selected: ${describe(slot.start, slot.end)}` : "Pick a free slot first.";
  $("#book").disabled = !slot || Boolean(state.moving) || state.busy;
  $("#confirmation").hidden = true;
  $("#move-slot").textContent = slot ? `New time: ${describe(slot.start, slot.end)}` : "Pick a new free slot.";
  $("#confirm-move").disabled = !slot;
}

// ---------- booking ----------

function clearFieldErrors() {
  for (const error of document.querySelectorAll(".field-error[data-field]")) error.textContent = "";
  for (const input of document.querySelectorAll("#booking-form [aria-invalid]")) input.removeAttribute("aria-invalid");
}

// Problem details (RFC 9457): each entry of `errors` names a body member by JSON pointer ("/email").
// Returns how many it showed; the first field it marks gets the focus.
function showFieldErrors(errors) {
  let shown = 0;
  for (const { pointer, detail: message } of errors ?? []) {
    if (!pointer) continue;
    const field = pointer.slice(1);
    const target = document.querySelector(`.field-error[data-field="${field === "slotEnd" ? "slotStart" : field}"]`);
    if (!target) continue;
    target.textContent = `${field === "slotEnd" || field === "slotStart" ? "Slot" : field[0].toUpperCase() + field.slice(1)} ${message}.`;
    shown += 1;
    const input = document.querySelector(`#booking-form #${field}`);
    input?.setAttribute("aria-invalid", "true");
  }
  document.querySelector("#booking-form [aria-invalid]")?.focus();
  return shown;
}

// A focused button that is disabled, or re-rendered away, leaves the focus on the page's body (or on the disabled
// button, in some browsers), and a keyboard user would start again from the top: it goes to the Book button when that
// can be used, else to the first free slot, else to the status line that says what happened.
function keepFocus() {
  const book = $("#book");
  restoreFocus(book.disabled ? document.querySelector("#availability .slot") ?? $("#status") : book);
}

// Whether the focus was lost: on the page's body, or on an element disabled, hidden or re-rendered away.
function focusLost() {
  const active = document.activeElement;
  return !active || active === document.body || !active.isConnected || active.disabled || active.getClientRects().length === 0;
}

// Puts a lost focus on `target` (the status line after a cancel, a slot after a refusal); a focus elsewhere stays.
function restoreFocus(target) {
  if (focusLost()) target.focus();
}

// The slot grid's Tab stop (the chosen slot, else the first), or the status line when no slot is shown.
function slotOrStatus() {
  return document.querySelector('#availability .slot[tabindex="0"]') ?? document.querySelector("#availability .slot") ?? $("#status");
}

// No answer at all, or a 5xx: the request may have been carried out.
function outcomeUnknown(result) {
  return result.status === 0 || result.status >= 500;
}

function sendBooking(key, body) {
  state.sent.set(key, body);
  return api("/api/appointments", { method: "POST", headers: { "Idempotency-Key": key }, body });
}

// A booking made: kept under My bookings, confirmed with its own Cancel, and the chosen slot let go.
function showBooked(appointment, message) {
  const kept = !appointment.cancel_token || remember(appointment);
  say(kept ? message : `${message} This browser could not keep the booking under My bookings, so cancel it from here or from the confirmation.`, "success");
  const confirmation = $("#confirmation");
  confirmation.replaceChildren(
    element("p", { text: `You are booked${resourceName(appointment.resource) ? ` with ${resourceName(appointment.resource)}` : ""} for ${describe(appointment.slot_start, appointment.slot_end)}.` }),
    element("button", { type: "button", class: "button danger", text: "Cancel this booking", onclick: () => cancelMine(appointment.id, appointment.cancel_token) }),
  );
  confirmation.hidden = false;
  confirmation.focus(); // the Book button, disabled now, had it
  state.selected = null;
  state.attemptKey = null;
  $("#selected-slot").textContent = "Pick a free slot first.";
  $("#book").disabled = true;
}

// Sends the booking whose answer was lost again, exactly as it was sent and with its key: the server makes it now or
// answers with the one it made then (and its cancel token). Returns "booked", "refused" (it was not made: the
// visitor's new action goes on) or "unknown" (still no answer: it stays pending, and nothing else is booked).
async function settlePending() {
  const pending = state.pending;
  say("Checking whether your earlier booking went through…");
  const result = await sendBooking(pending.key, pending.body);
  if (outcomeUnknown(result)) {
    say("Still no answer from the booking service, so your earlier booking may or may not have been made. Please try again in a moment; nothing else is booked until that is known.", "error");
    return "unknown";
  }
  state.pending = null;
  const hold = pending.body.holdToken && state.hold?.token === pending.body.holdToken ? state.hold : null;
  if (result.ok) {
    if (hold) forgetHold(); // the booking used it up
    showBooked(result.data, "Your first attempt went through after all, so you are booked as it was sent: changes made since were not applied. You can cancel or reschedule it under My bookings.");
    await Promise.all([loadAvailability(), renderMine()]);
    return "booked";
  }
  if (hold && result.data?.code === "HOLD_EXPIRED") forgetHold();
  say("");
  return "refused";
}

// A slot picked while a booking's answer is lost: that booking is settled first.
async function settleThenPick(slot) {
  state.busy = true;
  $("#book").disabled = true;
  const outcome = await settlePending();
  state.busy = false;
  $("#book").disabled = !state.selected;
  if (outcome === "refused") pick(slot);
  else restoreFocus(outcome === "booked" ? $("#confirmation") : slotOrStatus());
}

async function book(event) {
  event.preventDefault();
  if (!state.selected || state.busy) return;
  state.busy = true;
  $("#book").disabled = true;
  clearFieldErrors();
  // A booking whose answer was lost may have been made: it is settled before this one is sent.
  if (state.pending) {
    const outcome = await settlePending();
    if (outcome !== "refused") {
      state.busy = false;
      $("#book").disabled = !state.selected;
      if (outcome === "unknown") keepFocus();
      return;
    }
  }
  say("Booking…");
  if (state.holdPending) await state.holdPending;
  const slot = state.selected;
  if (!slot) { state.busy = false; keepFocus(); return; } // the hold was refused, and the page said why
  const note = $("#note").value.trim();
  const hold = state.hold?.start === slot.start ? state.hold : null;
  const key = state.attemptKey;
  const body = {
    slotStart: slot.start, slotEnd: slot.end, name: $("#name").value, email: $("#email").value,
    ...(note ? { note } : {}), ...(state.resource ? { resource: state.resource } : {}),
    ...(hold ? { holdToken: hold.token } : {}),
  };
  const earlier = state.sent.get(key);
  const result = await sendBooking(key, body);
  state.busy = false;
  $("#book").disabled = !state.selected;
  if (result.ok) {
    if (state.hold === hold) forgetHold(); // the booking used it up
    showBooked(result.data, "Booked. A confirmation is on its way.");
    await Promise.all([loadAvailability(), renderMine()]);
    return;
  }
  if (outcomeUnknown(result) || (result.data?.code === "IDEMPOTENCY_KEY_REUSED" && earlier)) {
    // It may have been made (for a reused key: it was, with the body the key first carried): kept exactly as sent,
    // and sent again before anything else books; a new attempt gets a key of its own.
    state.pending = outcomeUnknown(result) ? { key, body } : { key, body: earlier };
    if (state.selected === slot) state.attemptKey = newKey();
    if (outcomeUnknown(result)) {
      say(`${result.data?.error ?? "The booking service did not answer."} Your booking may have been made: press Book again to find out (it will not be booked twice).`, "error");
    } else {
      state.busy = true;
      $("#book").disabled = true;
      const outcome = await settlePending();
      state.busy = false;
      $("#book").disabled = !state.selected;
      if (outcome === "refused") say("Booking failed. Please try again.", "error");
      if (outcome === "booked") return;
    }
    keepFocus();
    return;
  }
  if (result.status === 409 && result.data?.code === "ALREADY_BOOKED") {
    // The seat stays held: another person (another email) may still take it.
    say(refusal(result), "error");
    state.attemptKey = newKey();
  } else if (result.status === 409) {
    say(refusal(result), "error");
    if (result.data?.code === "HOLD_EXPIRED") forgetHold(); else await releaseHold();
    select(null);
    await loadAvailability();
  } else if (result.status === 400) {
    const shown = showFieldErrors(result.data?.errors);
    say(shown > 0 ? "Please correct the highlighted fields." : result.data?.error ?? "Booking failed. Please try again.", "error");
    state.attemptKey = newKey();
  } else if (result.data?.code === "IDEMPOTENCY_KEY_REUSED") {
    say(refusal(result), "error"); // never the server's technical words
    state.attemptKey = newKey();
  } else {
    say(result.data?.error ?? "Booking failed. Please try again.", "error");
    state.attemptKey = newKey();
    if (result.status === 422) { await releaseHold(); select(null); await loadAvailability(); }
  }
  keepFocus();
}

// ---------- my bookings ----------

// The bookings this browser made, each with its cancel token; entries that are not whole are left out (storage
// blocked, or edited by hand, reads as none).
function myBookings() {
  let stored;
  try { stored = JSON.parse(localStorage.getItem(MY_BOOKINGS) ?? "[]"); } catch { return []; }
  return Array.isArray(stored)
    ? stored.filter((entry) => Number.isInteger(entry?.id) && typeof entry.token === "string"
      && [entry.start, entry.end].every((value) => typeof value === "string" && Number.isFinite(Date.parse(value))))
    : [];
}

// Returns whether the list was saved (storage may be blocked or full).
function saveMine(list) {
  try { localStorage.setItem(MY_BOOKINGS, JSON.stringify(list)); return true; } catch { return false; }
}

function remember(appointment) {
  const list = myBookings().filter((entry) => entry.id !== appointment.id);
  list.push({ id: appointment.id, token: appointment.cancel_token, start: appointment.slot_start, end: appointment.slot_end, status: appointment.status, resource: appointment.resource });
  return saveMine(list);
}

async function renderMine() {
  const request = ++state.mineRequest;
  const list = myBookings().sort((a, b) => a.start.localeCompare(b.start));
  const container = $("#my-bookings");
  $("#my-bookings-empty").hidden = list.length > 0;
  const answered = new Map(); // what the server said now, by id
  const gone = new Set(); // the ids the server no longer knows (404): dropped from this device's list
  const items = await Promise.all(list.map(async (entry) => {
    const result = await api(`/api/appointments/${entry.id}`, { headers: { "X-Cancel-Token": entry.token } });
    if (result.status === 404) {
      gone.add(entry.id);
      return null;
    }
    if (result.ok) {
      Object.assign(entry, { status: result.data.status, start: result.data.slot_start, end: result.data.slot_end });
      answered.set(entry.id, entry);
    }
    // A booking that has ended can no longer be moved or cancelled.
    const open = Date.parse(entry.end) > Date.now();
    const actions = entry.status === "booked"
      ? element("span", { class: "actions" },
        ...(open ? [element("button", { type: "button", class: "button secondary", text: "Reschedule", "aria-label": `Reschedule booking on ${describe(entry.start, entry.end)}`, onclick: () => startMove({ id: entry.id, resource: entry.resource, start: entry.start, end: entry.end, headers: { "X-Cancel-Token": entry.token } }) })] : []),
        element("button", { type: "button", class: "button secondary", text: "Add to calendar", "aria-label": `Add booking on ${describe(entry.start, entry.end)} to your calendar`, onclick: () => downloadCalendar(entry) }),
        ...(open ? [element("button", { type: "button", class: "button danger", text: "Cancel", "aria-label": `Cancel booking on ${describe(entry.start, entry.end)}`, onclick: () => cancelMine(entry.id) })] : []))
      : element("span");
    return element("li", { "data-id": String(entry.id) },
      element("span", {}, element("span", { text: describe(entry.start, entry.end) }), " ",
        ...(resourceName(entry.resource) ? [element("span", { class: "muted", text: resourceName(entry.resource) }), " "] : []),
        element("span", { class: `badge ${entry.status}`, text: entry.status })),
      actions);
  }));
  // A newer refresh started meanwhile (after a booking or a cancel, say): its answers are the ones to keep and show.
  if (request !== state.mineRequest) return;
  // What the server said, merged into the list as it is now: a booking remembered meanwhile (here or in another
  // tab) stays, with its token.
  saveMine(myBookings().filter((entry) => !gone.has(entry.id)).map((entry) => {
    const fresh = answered.get(entry.id);
    return fresh ? { ...entry, status: fresh.status, start: fresh.start, end: fresh.end } : entry;
  }));
  const shown = items.filter(Boolean);
  $("#my-bookings-empty").hidden = shown.length > 0;
  container.replaceChildren(...shown);
}

// The booking's iCalendar file: the token travels in a header, so fetch it and offer the text as a download.
async function downloadCalendar(entry) {
  let response;
  try {
    response = await fetch(`/api/appointments/${entry.id}/calendar.ics`, { headers: { "X-Cancel-Token": entry.token } });
  } catch {
    response = null;
  }
  if (!response?.ok) {
    say("Could not get the calendar file. Please try again.", "error");
    return;
  }
  const url = URL.createObjectURL(new Blob([await response.text()], { type: "text/calendar" }));
  const link = element("a", { href: url, download: `appointment-${entry.id}.ics`, hidden: "" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  say("The calendar file is downloading: open it to add the booking to your calendar.", "success");
}

// `token`: the booking's own, for one this browser could not keep under My bookings.
async function cancelMine(id, token) {
  const entry = myBookings().find((item) => item.id === id) ?? (token ? { id, token } : null);
  if (!entry) return;
  say("Cancelling…");
  const result = await api(`/api/appointments/${id}/cancel`, { method: "POST", headers: { "X-Cancel-Token": entry.token } });
  if (result.ok) {
    say("Your booking is cancelled.", "success");
    $("#confirmation").hidden = true;
  } else {
    say(result.data?.error ?? "Could not cancel. Please try again.", "error");
  }
  await Promise.all([renderMine(), loadAvailability()]);
  restoreFocus($("#status")); // the button was hidden or re-rendered away: the line that says what happened
}

// ---------- admin ----------

async function loadAdmin(event) {
  event?.preventDefault();
  const token = $("#admin-token").value.trim();
  if (!token) return;
  sessionStorage.setItem(ADMIN_TOKEN, token);
  const headers = { Authorization: `Bearer ${token}` };
  const [appointments, notifications] = await Promise.all([
    api("/api/appointments", { headers }), api("/api/notifications", { headers }),
  ]);
  const container = $("#admin-list");
  if (!appointments.ok) {
    sessionStorage.removeItem(ADMIN_TOKEN);
    container.replaceChildren(element("p", { class: "field-error", text: appointments.status === 403 ? "That admin token is not right." : appointments.data?.error ?? "Could not load appointments." }));
    return;
  }
  const byAppointment = new Map();
  for (const notification of notifications.ok ? notifications.data : []) {
    if (!byAppointment.has(notification.appointment_id)) byAppointment.set(notification.appointment_id, []);
    byAppointment.get(notification.appointment_id).push(notification);
  }
  if (appointments.data.length === 0) {
    container.replaceChildren(element("p", { class: "muted", text: "No appointments yet." }));
    return;
  }
  const rows = appointments.data.map((appointment) => {
    const outbox = (byAppointment.get(appointment.id) ?? []).map((n) => element("span", { class: `badge ${n.status}`, title: n.error ?? "", text: `${n.kind}: ${n.status}` }));
    const action = appointment.status === "booked"
      ? element("span", { class: "actions" },
        element("button", { type: "button", class: "button secondary", text: "Reschedule", "aria-label": `Reschedule appointment #${appointment.id}`, onclick: () => startMove({ id: appointment.id, resource: appointment.resource, start: appointment.slot_start, end: appointment.slot_end, headers: { Authorization: `Bearer ${sessionStorage.getItem(ADMIN_TOKEN)}` }, admin: true }) }),
        element("button", { type: "button", class: "button danger", text: "Cancel", "aria-label": `Cancel appointment #${appointment.id}`, onclick: () => adminCancel(appointment.id) }))
      : element("span", { class: "muted", text: "—" });
    return element("tr", { "data-id": String(appointment.id) },
      element("td", { text: String(appointment.id) }),
      element("td", {}, element("div", { text: describe(appointment.slot_start, appointment.slot_end) }),
        ...(resourceName(appointment.resource) ? [element("div", { class: "muted", text: resourceName(appointment.resource) })] : [])),
      element("td", {}, element("div", { text: appointment.customer_name }), element("div", { class: "muted", text: appointment.customer_email })),
      element("td", {}, element("span", { class: `badge ${appointment.status}`, text: appointment.status })),
      element("td", {}, ...outbox),
      element("td", {}, action));
  });
  const head = element("tr", {}, ...["#", "When", "Customer", "Status", "Notifications", "Actions"].map((text) => element("th", { scope: "col", text })));
  container.replaceChildren(element("div", { class: "table-wrap" }, element("table", {}, element("thead", {}, head), element("tbody", {}, ...rows))));
}

async function adminCancel(id) {
  const token = sessionStorage.getItem(ADMIN_TOKEN);
  const result = await api(`/api/appointments/${id}/cancel`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  say(result.ok ? `Appointment #${id} is cancelled.` : result.data?.error ?? "Could not cancel.", result.ok ? "success" : "error");
  await Promise.all([loadAdmin(), loadAvailability()]);
  restoreFocus($("#status")); // the table was re-rendered
}

// ---------- reschedule ----------

// Moving a booking: the free slots above pick the new time; one atomic move on the server keeps the
// appointment (and its cancel token) and frees the old slot.
async function startMove(move) {
  await dropHold();
  state.moving = move;
  showTab("book");
  if (move.resource && move.resource !== state.resource && state.resources.some((r) => r.id === move.resource)) {
    $("#resource").value = move.resource;
    await chooseResource();
  }
  $("#resource").disabled = true; // a move stays with its resource
  select(null);
  $("#move-title").textContent = `Moving #${move.id}${resourceName(move.resource) ? ` with ${resourceName(move.resource)}` : ""}, now ${describe(move.start, move.end)}. Pick a new free slot above.`;
  $("#booking-form").hidden = true;
  $("#selected-slot").hidden = true;
  $("#move-panel").hidden = false;
  say("Pick a new time for the booking.");
  $("#availability").scrollIntoView({ block: "start" });
  slotOrStatus().focus({ preventScroll: true }); // the next step is a slot: the grid's first
}

function endMove() {
  state.moving = null;
  $("#resource").disabled = false;
  $("#move-panel").hidden = true;
  $("#booking-form").hidden = false;
  $("#selected-slot").hidden = false;
  select(null);
}

async function confirmMove() {
  const move = state.moving;
  const slot = state.selected;
  if (!move || !slot || state.busy) return;
  state.busy = true;
  $("#confirm-move").disabled = true;
  say("Moving…");
  const result = await api(`/api/appointments/${move.id}/reschedule`, {
    method: "POST",
    headers: { ...move.headers, "Idempotency-Key": state.attemptKey },
    body: { slotStart: slot.start, slotEnd: slot.end },
  });
  state.busy = false;
  if (result.ok) {
    const moved = result.data;
    const list = myBookings();
    const mine = list.find((entry) => entry.id === moved.id);
    if (mine) { Object.assign(mine, { start: moved.slot_start, end: moved.slot_end }); saveMine(list); }
    endMove();
    say(`Moved to ${describe(moved.slot_start, moved.slot_end)}.`, "success");
    await Promise.all([loadAvailability(), renderMine(), ...(move.admin ? [loadAdmin()] : [])]);
    if (move.admin) showTab("admin");
    restoreFocus($("#status")); // the move panel is gone: the line that says where the booking is now
    return;
  }
  if (outcomeUnknown(result)) {
    // The move may or may not have happened: keep the slot and its Idempotency-Key, so trying again
    // either makes the move or returns the one already made.
    say("The booking service did not answer. Please try again.", "error");
    $("#confirm-move").disabled = false;
    restoreFocus($("#confirm-move"));
    return;
  }
  if (result.status === 409 && result.data?.code !== "APPOINTMENT_CANCELLED") {
    say(refusal(result), "error");
  } else {
    say(result.data?.error ?? "Could not move the booking. Please try again.", "error");
  }
  if (result.status === 409 && result.data?.code === "APPOINTMENT_CANCELLED") endMove();
  select(null);
  await Promise.all([loadAvailability(), renderMine()]);
  restoreFocus(slotOrStatus()); // Move is disabled until another slot is picked
}

// ---------- tabs ----------

function showTab(name) {
  for (const tab of ["book", "admin"]) {
    const selected = tab === name;
    $(`#tab-${tab}`).setAttribute("aria-selected", String(selected));
    $(`#tab-${tab}`).tabIndex = selected ? 0 : -1;
    $(`#panel-${tab}`).hidden = !selected;
  }
  if (name === "admin" && sessionStorage.getItem(ADMIN_TOKEN)) {
    $("#admin-token").value = sessionStorage.getItem(ADMIN_TOKEN);
    loadAdmin();
  }
}

$("#tab-book").addEventListener("click", () => showTab("book"));
$("#tab-admin").addEventListener("click", () => showTab("admin"));
$(".tabs").addEventListener("keydown", (event) => {
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  const next = document.activeElement === $("#tab-book") ? "admin" : "book";
  showTab(next);
  $(`#tab-${next}`).focus();
});
// A page whose resources could not be read at load tries again before it asks for slots.
$("#refresh").addEventListener("click", async () => {
  if (!state.resourcesLoaded) {
    $("#availability").replaceChildren(element("p", { class: "muted", text: "Loading free slots…" }));
    await loadResources();
    // A move stays with its booking's resource.
    if (state.moving && state.resources.some((resource) => resource.id === state.moving.resource)) {
      state.resource = state.moving.resource;
      $("#resource").value = state.resource;
    }
    await loadSchedule();
  }
  await loadAvailability();
});
$("#resource").addEventListener("change", chooseResource);
$("#availability").addEventListener("keydown", moveAmongSlots);
$("#booking-form").addEventListener("submit", book);
$("#confirm-move").addEventListener("click", confirmMove);
$("#cancel-move").addEventListener("click", () => { endMove(); say(""); });
$("#admin-form").addEventListener("submit", loadAdmin);
// Leaving the page gives its hold back at once rather than when it lapses.
window.addEventListener("pagehide", () => {
  const hold = state.hold;
  if (!hold) return;
  forgetHold();
  fetch(`/api/holds/${encodeURIComponent(hold.token)}`, { method: "DELETE", keepalive: true }).catch(() => {});
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted) { select(null); loadAvailability(); }
});

await loadResources();
await Promise.all([loadSchedule(), loadAvailability(), renderMine()]);
