// The xatm console: a client of the admin REST API and nothing else. Every value on screen comes from
// /api/v1 and is written with textContent (never parsed as HTML), so an xid or a name cannot inject
// markup. The admin token lives in sessionStorage: it is gone when the tab closes and never leaves it
// except in the Authorization header of an API call.
'use strict';

const TOKEN_KEY = 'xatm.adminToken';
const PAGE_SIZE = 20;
const LIST_LIMIT = 1000; // the API's maximum: filters other than status and paging work on this window

const $ = (id) => document.getElementById(id);
const state = { page: 0, rows: [] };

// ------------------------------------------------------------------ API

class ApiError extends Error {
  constructor(status, text) { super(text); this.status = status; }
}

// An error body is Problem Details (detail) or the older {error, message}; either reads the same here.
function errorText(status, body) {
  if (body && typeof body === 'object') {
    return body.detail ?? body.message ?? body.error ?? ('HTTP ' + status);
  }
  return 'HTTP ' + status;
}

async function api(method, path, body) {
  const headers = { 'Authorization': 'Bearer ' + sessionStorage.getItem(TOKEN_KEY), 'Accept': 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch('/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let json = null;
  try { json = await response.json(); } catch (e) { /* an empty or non-JSON body: the status says enough */ }
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin('The token was refused: ' + errorText(401, json));
    throw new ApiError(401, errorText(401, json));
  }
  if (!response.ok) throw new ApiError(response.status, errorText(response.status, json));
  return json;
}

// Today's list answers are arrays; a paged answer may wrap them: both are read.
const items = (json) => Array.isArray(json) ? json : (json?.items ?? json?.transactions ?? json?.content ?? []);

// ------------------------------------------------------------------ helpers

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof Node) td.append(c); else td.textContent = c ?? '';
    tr.append(td);
  }
  return tr;
}

function xidLink(xid) {
  const a = el('a', xid);
  a.href = '#/tx/' + encodeURIComponent(xid);
  a.dataset.xid = xid;
  return a;
}

function statusCell(status) { return el('span', status, 'status status-' + status); }

const when = (iso) => iso ? new Date(iso).toLocaleString() : '';

function ageSeconds(iso) { return iso ? Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)) : null; }

function age(iso) {
  const s = ageSeconds(iso);
  if (s === null) return 'restored';
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  return Math.round(s / 3600) + ' h';
}

// The owner a gtrid names on a shared store: it ends with ":<node>.<epoch in base 36>".
function ownerTag(xid, ownerNode) {
  const m = /^[^:]*:[^:]*:([0-9]{1,5})\.([0-9a-z]{1,13})$/.exec(xid);
  if (m) return 'node ' + m[1] + ' (epoch ' + parseInt(m[2], 36) + ')';
  return ownerNode == null ? '' : 'node ' + ownerNode;
}

function fail(e) {
  if (e instanceof ApiError && e.status === 401) return;
  const p = $('error');
  p.textContent = e.message;
  p.hidden = false;
}

// ------------------------------------------------------------------ views

const VIEWS = ['login', 'transactions', 'in-doubt', 'detail', 'cluster'];

function show(view) {
  for (const v of VIEWS) $('view-' + v).hidden = v !== view;
  $('nav').hidden = view === 'login';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.id === 'nav-' + view);
  $('error').hidden = true;
}

function showLogin(message) {
  show('login');
  if (message) fail(new Error(message));
}

async function showTransactions() {
  show('transactions');
  const status = $('f-status').value;
  const query = '?limit=' + LIST_LIMIT + (status ? '&status=' + encodeURIComponent(status) : '');
  const protocol = $('f-protocol').value;
  const name = $('f-name').value.trim().toLowerCase();
  const minAge = Number($('f-age').value || 0);
  if (!Number.isInteger(minAge) || minAge < 0) throw new Error('"Older than" must be a whole number of seconds, 0 or more');
  state.rows = items(await api('GET', '/transactions' + query)).filter((t) =>
    (!protocol || t.protocol === protocol)
    && (!name || (t.name ?? '').toLowerCase().includes(name))
    && (!minAge || (ageSeconds(t.begunAt) ?? Infinity) >= minAge));
  renderPage();
}

function renderPage() {
  const pages = Math.max(1, Math.ceil(state.rows.length / PAGE_SIZE));
  state.page = Math.min(Math.max(0, state.page), pages - 1);
  const body = $('tx-table').tBodies[0];
  body.replaceChildren(...state.rows.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE).map((t) => {
    const tr = row([xidLink(t.xid), t.name, t.protocol, statusCell(t.status), t.outcome, t.branches, when(t.begunAt),
      age(t.begunAt), ownerTag(t.xid, t.ownerNode)]);
    tr.dataset.xid = t.xid;
    return tr;
  }));
  $('page-info').textContent = 'page ' + (state.page + 1) + ' of ' + pages + ' (' + state.rows.length + ' transactions)';
  $('page-prev').disabled = state.page === 0;
  $('page-next').disabled = state.page >= pages - 1;
}

async function showInDoubt() {
  show('in-doubt');
  const list = items(await api('GET', '/transactions/in-doubt?limit=' + LIST_LIMIT));
  $('in-doubt-table').tBodies[0].replaceChildren(...list.map((d) => {
    const reasons = el('div');
    for (const r of d.reasons) {
      const p = el('p', null, 'reason');
      p.append(el('b', r.kind), ' ' + (r.branch ? '[' + r.branch + '] ' : '') + r.message);
      reasons.append(p);
    }
    const t = d.transaction;
    const tr = row([xidLink(t.xid), t.name, statusCell(t.status), when(t.begunAt), reasons]);
    tr.dataset.xid = t.xid;
    return tr;
  }));
  if (list.length === 0) $('in-doubt-table').tBodies[0].append(row(['Nothing is in doubt.']));
}

async function showDetail(xid) {
  show('detail');
  $('action-result').hidden = true;
  const t = await api('GET', '/transactions/' + encodeURIComponent(xid));
  state.detail = t;
  $('detail-xid').textContent = t.xid;
  const fields = $('detail-fields');
  fields.replaceChildren();
  const field = (name, value) => { if (value !== null && value !== undefined && value !== '') fields.append(el('dt', name), el('dd', value)); };
  field('status', t.status);
  fields.lastChild.className = 'status status-' + t.status;
  field('name', t.name); field('protocol', t.protocol); field('phase', t.phase); field('outcome', t.outcome);
  field('begun', when(t.begunAt)); field('decided', when(t.decidedAt)); field('finished', when(t.finishedAt));
  field('deadline', when(t.deadline)); field('restored', t.restored ? 'yes: rebuilt from the log at start-up' : null);
  field('owner', ownerTag(t.xid, t.ownerNode)); field('forgotten by', t.acknowledgedBy);
  $('detail-reasons').replaceChildren(...t.inDoubt.map((r) => {
    const p = el('p', null, 'reason');
    p.append(el('b', 'In doubt: ' + r.kind), ' ' + (r.branch ? '[' + r.branch + '] ' : '') + r.message);
    return p;
  }));
  $('branches').tBodies[0].replaceChildren(...t.branches.map((b) => row([b.bqual, b.resource, b.agent, b.agentState,
    b.status, b.vote, b.pendingCommand, b.attempts, b.heuristic ?? b.decidedOnItsOwn])));
  $('timeline').replaceChildren(...t.history.map((h) => {
    const li = el('li');
    const time = el('time', when(h.at));
    if (h.at) time.dateTime = h.at;
    li.append(time, ' ', el('span', h.kind, 'kind'), ' ' + (h.branch ? '[' + h.branch + '] ' : '') + (h.detail ?? ''));
    return li;
  }));
  $('history-dropped').hidden = !t.historyDropped;
  $('history-dropped').textContent = t.historyDropped + ' older events are not kept in memory (see the server log).';
}

async function showCluster() {
  show('cluster');
  const [c, list] = await Promise.all([api('GET', '/cluster'), api('GET', '/transactions?limit=' + LIST_LIMIT)]);
  const perTag = new Map();
  for (const t of items(list)) {
    const tag = ownerTag(t.xid, t.ownerNode) || 'this server';
    perTag.set(tag, (perTag.get(tag) ?? 0) + 1);
  }
  if (c.store !== 'jdbc') {
    $('cluster-summary').textContent = 'This server runs on the file store: it is alone, every transaction is its own.';
    $('cluster-table').tBodies[0].replaceChildren(row(['this server', '', '', '', perTag.get('this server') ?? 0]));
    return;
  }
  $('cluster-summary').textContent = c.self
    ? 'Shared JDBC store. This server is node ' + c.self.nodeId + ', epoch ' + c.self.epoch + '; '
      + c.members.length + ' server(s) hold a live lease. A server lists the transactions it drives: its own and those it adopted.'
    : 'Shared JDBC store; this server has not claimed its lease yet.';
  $('cluster-table').tBodies[0].replaceChildren(...c.members.map((m) => {
    const tr = row([m.nodeId + (m.self ? ' (this server)' : ''), m.epoch, m.ownerTag, m.address ?? '',
      perTag.get('node ' + m.nodeId + ' (epoch ' + m.epoch + ')') ?? 0]);
    tr.dataset.node = m.nodeId;
    return tr;
  }));
}

// ------------------------------------------------------------------ forced actions

// What the coordinator accepts, by status: the same rules it enforces (a refusal is a 409). Shown
// before sending so the operator reads the reason first; the server's answer is what counts.
function refusal(action, t) {
  const s = t.status;
  const heuristic = s === 'FINISHED_HEURISTIC' || s === 'FINISHED_HEURISTIC_HAZARD';
  if (action === 'forget') {
    return heuristic ? null : 'only a heuristic outcome (FINISHED_HEURISTIC, FINISHED_HEURISTIC_HAZARD) can be forgotten; this one is ' + s + '.';
  }
  if (heuristic) return 'phase 2 is over and a database decided on its own: reconcile the branches at the databases by hand, then forget it.';
  if (action === 'commit') {
    if (s === 'COMMITTING' || s === 'FINISHED_COMMITTED') return null;
    if (s === 'ROLLING_BACK' || s === 'FINISHED_ROLLED_BACK') return 'it was decided to roll back: a commit would contradict that decision.';
    return 'it has no durable COMMIT decision (' + s + '): an undecided transaction may be rolled back at any time '
      + '(presumed abort), so a forced commit could contradict that.';
  }
  if (s === 'COMMITTING' || s === 'FINISHED_COMMITTED') {
    return 'its COMMIT decision is durable: rolling it back would contradict it; phase 2 commits every branch as its agent answers.';
  }
  if (t.phase === 'ONE_PHASE') return 'a one-phase commit is in flight: the database decides its outcome.';
  if (s === 'PRE_COMMITTING' && t.restored) return 'a restored PRE_COMMITTING transaction: a participant may already have committed on its own.';
  return null;
}

const EFFECT = {
  commit: 'resends COMMIT now to every branch still pending, through the agent that holds it or, when that agent is gone, '
    + 'the server\'s own recovery connection to its database.',
  rollback: 'rolls back an undecided transaction (or resends the ROLLBACK of one already rolling back) to every branch still '
    + 'pending, through its agent or the server\'s recovery connection.',
  forget: 'acknowledges the heuristic outcome after you reconciled the databases by hand: it leaves the in-doubt list.',
};

function confirmAction(action) {
  const t = state.detail;
  const refused = refusal(action, t);
  $('confirm-title').textContent = 'Force ' + action + ' of ' + t.xid + '?';
  $('confirm-text').textContent = 'It is ' + t.status + '. Force ' + action + ' ' + EFFECT[action];
  $('confirm-warning').hidden = !refused;
  $('confirm-warning').textContent = refused ? 'The API will refuse this (409 Conflict): ' + refused
    + ' Sending it anyway only records the refused attempt in the history.' : '';
  $('confirm-send').textContent = refused ? 'Send anyway' : 'Force ' + action;
  $('confirm').dataset.action = action;
  $('confirm').returnValue = '';
  $('confirm').showModal();
}

async function sendAction(action) {
  const xid = state.detail.xid;
  // Who acts is the operator the token names (the server records it); the console only says why.
  const reason = $('reason').value.trim();
  const result = $('action-result');
  try {
    const r = await api('POST', '/transactions/' + encodeURIComponent(xid) + '/' + action, reason ? { reason } : {});
    await showDetail(xid);
    result.textContent = 'Done: ' + r.status + '. ' + r.message;
    result.className = '';
  } catch (e) {
    if (e.status === 401) return;
    await showDetail(xid).catch(() => {});
    result.textContent = 'Refused (' + e.status + '): ' + e.message;
    result.className = 'refused';
  }
  result.hidden = false;
}

// ------------------------------------------------------------------ routing and wiring

function route() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return showLogin();
  const hash = location.hash || '#/transactions';
  let done;
  if (hash.startsWith('#/tx/')) done = showDetail(decodeURIComponent(hash.slice(5)));
  else if (hash === '#/in-doubt') done = showInDoubt();
  else if (hash === '#/cluster') done = showCluster();
  else done = showTransactions();
  done.catch(fail);
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  route();
});
$('logout').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); route(); });
$('filters').addEventListener('submit', (e) => { e.preventDefault(); state.page = 0; showTransactions().catch(fail); });
$('page-prev').addEventListener('click', () => { state.page--; renderPage(); });
$('page-next').addEventListener('click', () => { state.page++; renderPage(); });
for (const b of document.querySelectorAll('[data-action]')) b.addEventListener('click', () => confirmAction(b.dataset.action));
$('confirm').addEventListener('close', () => {
  if ($('confirm').returnValue === 'send') sendAction($('confirm').dataset.action);
});
window.addEventListener('hashchange', route);
route();
