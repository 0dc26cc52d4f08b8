// The notification center: one user's inbox, newest first, live over server-sent events.
// Plain DOM, no framework. Text from the server is only ever set as textContent.

import { hidePreferences, showPreferences } from './preferences.js';
import { forgetBrowser, hideWebPush, showWebPush } from './web-push.js';

const PAGE_SIZE = 20;
/** Smaller than every notification id: "send me everything new" for an inbox that was empty. */
const ZERO_ID = '00000000000000000000000000';
const TOKEN_KEY = 'fanout.userToken';

const $ = (id) => document.getElementById(id);

const state = {
  token: '',
  /** id → item, and ids newest first (ULIDs sort by time). */
  items: new Map(),
  order: [],
  /** An aggregated item's group key → the id it is shown under (the item moves when it grows). */
  groups: new Map(),
  nextCursor: null,
  loading: false,
  source: null,
};

function api(path, init = {}) {
  return fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${state.token}`, ...(init.headers ?? {}) },
  });
}

async function errorMessage(res) {
  try {
    const body = await res.json();
    return body?.error?.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

// ---- sign-in ----------------------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  const res = await api(`/v1/me/inbox?limit=${PAGE_SIZE}`);
  if (!res.ok) {
    state.token = '';
    $('sign-in-error').textContent =
      res.status === 401 || res.status === 403
        ? 'That token was not accepted (wrong or expired).'
        : await errorMessage(res);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $('sign-in-error').textContent = '';
  $('sign-in').hidden = true;
  $('inbox').hidden = false;
  $('bell').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = whoOf(token);
  resetList();
  addPage(await res.json());
  await refreshCount();
  openStream();
  showPreferences(api);
  showWebPush(api);
  if (!revealLinked()) $('list').focus();
}

/**
 * The item a link names (`/#<notification id>`: a web push's click-through) scrolled to and
 * focused, when it is on the page; false otherwise.
 */
function revealLinked() {
  const id = decodeURIComponent(location.hash.slice(1));
  if (id === '' || !state.token) return false;
  const node = $('list').querySelector(`[data-id="${CSS.escape(id)}"]`);
  if (!node) return false;
  for (const old of $('list').querySelectorAll('.linked')) old.classList.remove('linked');
  node.classList.add('linked');
  node.tabIndex = -1;
  node.scrollIntoView({ block: 'center' });
  node.focus();
  return true;
}

// A click on a push while the page is open moves it to the item's link.
window.addEventListener('hashchange', () => void revealLinked());

/** The user id inside a token's (unencrypted, signed) payload, only to label the page. */
function whoOf(token) {
  try {
    const claims = JSON.parse(atob(token.split('.')[0].replaceAll('-', '+').replaceAll('_', '/')));
    return typeof claims.u === 'string' ? `${claims.u} · ${claims.t}` : '';
  } catch {
    return '';
  }
}

function signOut(message = '') {
  // The token is captured before it is cleared: the browser's subscription is removed under it.
  const token = state.token;
  if (token)
    void forgetBrowser((path, init = {}) =>
      fetch(path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } }),
    );
  state.source?.close();
  state.source = null;
  state.token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  resetList();
  hidePreferences();
  hideWebPush();
  $('inbox').hidden = true;
  $('bell').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
  $('token').focus();
}

async function setUpDevSignIn() {
  const res = await fetch('/v1/dev').catch(() => undefined);
  if (!res?.ok) return;
  const { tenantId } = await res.json();
  $('dev-tenant').textContent = tenantId;
  $('dev-form').hidden = false;
}

async function devSignIn(userId) {
  const res = await fetch(`/v1/dev/token?userId=${encodeURIComponent(userId)}`);
  if (!res.ok) {
    $('sign-in-error').textContent = await errorMessage(res);
    return;
  }
  const { token } = await res.json();
  await signIn(token);
}

// ---- list -------------------------------------------------------------------------------------

function resetList() {
  state.items.clear();
  state.groups.clear();
  state.order = [];
  state.nextCursor = null;
  $('list').replaceChildren();
  renderMeta();
}

/**
 * Forgets the item a grown aggregated item replaces (same group key, older id); false when the
 * one shown is the newer (a page loaded after the item moved still has its old place).
 */
function replacesShown(item) {
  if (!item.group) return true;
  const shownId = state.groups.get(item.group.key);
  if (shownId === undefined) return true;
  if (shownId >= item.id) return false;
  state.items.delete(shownId);
  state.order = state.order.filter((id) => id !== shownId);
  $('list')
    .querySelector(`[data-id="${CSS.escape(shownId)}"]`)
    ?.remove();
  return true;
}

function remember(item) {
  state.items.set(item.id, item);
  if (item.group) state.groups.set(item.group.key, item.id);
}

function addPage(page) {
  for (const item of page.items) {
    if (state.items.has(item.id) || !replacesShown(item)) continue;
    remember(item);
    state.order.push(item.id);
    $('list').append(renderItem(item));
  }
  state.nextCursor = page.nextCursor;
  renderMeta();
}

/**
 * An aggregated item that grew where it stands (a like older than the item does not move it): its
 * line is redrawn in place; false when nothing changed.
 */
function regrown(shown, item) {
  if (!item.group || shown.group?.actorCount === item.group.actorCount) return false;
  const node = $('list').querySelector(`[data-id="${CSS.escape(item.id)}"]`);
  remember(item);
  if (node) {
    const next = renderItem(item);
    next.classList.add('fresh');
    node.replaceWith(next);
  }
  renderMeta();
  return true;
}

/** A live item goes where its id sorts (usually the top; a back-dated event lower). */
function addLive(item) {
  const shown = state.items.get(item.id);
  if (shown) return regrown(shown, item);
  if (!replacesShown(item)) return false;
  remember(item);
  const at = state.order.findIndex((id) => id < item.id);
  const node = renderItem(item);
  node.classList.add('fresh');
  if (at === -1) {
    // Older than everything shown: it belongs to a page not loaded yet, unless this is the last page.
    if (state.nextCursor !== null) {
      state.items.delete(item.id);
      return true;
    }
    state.order.push(item.id);
    $('list').append(node);
  } else {
    $('list').insertBefore(node, $('list').children[at]);
    state.order.splice(at, 0, item.id);
  }
  renderMeta();
  return true;
}

function renderMeta() {
  $('empty').hidden = state.order.length > 0;
  $('more').hidden = state.nextCursor === null;
}

const TIME = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function ago(iso) {
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (Math.abs(s) < 60) return TIME.format(s, 'second');
  if (Math.abs(s) < 3600) return TIME.format(Math.round(s / 60), 'minute');
  if (Math.abs(s) < 86400) return TIME.format(Math.round(s / 3600), 'hour');
  return TIME.format(Math.round(s / 86400), 'day');
}

const COUNT = new Intl.NumberFormat('en');

/**
 * Who did it: "Ana", "Ana and Bo", "Ana, Bo and Cy", or past three "Ana, Bo and 14,998 others"
 * (the two newest actors by name, the rest counted exactly).
 */
function actorsText(item) {
  const group = item.group;
  if (!group || group.actorCount <= 1) return item.actorId;
  const names = group.actors;
  if (group.actorCount <= names.length) {
    return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  }
  const named = names.slice(0, 2);
  const others = group.actorCount - named.length;
  return `${named.join(', ')} and ${COUNT.format(others)} ${others === 1 ? 'other' : 'others'}`;
}

/** What a notification says, from its type and its data's `text` or `title` when it has one. */
function summary(item) {
  const text = typeof item.data?.text === 'string' ? item.data.text : item.data?.title;
  const what =
    item.type === 'like'
      ? `${actorsText(item)} liked ${item.objectId ? `your post ${item.objectId}` : 'your post'}`
      : `${actorsText(item)} · ${item.type}${item.objectId ? ` on ${item.objectId}` : ''}`;
  return typeof text === 'string' && text !== '' ? `${what}: ${text}` : what;
}

function renderItem(item) {
  const li = document.createElement('li');
  li.className = item.read ? 'item' : 'item unread';
  li.dataset.id = item.id;
  const body = document.createElement('div');
  body.className = 'item-body';
  const text = document.createElement('p');
  text.className = 'item-text';
  text.textContent = summary(item);
  const meta = document.createElement('p');
  meta.className = 'item-meta';
  const time = document.createElement('time');
  time.dateTime = item.createdAt;
  time.textContent = ago(item.createdAt);
  time.title = new Date(item.createdAt).toLocaleString();
  const status = document.createElement('span');
  status.className = 'status';
  status.textContent = item.read ? 'read' : 'unread';
  meta.append(time, ' · ', status);
  body.append(text, meta);
  li.append(body);
  if (!item.read) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'mark';
    button.textContent = 'Mark read';
    button.setAttribute('aria-label', `Mark read: ${summary(item)}`);
    button.addEventListener('click', () => markRead(item.id, li));
    li.append(button);
  }
  return li;
}

function showRead(li) {
  li.classList.remove('unread');
  li.querySelector('.status').textContent = 'read';
  li.querySelector('.mark')?.remove();
}

async function loadMore() {
  if (state.loading || state.nextCursor === null) return;
  state.loading = true;
  try {
    const res = await api(`/v1/me/inbox?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(state.nextCursor)}`);
    if (res.status === 401) return signOut('Your session expired; sign in again.');
    if (!res.ok) {
      $('inbox-error').textContent = await errorMessage(res);
      return;
    }
    addPage(await res.json());
  } finally {
    state.loading = false;
  }
}

// ---- read state -------------------------------------------------------------------------------

async function markRead(id, li) {
  const res = await api(`/v1/me/inbox/${encodeURIComponent(id)}/read`, { method: 'POST' });
  if (res.status === 401) return signOut('Your session expired; sign in again.');
  if (!res.ok) {
    $('inbox-error').textContent = await errorMessage(res);
    return;
  }
  const item = state.items.get(id);
  if (item) state.items.set(id, { ...item, read: true });
  // Focus would be lost with the button: keep it on the item's list.
  const next = li.nextElementSibling?.querySelector('.mark') ?? $('list');
  showRead(li);
  next.focus();
  await refreshCount();
}

async function markAllRead() {
  const res = await api('/v1/me/inbox/read-all', { method: 'POST' });
  if (res.status === 401) return signOut('Your session expired; sign in again.');
  if (!res.ok) {
    $('inbox-error').textContent = await errorMessage(res);
    return;
  }
  for (const li of $('list').querySelectorAll('.item.unread')) showRead(li);
  for (const [id, item] of state.items) state.items.set(id, { ...item, read: true });
  await refreshCount();
}

async function refreshCount() {
  const res = await api('/v1/me/inbox/unread-count');
  if (res.ok) showCount((await res.json()).count);
}

function showCount(count) {
  $('badge').textContent = count > 99 ? '99+' : String(count);
  $('badge').dataset.count = String(count);
  $('bell').setAttribute('aria-label', `Unread notifications: ${count}`);
  $('count-text').textContent = `(${count} unread)`;
}

// ---- live -------------------------------------------------------------------------------------

function setLive(stateName, text) {
  $('live').dataset.state = stateName;
  $('live').textContent = text;
}

function openStream() {
  state.source?.close();
  // The newest id on screen: the server sends everything after it, so nothing that arrived
  // between the first page and this connection is missed. Reconnects send Last-Event-ID.
  const after = state.order[0] ?? ZERO_ID;
  const url = `/v1/me/inbox/stream?access_token=${encodeURIComponent(state.token)}&lastEventId=${after}`;
  const source = new EventSource(url);
  state.source = source;
  source.addEventListener('open', () => setLive('live', 'live'));
  source.addEventListener('notification', (event) => {
    const item = JSON.parse(event.data);
    if (addLive(item)) $('announce').textContent = `New notification: ${summary(item)}`;
  });
  source.addEventListener('unread-count', (event) => showCount(JSON.parse(event.data).count));
  source.addEventListener('error', async () => {
    if (source.readyState === EventSource.CLOSED) {
      // The server refused the stream (token expired?): find out, rather than retry for ever.
      const res = await api('/v1/me/inbox/unread-count');
      if (res.status === 401) return signOut('Your session expired; sign in again.');
      setLive('offline', 'offline, retrying…');
      setTimeout(() => state.source === source && openStream(), 5000);
    } else {
      setLive('connecting', 'reconnecting…');
    }
  });
}

// ---- wiring -----------------------------------------------------------------------------------

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn($('token').value.trim());
});
$('dev-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void devSignIn($('dev-user').value.trim());
});
$('sign-out').addEventListener('click', () => signOut());
$('read-all').addEventListener('click', () => void markAllRead());
$('more').addEventListener('click', () => void loadMore());
$('bell').addEventListener('click', () => {
  ($('list').querySelector('.item.unread .mark') ?? $('list')).focus();
});
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting) && state.token !== '') void loadMore();
}).observe($('sentinel'));

void setUpDevSignIn();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) void signIn(saved);
