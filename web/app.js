// The dev notification center: sign in with a user token (or, in development, a user id), then
// the <fanout-inbox> element in the header, opened. Web push is offered here, on the service's own
// origin, where its service worker lives.

import './fanout-inbox.js';
import { forgetBrowser, hideWebPush, showWebPush } from './web-push.js';

const TOKEN_KEY = 'fanout.userToken';

const $ = (id) => document.getElementById(id);

let token = '';

function api(path, init = {}) {
  return fetch(path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
}

async function errorMessage(res) {
  try {
    return (await res.json())?.error?.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

async function signIn(candidate) {
  const res = await fetch('/v1/me/inbox/unread-count', { headers: { authorization: `Bearer ${candidate}` } });
  if (!res.ok) {
    $('sign-in-error').textContent =
      res.status === 401 || res.status === 403
        ? 'That token was not accepted (wrong or expired).'
        : await errorMessage(res);
    return;
  }
  token = candidate;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('sign-in-error').textContent = '';
  $('sign-in').hidden = true;
  $('signed-in').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = whoOf(token);
  const inbox = document.createElement('fanout-inbox');
  inbox.id = 'inbox';
  inbox.token = token;
  inbox.addEventListener('fanout-inbox:unauthorized', () => signOut('Your session expired; sign in again.'));
  $('inbox-slot').replaceChildren(inbox);
  inbox.open();
  showWebPush(api);
  await inbox.ready;
  if (!(await revealLinked())) inbox.shadowRoot.getElementById('panel').focus();
}

/** The item a link names (`/#<notification id>`: a web push's click-through), opened and focused. */
async function revealLinked() {
  const id = decodeURIComponent(location.hash.slice(1));
  const inbox = $('inbox');
  if (id === '' || !inbox) return false;
  return inbox.reveal(id);
}

// A click on a push while the page is open moves it to the item's link.
window.addEventListener('hashchange', () => void revealLinked());

/** The user id inside a token's (unencrypted, signed) payload, only to label the page. */
function whoOf(value) {
  try {
    const claims = JSON.parse(atob(value.split('.')[0].replaceAll('-', '+').replaceAll('_', '/')));
    return typeof claims.u === 'string' ? `${claims.u} · ${claims.t}` : '';
  } catch {
    return '';
  }
}

function signOut(message = '') {
  // The token is captured before it is cleared: the browser's subscription is removed under it.
  const old = token;
  if (old)
    void forgetBrowser((path, init = {}) =>
      fetch(path, { ...init, headers: { authorization: `Bearer ${old}`, ...(init.headers ?? {}) } }),
    );
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  $('inbox-slot').replaceChildren();
  hideWebPush();
  $('signed-in').hidden = true;
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
  await signIn((await res.json()).token);
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn($('token').value.trim());
});
$('dev-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void devSignIn($('dev-user').value.trim());
});
$('sign-out').addEventListener('click', () => signOut());

void setUpDevSignIn();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) void signIn(saved);
