// The inbox element's side of the HTTP API: every request carries the user token in the
// Authorization header (never a cookie, never the URL), and a 401 asks the token provider once
// for a fresh token before it gives up.

import { readEvents } from './sse.js';

/** Smaller than every notification id: "send me everything new" for an inbox that was empty. */
const ZERO_ID = '00000000000000000000000000';

/**
 * A user's view of the API at `base`. `getToken(failed)` returns the token to send; `failed` is
 * the token the service just refused (401, 403 or an unreadable answer), when a provider should
 * fetch a new one.
 */
export class InboxApi {
  constructor(base, getToken) {
    this.base = base.replace(/\/+$/, '');
    this.getToken = getToken;
  }

  /**
   * `fetch` on the API with the token; retried once with a fresh token after a 401, a 403, or a
   * request the browser refused to show (a TypeError): in front of the AWS mode an API Gateway
   * authorizer answers an expired token itself, with no CORS headers, so a page on another
   * origin sees no status at all. A fresh token that changes nothing rethrows the error.
   */
  async request(path, init = {}) {
    const token = await this.getToken();
    let res;
    try {
      res = await this.#send(path, init, token);
    } catch (err) {
      const fresh = await this.getToken(token);
      if (!fresh || fresh === token) throw err;
      return this.#send(path, init, fresh);
    }
    if (res.status !== 401 && res.status !== 403) return res;
    const fresh = await this.getToken(token);
    return fresh && fresh !== token ? this.#send(path, init, fresh) : res;
  }

  async #send(path, init, token) {
    if (!token) return new Response(null, { status: 401 });
    return fetch(`${this.base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
    });
  }

  /** One page of the inbox: `status` is all, unread or archived. */
  async page(status, cursor, limit) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (status !== 'all') query.set('status', status);
    if (cursor) query.set('cursor', cursor);
    const res = await this.request(`/v1/me/inbox?${query}`);
    if (res.status === 400 && status !== 'all') {
      // A server without filters: the unread tab filters the whole list here, archived is empty.
      const body = await res.json().catch(() => ({}));
      if (body?.error?.code === 'VALIDATION' && status === 'unread') {
        const all = await this.page('all', cursor, limit);
        return { ...all, items: all.items.filter((i) => !i.read) };
      }
      if (body?.error?.code === 'VALIDATION') return { items: [], nextCursor: null };
    }
    if (!res.ok) throw await apiError(res);
    return res.json();
  }

  /** `{count, unseen}`; a server without seen state counts every unread item as unseen. */
  async counts() {
    const res = await this.request('/v1/me/inbox/unread-count');
    if (!res.ok) throw await apiError(res);
    const body = await res.json();
    return { count: body.count, unseen: typeof body.unseen === 'number' ? body.unseen : body.count };
  }

  /** POST an action: read, unread, archive, unarchive on one item; `seen` and `read-all` on all. */
  async act(action, id) {
    const path =
      id === undefined ? `/v1/me/inbox/${action}` : `/v1/me/inbox/${encodeURIComponent(id)}/${action}`;
    const res = await this.request(path, { method: 'POST' });
    if (!res.ok) throw await apiError(res);
  }

  /**
   * Follows the live stream until `signal` aborts: `onItem(item)` per new or changed item,
   * `onCount(body)` per count change, `onState('live' | 'connecting' | 'offline')`. Reconnects
   * with Last-Event-ID after a drop, backing off to 30 s; `after()` is the newest id on screen.
   */
  async follow({ after, onItem, onCount, onState, signal }) {
    let lastId = after() ?? ZERO_ID;
    let delay = 1000;
    let refused;
    while (!signal.aborted) {
      onState('connecting');
      let status = 0;
      const token = await this.getToken(refused);
      if (!token || token === refused) return onState('offline');
      try {
        status = await readEvents(
          `${this.base}/v1/me/inbox/stream`,
          { authorization: `Bearer ${token}`, 'last-event-id': lastId },
          (event) => {
            if (event.event === 'notification') {
              const item = JSON.parse(event.data);
              if (event.id) lastId = event.id;
              onItem(item);
            } else if (event.event === 'unread-count') {
              onCount(JSON.parse(event.data));
            }
          },
          signal,
          () => {
            onState('live');
            delay = 1000;
          },
        );
      } catch {
        if (signal.aborted) return;
      }
      // Refused: once more with a fresh token from the provider, if it has one.
      if (status === 401) {
        refused = token;
        continue;
      }
      // No streams here (the AWS mode's Lambda API answers 501): the element polls instead.
      if (status === 501) return onState('offline');
      refused = undefined;
      onState(status === 200 ? 'connecting' : 'offline');
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

async function apiError(res) {
  let message = `HTTP ${res.status}`;
  try {
    message = (await res.json())?.error?.message ?? message;
  } catch {
    // Not JSON: the status says enough.
  }
  return Object.assign(new Error(message), { status: res.status });
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
