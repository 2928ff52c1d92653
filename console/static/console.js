// parley console: a page that signs in with the account's credentials and
// shows and drives what parley holds through the same REST API the SDKs
// call. No framework and no build step: views are plain functions that
// build DOM nodes (never HTML strings, so no value from the API can become
// markup), routed by the URL's fragment (#/conversations/CH…).
//
// Live views poll the REST API: a console signed in with the auth token has
// no access token for the client SDK's WebSocket, and polling a page of
// newest messages every second costs a local server next to nothing.

const POLL_MS = 1000;
const PAGE_SIZE = 20;
const USERS_CAP = 2000; // users read for a search, at most

// ---- state -----------------------------------------------------------------

const session = {
  user: '', // account SID or API key SID
  pass: '', // auth token or API key secret
  service: '', // the chat service the views show
  emulator: false, // emulator mode's controls answer
  // webhooks: the console's writes ask for webhooks, as Twilio fires them
  // for REST writes only with X-Twilio-Webhook-Enabled: true.
  webhooks: true,
};
// view is the current view's generation: async work of a view that was left
// checks it before touching the page, and its pollers stop.
let view = 0;
const pollers = [];

// ---- REST ------------------------------------------------------------------

class APIError extends Error {
  constructor(status, body, retryAfter = 0) {
    const msg = body && body.message ? body.message : `HTTP ${status}`;
    super(body && body.code ? `${msg} (${body.code})` : msg);
    this.status = status;
    this.code = body && body.code;
    this.retryAfter = retryAfter; // seconds, from a 429's or 503's Retry-After
  }
}

function authHeader() {
  return 'Basic ' + btoa(`${session.user}:${session.pass}`);
}

// send is fetch with the session's credentials. They go in the header the
// page sets, never as the browser's own: with credentials 'omit', a 401
// (which carries WWW-Authenticate, as Twilio's does) is answered to the
// page instead of opening the browser's password prompt.
function send(url, init = {}) {
  const headers = { Authorization: authHeader(), ...init.headers };
  const write = init.method === 'POST' || init.method === 'DELETE';
  if (write && session.webhooks) headers['X-Twilio-Webhook-Enabled'] = 'true';
  return fetch(url, { ...init, credentials: 'omit', headers });
}

// api calls the REST API: params go in the query for GET, in a form body
// otherwise, as twilio-go and twilio-node send them. Arrays repeat the key.
async function api(method, path, params) {
  let url = path;
  let body;
  if (params) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null || v === '') continue;
      for (const one of Array.isArray(v) ? v : [v]) form.append(k, one);
    }
    if (method === 'GET') {
      const q = form.toString();
      if (q) url += (url.includes('?') ? '&' : '?') + q;
    } else {
      body = form;
    }
  }
  return answer(await send(url, { method, body }));
}

// answer reads a response as the API's JSON; an error answer (Twilio's
// body, or whatever a proxy sent) becomes an APIError.
async function answer(res) {
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { message: text.slice(0, 200) }; }
  }
  if (!res.ok) throw new APIError(res.status, data, Number(res.headers.get('Retry-After')) || 0);
  return data;
}

// localPath turns a next_page_url (absolute, with whatever host parley
// was asked by) into a path on this origin.
function localPath(u) {
  const url = new URL(u, location.href);
  return url.pathname + url.search;
}

// page fetches one page of a list: its items and the next page's path.
async function page(path, params) {
  const data = await api('GET', path, params);
  const key = data.meta && data.meta.key;
  return {
    items: (key && data[key]) || [],
    next: data.meta && data.meta.next_page_url ? localPath(data.meta.next_page_url) : '',
  };
}

// all reads every page of a list, up to cap items.
async function all(path, params, cap = USERS_CAP) {
  let p = await page(path, { PageSize: 100, ...params });
  const items = [...p.items];
  while (p.next && items.length < cap) {
    p = await page(p.next);
    items.push(...p.items);
  }
  return items;
}

const svcPath = (rest = '') => `/v1/Services/${encodeURIComponent(session.service)}${rest}`;
const seg = encodeURIComponent;

// ---- DOM -------------------------------------------------------------------

// h builds an element: attributes (on* are listeners), then children
// (strings become text nodes).
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

function pill(text) {
  return h('span', { class: `pill ${text}` }, text);
}

function onlinePill(isOnline) {
  if (isOnline === true) return pill('online');
  if (isOnline === false) return pill('offline');
  return h('span', { class: 'muted', title: 'reachability is off for this service' }, '—');
}

function errorBox(err) {
  return h('div', { class: 'error', role: 'alert' }, err.message || String(err));
}

function table(headers, rows, empty = 'Nothing here yet.') {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', {}, h('thead', {}, h('tr', {}, headers.map((t) => h('th', {}, t)))), h('tbody', {}, rows)));
}

// kv shows a resource's fields (but its URLs) as a two-column table.
function kv(obj) {
  const rows = [];
  for (const [k, v] of Object.entries(obj || {})) {
    if (k === 'url' || k === 'links') continue;
    let shown = v;
    if (v === null) shown = h('span', { class: 'muted' }, 'null');
    else if (typeof v === 'object') shown = h('code', {}, JSON.stringify(v));
    rows.push(h('tr', {}, h('th', {}, k), h('td', { class: 'wrap' }, shown)));
  }
  return h('table', { class: 'kv' }, h('tbody', {}, rows));
}

function prettyJSON(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

// formValues reads a form's named fields.
function formValues(form) {
  const out = {};
  for (const el of form.elements) if (el.name) out[el.name] = el.value.trim();
  return out;
}

// submitting wires a form to an async action: the button is disabled while
// it runs and an error is shown under the form.
function submitting(form, action) {
  const status = h('div', { class: 'form-status' });
  form.append(status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button[type=submit]');
    status.replaceChildren();
    if (button) button.disabled = true;
    try {
      await action(formValues(form));
    } catch (err) {
      status.replaceChildren(errorBox(err));
    } finally {
      if (button) button.disabled = false;
    }
  });
  return form;
}

// clicked wraps an async click handler: the button is disabled while it
// runs and an error shows beside it, never as an unhandled rejection.
function clicked(fn) {
  return async (ev) => {
    ev.stopPropagation();
    const button = ev.currentTarget;
    button.disabled = true;
    if (button.nextSibling && button.nextSibling.classList && button.nextSibling.classList.contains('error')) button.nextSibling.remove();
    try {
      await fn();
    } catch (err) {
      button.after(errorBox(err));
    } finally {
      button.disabled = false;
    }
  };
}

function field(label, name, attrs = {}) {
  return h('label', {}, label, h('input', { name, ...attrs }));
}

// poll runs fn now and every `every` ms while the view whose generation
// is mine lasts (taken when the view began: a view left while it was
// still loading must not start polling under the next one's).
//
// A failed read is shown in the header (what is on screen is then not
// live), a 429 or 503 waits out its Retry-After, and a 401 (a revoked key,
// a changed token) signs out.
function poll(mine, fn, every = POLL_MS) {
  if (mine !== view) return;
  let busy = false;
  let until = 0; // no tick before this time (Retry-After)
  const tick = async () => {
    if (mine !== view || busy || Date.now() < until) return;
    busy = true;
    try {
      await fn();
      if (mine === view) pollStatus('');
    } catch (err) {
      if (mine !== view) return;
      if (err.status === 401) return signOut('Signed out: the credentials no longer work.');
      until = Date.now() + 1000 * (err.retryAfter || 0);
      pollStatus(`not live: ${err.message}`);
    } finally {
      busy = false;
    }
  };
  tick();
  pollers.push(setInterval(tick, every));
}

// ---- shell -----------------------------------------------------------------

const app = document.getElementById('app');
let mainEl;

const NAV = [
  ['#/services', 'Services'],
  ['#/users', 'Users'],
  ['#/conversations', 'Conversations'],
  ['#/webhooks', 'Webhook deliveries'],
];

function saveSession() {
  sessionStorage.setItem('parley.console', JSON.stringify(session));
}

// pollStatus shows why the page stopped being live ('' when it is).
function pollStatus(text) {
  const el = document.getElementById('poll-status');
  if (el) el.textContent = text;
}

function signOut(message) {
  sessionStorage.removeItem('parley.console');
  forgetMedia();
  Object.assign(session, { user: '', pass: '', service: '', emulator: false, webhooks: true });
  view++;
  while (pollers.length) clearInterval(pollers.pop());
  if (location.hash) history.replaceState(null, '', location.pathname);
  signInView(message);
}

function shell(services) {
  const picker = h('select', {
    'aria-label': 'Chat service',
    id: 'service-picker',
    onchange: (ev) => {
      session.service = ev.target.value;
      saveSession();
      // A conversation belongs to the service it was opened in.
      if (location.hash.startsWith('#/conversations/')) location.hash = '#/conversations';
      else route();
    },
  }, services.map((s) => h('option', { value: s.sid }, `${s.friendly_name || s.sid} (${s.sid})`)));
  picker.value = session.service;
  mainEl = h('main', {});
  app.replaceChildren(
    h('header', { class: 'top' },
      h('div', { class: 'brand' }, 'parley ', h('span', {}, 'console')),
      picker,
      session.emulator ? h('span', { class: 'badge', title: 'reset, fixtures, clock and faults are on' }, 'emulator') : null,
      h('label', { class: 'hooks', title: 'Send X-Twilio-Webhook-Enabled: true with the console\'s writes, so that they fire webhooks as a client SDK\'s writes do' },
        h('input', { type: 'checkbox', id: 'webhooks-enabled', checked: session.webhooks, onchange: (ev) => { session.webhooks = ev.target.checked; saveSession(); } }),
        ' writes fire webhooks'),
      h('div', { class: 'spacer' }),
      h('div', { class: 'poll-status', id: 'poll-status', role: 'status' }),
      h('div', { class: 'who' }, session.user),
      h('button', { onclick: () => signOut() }, 'Sign out')),
    h('div', { class: 'layout' },
      h('nav', { class: 'side' }, NAV.map(([href, text]) => h('a', { href }, text))),
      mainEl));
}

function markNav() {
  for (const a of app.querySelectorAll('nav.side a')) {
    a.classList.toggle('on', location.hash.startsWith(a.getAttribute('href')));
  }
}

// ---- sign in ---------------------------------------------------------------

function signInView(message) {
  const form = h('form', { class: 'panel stack signin', id: 'signin' },
    h('h1', {}, 'parley console'),
    h('p', { class: 'muted' }, 'Sign in with the account SID and auth token that parley printed when it started, or an API key SID and its secret.'),
    field('Account SID or API key SID', 'user', { autocomplete: 'username', required: true, placeholder: 'AC… or SK…' }),
    field('Auth token or API key secret', 'pass', { type: 'password', autocomplete: 'current-password', required: true }),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    message ? errorBox(new Error(message)) : null);
  submitting(form, async ({ user, pass }) => {
    session.user = user;
    session.pass = pass;
    try {
      await start();
    } catch (err) {
      session.user = session.pass = '';
      throw err.status === 401 ? new Error('These credentials are not valid for this parley.') : err;
    }
    if (!location.hash || location.hash === '#/') location.hash = '#/conversations';
    route();
  });
  app.replaceChildren(form);
}

// start checks the credentials and learns what the shell needs: the
// services, the default one, and whether emulator mode is on.
let services = [];
async function start() {
  const config = await api('GET', '/v1/Configuration');
  services = await all('/v1/Services');
  if (!services.some((s) => s.sid === session.service)) {
    session.service = config.default_chat_service_sid || (services[0] && services[0].sid) || '';
  }
  try {
    await api('GET', '/parley/v1/Clock');
    session.emulator = true;
  } catch {
    session.emulator = false;
  }
  saveSession();
  shell(services);
}

// ---- router ----------------------------------------------------------------

const ROUTES = [
  [/^#\/services$/, servicesView],
  [/^#\/users$/, usersView],
  [/^#\/conversations$/, conversationsView],
  [/^#\/conversations\/([^/?]+)$/, conversationView],
  [/^#\/webhooks$/, deliveriesView],
];

// filterHash goes to view with a filter form's values (those set) as the
// fragment's query, so that a filtered list can be linked and reloaded.
function filterHash(view, values) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) p.set(k, v);
  location.hash = view + (p.toString() ? '?' + p : '');
}

// hashQuery is the ?… part of the fragment (#/conversations?identity=x).
function hashQuery() {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
}

async function route() {
  const mine = ++view;
  while (pollers.length) clearInterval(pollers.pop());
  pollStatus('');
  if (!session.user) {
    const saved = sessionStorage.getItem('parley.console');
    if (!saved) return signInView();
    Object.assign(session, JSON.parse(saved));
    try {
      await start();
    } catch (err) {
      if (err.status === 401 || err.status === 403) {
        sessionStorage.removeItem('parley.console');
        session.user = session.pass = '';
        return signInView('Signed out: the credentials no longer work.');
      }
      // parley restarting, a fault: keep the credentials and offer to try
      // again.
      session.user = session.pass = '';
      app.replaceChildren(h('div', { class: 'panel signin' }, errorBox(err),
        h('div', { class: 'toolbar' }, h('button', { class: 'primary', onclick: () => route() }, 'Try again'))));
      return;
    }
    if (mine !== view) return; // a later route() took over while this one signed in
  }
  if (!mainEl || !mainEl.isConnected) shell(services);
  const hash = location.hash.split('?')[0] || '#/conversations';
  markNav();
  for (const [re, fn] of ROUTES) {
    const m = hash.match(re);
    if (!m) continue;
    mainEl.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      const node = await fn(...m.slice(1).map(decodeURIComponent));
      if (mine === view) mainEl.replaceChildren(node);
    } catch (err) {
      if (mine === view) mainEl.replaceChildren(errorBox(err));
    }
    // What the view shows is complete: tests (and people) can tell.
    if (mine === view) mainEl.dataset.view = location.hash;
    return;
  }
  location.hash = '#/conversations';
}

window.addEventListener('hashchange', route);

// ---- services --------------------------------------------------------------

async function servicesView() {
  const [account, accountHooks] = await Promise.all([
    api('GET', '/v1/Configuration'),
    api('GET', '/v1/Configuration/Webhooks'),
  ]);
  const cards = [];
  for (const s of services) {
    const base = `/v1/Services/${seg(s.sid)}`;
    const [config, roles, hooks] = await Promise.all([
      api('GET', `${base}/Configuration`),
      all(`${base}/Roles`),
      api('GET', `${base}/Configuration/Webhooks`),
    ]);
    cards.push(h('section', { class: 'panel service', 'data-sid': s.sid },
      h('h2', {}, s.friendly_name || s.sid, ' ', h('code', { class: 'muted' }, s.sid),
        s.sid === session.service ? h('span', { class: 'pill active' }, 'shown') : ' ',
        s.sid !== session.service ? h('button', { onclick: () => { session.service = s.sid; saveSession(); document.getElementById('service-picker').value = s.sid; route(); } }, 'Show this service') : null),
      h('div', { class: 'cols half' },
        h('div', {}, h('h2', {}, 'Configuration'), kv(config)),
        h('div', {}, h('h2', {}, 'Webhooks'), kv(hooks))),
      h('h2', {}, 'Roles'),
      table(['Name', 'Type', 'Permissions'], roles.map((r) => h('tr', {},
        h('td', {}, r.friendly_name, h('div', { class: 'mono muted' }, r.sid)),
        h('td', {}, r.type),
        h('td', {}, (r.permissions || []).join(', ')))))));
  }
  return h('div', {},
    h('h1', {}, 'Services'),
    cards,
    h('section', { class: 'panel' },
      h('h2', {}, 'Account configuration'),
      h('div', { class: 'cols half' }, kv(account), kv(accountHooks))));
}

// ---- users -----------------------------------------------------------------

async function usersView() {
  const roles = await all(svcPath('/Roles'));
  const roleName = new Map(roles.map((r) => [r.sid, r.friendly_name]));
  // The roles a user can have, as options of a select (made anew for each).
  const serviceRoles = () => roles.filter((r) => r.type === 'service').map((r) => h('option', { value: r.sid }, r.friendly_name));
  const q = hashQuery();
  const results = h('div', {});
  const filters = h('form', { class: 'inline', id: 'user-filters' },
    field('Identity starts with', 'prefix', { value: q.get('prefix') || '' }),
    h('label', {}, 'Role', h('select', { name: 'role' }, h('option', { value: '' }, 'any'), serviceRoles())),
    h('label', {}, 'Online', h('select', { name: 'online' },
      ['any', 'online', 'offline'].map((v) => h('option', { value: v }, v)))),
    field('Conversations at least', 'min', { type: 'number', min: 0, max: 100, value: q.get('min') || '' }),
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  filters.elements.role.value = q.get('role') || '';
  filters.elements.online.value = q.get('online') || 'any';

  const counts = new Map(); // user SID → conversation count (or "100+")
  const countOf = async (u) => {
    if (!counts.has(u.sid)) {
      const p = await page(svcPath(`/Users/${seg(u.sid)}/Conversations`), { PageSize: 100 });
      counts.set(u.sid, p.next ? 100 : p.items.length);
    }
    return counts.get(u.sid);
  };

  // Lists show is_online as null (as Twilio's do): each user is fetched.
  const presence = new Map(); // user SID → is_online
  const onlineOf = async (u) => {
    if (!presence.has(u.sid)) presence.set(u.sid, (await api('GET', svcPath(`/Users/${seg(u.sid)}`))).is_online);
    return presence.get(u.sid);
  };

  const gen = view;
  let searches = 0; // the latest search's number: an older one stops
  const search = async (f) => {
    presence.clear();
    const mine = ++searches;
    const stale = () => mine !== searches || gen !== view;
    results.replaceChildren(h('p', { class: 'muted' }, 'Searching…'));
    let users = await all(svcPath('/Users'));
    if (f.prefix) users = users.filter((u) => u.identity.startsWith(f.prefix));
    if (f.role) users = users.filter((u) => u.role_sid === f.role);
    if (f.online === 'online' || f.online === 'offline') {
      const want = f.online === 'online';
      const kept = [];
      for (const u of users) {
        if (stale()) return;
        if ((await onlineOf(u)) === want) kept.push(u);
      }
      users = kept;
    }
    const min = f.min === '' || f.min === undefined ? null : Number(f.min);
    if (min !== null) {
      const kept = [];
      for (const u of users) {
        if (stale()) return;
        if ((await countOf(u)) >= min) kept.push(u);
      }
      users = kept;
    }
    const shown = users.slice(0, 100);
    const rows = [];
    for (const u of shown) {
      const count = h('td', { class: 'count' }, '…');
      const online = h('td', { class: 'online' }, '…');
      rows.push(h('tr', { 'data-identity': u.identity },
        h('td', {}, h('a', { href: `#/conversations?identity=${seg(u.identity)}` }, u.identity), h('div', { class: 'mono muted' }, u.sid)),
        h('td', {}, u.friendly_name || ''),
        h('td', {}, roleName.get(u.role_sid) || u.role_sid),
        online,
        count,
        h('td', {}, when(u.date_created))));
      onlineOf(u).then((v) => online.replaceChildren(onlinePill(v)), () => { online.textContent = '?'; });
      countOf(u).then((n) => { count.textContent = n >= 100 ? '100+' : String(n); }, () => { count.textContent = '?'; });
    }
    if (stale()) return;
    results.replaceChildren(
      h('p', { class: 'muted' }, `${users.length} user${users.length === 1 ? '' : 's'}` + (users.length > shown.length ? `, first ${shown.length} shown` : '')),
      table(['Identity', 'Friendly name', 'Role', 'Online', 'Conversations', 'Created'], rows, 'No user matches.'));
  };
  submitting(filters, search);

  const create = h('form', { class: 'stack', id: 'create-user' },
    field('Identity', 'Identity', { required: true }),
    field('Friendly name', 'FriendlyName'),
    h('label', {}, 'Role', h('select', { name: 'RoleSid' }, h('option', { value: '' }, 'the service default'),
      serviceRoles())),
    h('button', { type: 'submit', class: 'primary' }, 'Create user'));
  submitting(create, async (v) => {
    await api('POST', svcPath('/Users'), v);
    create.reset();
    await search(formValues(filters));
  });

  search(formValues(filters)).catch((err) => results.replaceChildren(errorBox(err)));
  return h('div', {},
    h('h1', {}, 'Users'),
    h('div', { class: 'cols wide' },
      h('section', { class: 'panel' }, filters, results),
      h('section', { class: 'panel' }, h('h2', {}, 'New user'), create)));
}

// ---- conversations ---------------------------------------------------------

async function conversationsView() {
  const q = hashQuery();
  const f = { state: q.get('state') || '', unique: q.get('unique') || '', identity: q.get('identity') || '' };
  const filters = h('form', { class: 'inline', id: 'conversation-filters' },
    h('label', {}, 'State', h('select', { name: 'state' },
      ['', 'active', 'inactive', 'closed'].map((v) => h('option', { value: v }, v || 'any')))),
    field('Unique name', 'unique', { value: f.unique }),
    field('Participant identity', 'identity', { value: f.identity }),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'));
  filters.elements.state.value = f.state;
  submitting(filters, async (v) => filterHash('#/conversations', v));

  const row = (c) => h('tr', { class: 'click', 'data-sid': c.sid, onclick: () => { location.hash = `#/conversations/${c.sid}`; } },
    h('td', {}, h('a', { href: `#/conversations/${c.sid}` }, c.friendly_name || c.sid), h('div', { class: 'mono muted' }, c.sid)),
    h('td', {}, c.unique_name || ''),
    h('td', {}, pill(c.state)),
    h('td', {}, when(c.date_created)),
    h('td', {}, when(c.date_updated)));
  const headers = ['Conversation', 'Unique name', 'State', 'Created', 'Updated'];
  const results = h('div', { id: 'conversation-list' });
  const keep = (c) => !f.state || c.state === f.state;

  if (f.unique) {
    let found = [];
    try {
      found = [await api('GET', svcPath(`/Conversations/${seg(f.unique)}`))];
    } catch (err) {
      if (err.status !== 404) throw err;
    }
    if (f.identity && found.length) {
      const parts = await all(svcPath(`/Conversations/${seg(found[0].sid)}/Participants`));
      if (!parts.some((p) => p.identity === f.identity)) found = [];
    }
    results.replaceChildren(table(headers, found.filter(keep).map(row), 'No conversation has this unique name.'));
  } else if (f.identity) {
    const memberships = await all(svcPath('/ParticipantConversations'), { Identity: f.identity });
    const convs = memberships.map((m) => ({
      sid: m.conversation_sid, friendly_name: m.conversation_friendly_name, unique_name: m.conversation_unique_name,
      state: m.conversation_state, date_created: m.conversation_date_created, date_updated: m.conversation_date_updated,
    }));
    results.replaceChildren(table(headers, convs.filter(keep).map(row), `${f.identity} is in no conversation.`));
  } else {
    const show = async (path, params) => {
      const p = await page(path, params);
      results.replaceChildren(
        table(headers, p.items.map(row), 'No conversation yet.'),
        h('div', { class: 'toolbar' },
          params ? null : h('button', { onclick: clicked(() => show(svcPath('/Conversations'), { PageSize: 50, State: f.state })) }, 'First page'),
          p.next ? h('button', { onclick: clicked(() => show(p.next)) }, 'Next page') : null));
    };
    await show(svcPath('/Conversations'), { PageSize: 50, State: f.state });
  }

  const create = h('form', { class: 'stack', id: 'create-conversation' },
    field('Friendly name', 'FriendlyName'),
    field('Unique name', 'UniqueName'),
    h('label', {}, 'Attributes (JSON)', h('textarea', { name: 'Attributes', placeholder: '{}' })),
    h('button', { type: 'submit', class: 'primary' }, 'Create conversation'));
  submitting(create, async (v) => {
    const c = await api('POST', svcPath('/Conversations'), v);
    location.hash = `#/conversations/${c.sid}`;
  });

  return h('div', {},
    h('h1', {}, 'Conversations'),
    h('div', { class: 'cols wide' },
      h('section', { class: 'panel' }, filters, results),
      h('section', { class: 'panel' }, h('h2', {}, 'New conversation'), create)));
}

// mediaURLs caches object URLs of media content by media SID, so that a
// re-rendered message does not fetch its picture again.
const mediaURLs = new Map(); // media SID → Promise of { url, type }: the object URL and its type

// RASTER are the picture types shown inline. Every other file (SVG and
// HTML above all, which can carry script) is only offered for download,
// as bytes without its type: a blob URL has the console's origin.
const RASTER = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp']);

async function mediaNode(m) {
  const name = m.filename || m.sid;
  const raster = RASTER.has((m.content_type || '').toLowerCase());
  if (!mediaURLs.has(m.sid)) {
    mediaURLs.set(m.sid, (async () => {
      const res = await send(svcPath(`/Media/${seg(m.sid)}/Content`));
      if (!res.ok) throw new APIError(res.status, null);
      const blob = new Blob([await res.arrayBuffer()], { type: raster ? m.content_type : 'application/octet-stream' });
      return { url: URL.createObjectURL(blob), type: blob.type };
    })());
  }
  let file;
  try {
    file = await mediaURLs.get(m.sid);
  } catch (err) {
    mediaURLs.delete(m.sid); // tried again at the next redraw
    throw err;
  }
  if (raster) return h('img', { src: file.url, alt: name, 'data-media': m.sid });
  return h('a', { href: file.url, download: name, type: file.type, 'data-media': m.sid }, `📎 ${name} (${m.content_type}, ${m.size} bytes)`);
}

// forgetMedia drops the downloaded files (at sign-out).
function forgetMedia() {
  for (const p of mediaURLs.values()) p.then((file) => URL.revokeObjectURL(file.url), () => {});
  mediaURLs.clear();
}

async function conversationView(ref) {
  const mine = view;
  const conv = await api('GET', svcPath(`/Conversations/${seg(ref)}`));
  const base = svcPath(`/Conversations/${seg(conv.sid)}`);
  const roles = await all(svcPath('/Roles'));
  const roleName = new Map(roles.map((r) => [r.sid, r.friendly_name]));

  // Participants, with their read horizons and whether their user is online.
  let participants = [];
  const partsEl = h('div', { id: 'participants' });
  const online = new Map();
  const renderParticipants = () => {
    partsEl.replaceChildren(table(['Participant', 'Role', 'Read up to', 'Online', ''], participants.map((p) => h('tr', { 'data-identity': p.identity || '' },
      h('td', {}, p.identity || (p.messaging_binding && `${p.messaging_binding.address} via ${p.messaging_binding.proxy_address || p.messaging_binding.projected_address || ''}`) || p.sid,
        h('div', { class: 'mono muted' }, p.sid)),
      h('td', {}, roleName.get(p.role_sid) || p.role_sid || ''),
      h('td', { class: 'horizon' }, p.last_read_message_index === null || p.last_read_message_index === undefined ? h('span', { class: 'muted' }, 'nothing read') : `#${p.last_read_message_index}`,
        p.last_read_timestamp ? h('div', { class: 'muted' }, when(p.last_read_timestamp)) : null),
      h('td', {}, p.identity ? onlinePill(online.get(p.identity)) : h('span', { class: 'muted' }, 'SMS')),
      h('td', {}, h('button', { class: 'remove', title: 'Remove this participant', onclick: clicked(async () => {
        await api('DELETE', `${base}/Participants/${seg(p.sid)}`);
        await loadParticipants();
      }) }, 'Remove'))))
    , 'No participant yet.'));
  };
  let partsSig = '';
  let partsAsked = 0; // reads are numbered: an answer older than one applied is dropped
  let partsApplied = 0;
  const loadParticipants = async () => {
    const n = ++partsAsked;
    const next = await all(`${base}/Participants`);
    for (const p of next) {
      if (!p.identity) continue;
      try {
        const u = await api('GET', svcPath(`/Users/${seg(p.identity)}`));
        online.set(p.identity, u.is_online);
      } catch (err) {
        if (err.status !== 404) throw err;
      }
    }
    const sig = JSON.stringify([next, [...online]]);
    if (sig === partsSig || mine !== view || n < partsApplied) return;
    partsApplied = n;
    partsSig = sig;
    participants = next;
    renderParticipants();
    renderMessages();
  };

  // Messages, newest first; older pages load on demand and the newest page
  // is polled.
  const messages = new Map(); // index → message
  let older = ''; // the next (older) page's path
  let epoch = 0; // moves when what is shown is dropped: older pages read before are stale
  const msgsEl = h('div', { class: 'messages', id: 'messages' });
  const olderButton = h('button', { onclick: clicked(() => loadOlder()) }, 'Older messages');
  const renderMessages = () => {
    const list = [...messages.values()].sort((a, b) => b.index - a.index);
    msgsEl.replaceChildren(...(list.length ? list.map(messageNode) : [h('p', { class: 'muted' }, 'No message yet.')]));
    olderButton.hidden = !older;
  };
  const messageNode = (m) => {
    const readers = participants.filter((p) => p.identity && p.identity !== m.author && p.last_read_message_index !== null && p.last_read_message_index >= m.index).map((p) => p.identity);
    const node = h('article', { class: 'msg', 'data-index': m.index, 'data-sid': m.sid },
      h('div', { class: 'meta' }, h('b', {}, m.author || 'system'), h('span', {}, `#${m.index}`), h('span', {}, when(m.date_created)),
        readers.length ? h('span', {}, `read by ${readers.join(', ')}`) : null,
        h('button', { class: 'link delete', title: 'Delete this message', onclick: clicked(async () => {
          await api('DELETE', `${base}/Messages/${seg(m.sid)}`);
          messages.delete(m.index);
          renderMessages();
        }) }, 'delete')),
      m.body !== null && m.body !== undefined ? h('div', { class: 'body' }, m.body) : null,
      m.attributes && m.attributes !== '{}' ? h('pre', {}, prettyJSON(m.attributes)) : null);
    for (const media of m.media || []) {
      const slot = h('div', {});
      node.append(slot);
      mediaNode(media).then((el) => slot.replaceChildren(el), (err) => slot.replaceChildren(errorBox(err)));
    }
    return node;
  };
  let msgsSig = '';
  let newestAsked = 0; // as for participants: a late answer does not undo a fresher one
  let newestApplied = 0;
  const loadNewest = async () => {
    const n = ++newestAsked;
    const p = await page(`${base}/Messages`, { Order: 'desc', PageSize: PAGE_SIZE });
    if (mine !== view || n < newestApplied) return;
    newestApplied = n;
    const sig = JSON.stringify(p.items);
    if (sig === msgsSig) return;
    msgsSig = sig;
    // The newest page replaces what it covers: edits show, removals go.
    // When it does not reach what is shown (more arrived than a page
    // holds), what is shown is dropped and the older pages start below it.
    const known = Math.max(-1, ...messages.keys());
    if (!p.items.length || p.items[p.items.length - 1].index > known + 1) {
      messages.clear();
      older = p.next;
      epoch++;
    }
    if (p.items.length) {
      const low = p.items[p.items.length - 1].index;
      for (const i of [...messages.keys()]) if (i >= low) messages.delete(i);
    }
    for (const m of p.items) messages.set(m.index, m);
    renderMessages();
  };
  const loadOlder = async () => {
    if (!older) return;
    const was = epoch;
    const p = await page(older);
    if (was !== epoch || mine !== view) return;
    older = p.next;
    for (const m of p.items) messages.set(m.index, m);
    renderMessages();
  };

  // Forms: a participant, a message (with a file, uploaded to the Media
  // Content Service first, as the client SDK does).
  const addParticipant = h('form', { class: 'stack', id: 'add-participant' },
    field('Identity (chat participant)', 'Identity'),
    h('div', { class: 'muted' }, 'or an SMS participant:'),
    field('Address', 'MessagingBinding.Address', { placeholder: '+15558675310' }),
    field('Proxy address', 'MessagingBinding.ProxyAddress', { placeholder: '+15017122661' }),
    h('button', { type: 'submit', class: 'primary' }, 'Add participant'));
  submitting(addParticipant, async (v) => {
    await api('POST', `${base}/Participants`, v);
    addParticipant.reset();
    await loadParticipants();
  });

  const authors = h('datalist', { id: 'authors' });
  const sendForm = h('form', { class: 'stack', id: 'send-message' },
    h('label', {}, 'Author', h('input', { name: 'Author', list: 'authors', placeholder: 'system' })), authors,
    h('label', {}, 'Body', h('textarea', { name: 'Body' })),
    h('label', {}, 'Attach a file', h('input', { name: 'file', type: 'file' })),
    h('button', { type: 'submit', class: 'primary' }, 'Send message'));
  submitting(sendForm, async (v) => {
    const file = sendForm.elements.file.files[0];
    const params = { Author: v.Author, Body: v.Body };
    if (file) {
      const res = await send(svcPath(`/Media?Filename=${seg(file.name)}`), {
        method: 'POST',
        headers: { 'Content-Type': file.type || 'application/octet-stream' },
        body: file,
      });
      params.MediaSid = (await answer(res)).sid;
    }
    await api('POST', `${base}/Messages`, params);
    sendForm.elements.Body.value = '';
    sendForm.elements.file.value = '';
    await loadNewest();
  });

  const hooks = await all(`${base}/Webhooks`);
  const hooksEl = table(['Target', 'Where', 'Method', 'Filters / triggers'], hooks.map((w) => {
    const c = w.configuration || {};
    return h('tr', {},
      h('td', {}, w.target, h('div', { class: 'mono muted' }, w.sid)),
      h('td', { class: 'wrap' }, c.url || c.flow_sid || ''),
      h('td', {}, c.method || ''),
      h('td', {}, [...(c.filters || []), ...(c.triggers || []).map((t) => `“${t}”`)].join(', ')));
  }), 'No webhook is scoped to this conversation.');

  poll(mine, async () => {
    await Promise.all([loadNewest(), loadParticipants()]);
    authors.replaceChildren(...participants.filter((p) => p.identity).map((p) => h('option', { value: p.identity })));
  });

  // The conversation's own fields, and its state changed from here.
  const heading = h('h1', {});
  const details = h('div', {});
  const showConversation = (c) => {
    heading.replaceChildren(c.friendly_name || c.sid, ' ', pill(c.state));
    details.replaceChildren(kv(c));
  };
  showConversation(conv);
  const stateForm = h('form', { class: 'inline', id: 'conversation-state' },
    h('label', {}, 'State', h('select', { name: 'State' }, ['active', 'inactive', 'closed'].map((v) => h('option', { value: v }, v)))),
    h('button', { type: 'submit' }, 'Change state'));
  stateForm.elements.State.value = conv.state;
  submitting(stateForm, async (v) => showConversation(await api('POST', base, v)));

  return h('div', {},
    heading,
    h('div', { class: 'cols' },
      h('div', {},
        h('section', { class: 'panel' }, h('h2', {}, 'Messages ', h('span', { class: 'live' }, 'live')), msgsEl, h('div', { class: 'toolbar' }, olderButton)),
        h('section', { class: 'panel' }, h('h2', {}, 'Participants'), partsEl),
        h('section', { class: 'panel' }, h('h2', {}, 'Scoped webhooks'), hooksEl)),
      h('div', {},
        h('section', { class: 'panel' }, h('h2', {}, 'Send a message'), sendForm),
        h('section', { class: 'panel' }, h('h2', {}, 'Add a participant'), addParticipant),
        h('section', { class: 'panel' }, h('h2', {}, 'Conversation'), stateForm, details))));
}

// ---- webhook deliveries ----------------------------------------------------

async function deliveriesView() {
  const mine = view;
  const q = hashQuery();
  const f = { status: q.get('status') || '', event: q.get('event') || '' };
  const filters = h('form', { class: 'inline', id: 'delivery-filters' },
    h('label', {}, 'Status', h('select', { name: 'status' },
      ['', 'pending', 'delivered', 'failed', 'recorded'].map((v) => h('option', { value: v }, v || 'any')))),
    field('Event', 'event', { value: f.event, placeholder: 'onMessageAdded' }),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'));
  filters.elements.status.value = f.status;
  submitting(filters, async (v) => filterHash('#/webhooks', v));

  const open = new Set(); // deliveries whose details are shown
  const list = h('div', { id: 'deliveries' });
  let sig = '';
  const render = (items) => {
    const rows = [];
    for (const d of items) {
      rows.push(h('tr', { class: 'click', 'data-sid': d.sid, onclick: () => { open.has(d.sid) ? open.delete(d.sid) : open.add(d.sid); render(items); } },
        h('td', {}, when(d.date_created)),
        h('td', {}, d.event_type),
        h('td', { class: 'wrap' }, d.target),
        h('td', {}, pill(d.status)),
        h('td', { class: 'attempts' }, String(d.attempts)),
        h('td', {}, d.last_status_code === null ? '' : String(d.last_status_code))));
      if (open.has(d.sid)) rows.push(h('tr', { class: 'details', 'data-details': d.sid }, h('td', { colspan: 6 }, deliveryDetails(d))));
    }
    list.replaceChildren(table(['Created', 'Event', 'Target', 'Status', 'Attempts', 'Answer'], rows, 'No webhook delivery yet.'));
  };
  const deliveryDetails = (d) => {
    const params = [...new URLSearchParams(d.params)];
    const retry = session.emulator ? h('button', {
      class: 'retry',
      onclick: clicked(async () => {
        await api('POST', `/parley/v1/WebhookDeliveries/${seg(d.sid)}/Retry`);
        sig = '';
        await load();
      }),
    }, 'Retry now') : null;
    return h('div', { class: 'cols' },
      h('div', {},
        h('h2', {}, `${d.method} ${d.target}`),
        h('div', { class: 'params' }, table(['Parameter', 'Value'], params.map(([k, v]) => h('tr', {}, h('td', { class: 'mono' }, k), h('td', { class: 'wrap' }, v))))),
        h('details', {}, h('summary', { class: 'muted' }, 'Exactly as sent'), h('pre', {}, d.params))),
      h('div', {},
        h('h2', {}, 'The receiver’s answer'),
        kv({
          status: d.status, attempts: d.attempts, last_status_code: d.last_status_code, last_error: d.last_error,
          next_attempt_at: d.next_attempt_at, date_updated: d.date_updated, sid: d.sid,
        }),
        'last_response' in d ? h('pre', { class: 'answer' }, d.last_response === null ? '(no answer)' : d.last_response) : null,
        retry));
  };
  // The page shown: the newest first; Next page follows the list's own
  // next_page_url. Whichever it is, it is read again every two seconds.
  const first = { path: '/parley/v1/WebhookDeliveries', params: { Order: 'desc', PageSize: 50, Status: f.status, EventType: f.event } };
  let shown = first;
  const pager = h('div', { class: 'toolbar' });
  const load = async () => {
    const want = shown;
    const p = await page(want.path, want.params);
    if (want !== shown || mine !== view) return;
    pager.replaceChildren(
      shown !== first ? h('button', { onclick: clicked(() => { shown = first; sig = ''; return load(); }) }, 'Newest') : null,
      p.next ? h('button', { onclick: clicked(() => { shown = { path: p.next }; sig = ''; return load(); }) }, 'Next page') : null);
    const next = JSON.stringify(p.items);
    if (next === sig) return;
    sig = next;
    render(p.items);
  };
  await load();
  poll(mine, load, 2 * POLL_MS);
  return h('div', {},
    h('h1', {}, 'Webhook deliveries ', h('span', { class: 'live' }, 'live')),
    h('section', { class: 'panel' }, filters, list, pager,
      h('p', { class: 'muted' }, 'Every webhook parley sent or will send, newest first, for all services.',
        session.emulator ? ' Emulator mode: a delivery can be sent again now.' : '')));
}

route();
