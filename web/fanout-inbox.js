// <fanout-inbox>: a bell with a badge of unseen notifications and a popover inbox, for any page.
//
//   <script type="module" src="https://fanout.example.com/fanout-inbox.js"></script>
//   <fanout-inbox token="…"></fanout-inbox>
//
// Plain custom element, shadow DOM, no framework, no build step. See docs/embedding.md.

import { InboxApi } from './inbox-api.js';
import { ItemList } from './inbox-list.js';
import {
  buildShadow,
  EMPTY,
  LIVE_TEXT,
  placePanel,
  showCounts,
  showPreferencesView,
  tabAfterKey,
} from './inbox-template.js';
import { refreshTimes, renderItem, safeUrl, textOf } from './inbox-view.js';
import { createPreferences } from './preferences.js';

const PAGE_SIZE = 20;
/** This script's own origin: the API's when the page names none. */
const SCRIPT_ORIGIN = new URL(import.meta.url).origin;
/**
 * The inbox element. Attributes: `api` (the service's base URL; default this script's origin),
 * `token` (a user token), `theme` (`light`, `dark` or `auto`), `open`. Property `tokenProvider`:
 * an async function returning a user token, called again after a 401.
 */
export class FanoutInbox extends HTMLElement {
  static observedAttributes = ['token', 'api', 'open'];

  #root;
  #tokenValue = null;
  #provider = null;
  #tokenPromise = null;
  #refreshedFrom = undefined;
  /** Whose inbox this is, from the token's claims: other tabs' messages for another user are ignored. */
  #who = '';
  #client = null;
  #abort = null;
  #channel = null;
  #timer = 0;
  #seenTimer = 0;
  #countTimer = 0;
  #tab = 'all';
  /** The shown tab's items. */
  #list;
  #loading = false;
  #prefs = null;
  /** The shadow root's element by id. */
  #$;
  #counts = { count: 0, unseen: 0 };
  #ready = null;
  #resolveReady = () => {};
  #onDocPointer = (event) => {
    if (this.hasAttribute('open') && !event.composedPath().includes(this)) this.close(false);
  };

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    this.#$ = buildShadow(this.#root);
    this.#list = new ItemList(
      this.#$('list'),
      (item) =>
        renderItem(item, {
          onOpen: (event) => this.#open(item.id, event),
          onAction: (kind) => void this.#act(kind, item.id),
        }),
      () => this.#root.activeElement,
    );
    this.#wire();
    this.#ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  /** A user token; set as a property so it does not show in the DOM. */
  get token() {
    return this.#tokenValue ?? this.getAttribute('token');
  }
  set token(value) {
    this.#tokenValue = value;
    this.#restart();
  }
  /** `async () => token`: called on start and again after a 401. */
  get tokenProvider() {
    return this.#provider;
  }
  set tokenProvider(fn) {
    this.#provider = typeof fn === 'function' ? fn : null;
    this.#tokenPromise = null;
    this.#refreshedFrom = undefined;
    this.#restart();
  }
  /** Resolves once the first page is on screen. */
  get ready() {
    return this.#ready;
  }
  /** `{count, unseen}` as last known. */
  get counts() {
    return { ...this.#counts };
  }

  connectedCallback() {
    // Set on the element before this class was defined: an own property hides the setter.
    for (const name of ['token', 'tokenProvider']) {
      if (Object.hasOwn(this, name)) {
        const value = this[name];
        delete this[name];
        this[name] = value;
      }
    }
    document.addEventListener('pointerdown', this.#onDocPointer);
    this.#restart();
  }
  disconnectedCallback() {
    document.removeEventListener('pointerdown', this.#onDocPointer);
    this.#stop();
  }
  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    if (name === 'open') {
      if (value === null) this.close(false);
      else this.open();
      return;
    }
    this.#restart();
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  /** Starts over with the current token and API, once per task however many attributes changed. */
  #restart() {
    if (this.#restartQueued) return;
    this.#restartQueued = true;
    queueMicrotask(() => {
      this.#restartQueued = false;
      this.#start();
    });
  }
  #restartQueued = false;

  #start() {
    if (!this.isConnected) return;
    this.#stop();
    if (!this.#provider && !this.token) return;
    const base = this.getAttribute('api') || SCRIPT_ORIGIN;
    this.#client = new InboxApi(base, (failed) => this.#getToken(failed));
    this.#abort = new AbortController();
    const { signal } = this.#abort;
    if (typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(`fanout-inbox ${base}`);
      this.#channel.onmessage = (event) => this.#fromOtherTab(event.data);
    }
    this.#timer = setInterval(() => {
      refreshTimes(this.#$('list'));
      // Without a live stream the counts are polled.
      if (this.#$('live').dataset.state !== 'live') void this.#refreshCounts();
    }, 30_000);
    void this.#refreshCounts();
    // The stream starts after the first page, from its newest item: nothing is sent twice.
    void this.#loadTab().then(() => {
      this.#resolveReady();
      if (signal.aborted) return;
      // Opened before it had a token (or before it started): what is on screen now is seen.
      if (!this.#$('panel').hidden) void this.#markSeen();
      void this.#client.follow({
        after: () => this.#list.newest(),
        onItem: (item) => this.#onLive(item),
        onCount: (body) => this.#onCount(body),
        onState: (state) => this.#setLive(state),
        signal,
      });
    });
  }

  #stop() {
    this.#abort?.abort();
    this.#abort = null;
    this.#channel?.close();
    this.#channel = null;
    clearInterval(this.#timer);
    clearTimeout(this.#seenTimer);
    clearTimeout(this.#countTimer);
  }

  /**
   * The token to send. With a provider: one call shared by every request in flight, and one new
   * call per refused token (however many requests it failed).
   */
  #getToken(failed) {
    if (!this.#provider) {
      if (failed !== undefined) return null;
      this.#who = whoOf(this.token);
      return this.token;
    }
    if (failed !== undefined && failed !== this.#refreshedFrom) {
      this.#refreshedFrom = failed;
      this.#tokenPromise = null;
    }
    this.#tokenPromise ??= Promise.resolve()
      .then(() => this.#provider())
      .then((token) => {
        this.#who = whoOf(token);
        return token;
      })
      .catch(() => null);
    return this.#tokenPromise;
  }

  #emit(name, detail, cancelable = false) {
    return this.dispatchEvent(
      new CustomEvent(`fanout-inbox:${name}`, { detail, bubbles: true, composed: true, cancelable }),
    );
  }

  #fail(err) {
    if (err?.status === 401) this.#emit('unauthorized', {});
    this.#$('error').textContent = err instanceof Error ? err.message : String(err);
  }

  // ---- open / close -----------------------------------------------------------------------------

  /** Opens the popover and marks everything seen. */
  open() {
    const panel = this.#$('panel');
    if (!panel.hidden) return;
    panel.hidden = false;
    placePanel(this.#$);
    this.#$('bell').setAttribute('aria-expanded', 'true');
    if (!this.hasAttribute('open')) this.setAttribute('open', '');
    void this.#markSeen();
    this.#emit('open', {});
  }

  /** Closes the popover; focus goes back to the bell when it was inside. */
  close(refocus = true) {
    const panel = this.#$('panel');
    if (panel.hidden) return;
    const hadFocus = panel.contains(this.#root.activeElement);
    panel.hidden = true;
    this.#$('bell').setAttribute('aria-expanded', 'false');
    if (this.hasAttribute('open')) this.removeAttribute('open');
    if (refocus || hadFocus) this.#$('bell').focus();
    this.#emit('close', {});
  }

  /**
   * Opens the popover on the item with `id` (a push's click-through link), marked and focused;
   * false when it is not on the first page of All.
   */
  async reveal(id) {
    this.open();
    if (this.#tab !== 'all') await this.#selectTab('all');
    await this.#ready;
    const li = this.#root.querySelector(`li[data-id="${CSS.escape(id)}"]`);
    if (!li) return false;
    for (const old of this.#root.querySelectorAll('.linked')) old.classList.remove('linked');
    li.classList.add('linked');
    li.tabIndex = -1;
    li.scrollIntoView({ block: 'center' });
    li.focus();
    return true;
  }

  // ---- wiring -------------------------------------------------------------------------------------

  #wire() {
    this.#$('bell').addEventListener('click', () => (this.#$('panel').hidden ? this.open() : this.close()));
    this.#root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.#$('panel').hidden) {
        event.stopPropagation();
        this.close(true);
      }
    });
    this.#$('read-all').addEventListener('click', () => void this.#markAllRead());
    this.#$('more').addEventListener('click', () => void this.#loadMore());
    this.#$('prefs-button').addEventListener('click', () => this.#togglePrefs());
    const tabs = this.#$('tabs');
    tabs.addEventListener('click', (event) => {
      const tab = event.target.closest('[role="tab"]');
      if (tab) void this.#selectTab(tab.dataset.tab);
    });
    tabs.addEventListener('keydown', (event) => {
      const next = tabAfterKey(event.key, this.#tab);
      if (next === undefined) return;
      event.preventDefault();
      void this.#selectTab(next);
      this.#$(`tab-${next}`).focus();
    });
    new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !this.#$('panel').hidden) void this.#loadMore();
      },
      { root: this.#$('scroll') },
    ).observe(this.#$('sentinel'));
    window.addEventListener('resize', () => {
      if (!this.#$('panel').hidden) placePanel(this.#$);
    });
  }

  #togglePrefs() {
    const show = this.#$('prefs-button').getAttribute('aria-expanded') !== 'true';
    showPreferencesView(this.#$, show);
    if (!show) return;
    if (!this.#prefs) {
      this.#prefs = createPreferences((path, init) => this.#client.request(path, init), 'fanout-prefs');
      this.#$('prefs-view').append(this.#prefs.element);
    }
    void this.#prefs.load();
  }

  // ---- list -------------------------------------------------------------------------------------

  async #selectTab(tab) {
    if (tab === this.#tab && this.#list.size > 0) return;
    this.#tab = tab;
    for (const node of this.#root.querySelectorAll('[role="tab"]')) {
      const on = node.dataset.tab === tab;
      node.setAttribute('aria-selected', String(on));
      node.tabIndex = on ? 0 : -1;
    }
    this.#$('tabpanel').setAttribute('aria-labelledby', `tab-${tab}`);
    await this.#loadTab();
  }

  #belongs(item) {
    if (this.#tab === 'archived') return Boolean(item.archived);
    if (item.archived) return false;
    return this.#tab === 'all' || !item.read;
  }

  async #loadTab() {
    const tab = this.#tab;
    this.#list.clear();
    this.#$('list').setAttribute('aria-busy', 'true');
    try {
      const page = await this.#client.page(tab, null, PAGE_SIZE);
      if (tab !== this.#tab) return;
      this.#list.addPage(page);
      this.#$('error').textContent = '';
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#$('list').removeAttribute('aria-busy');
      this.#renderMeta();
    }
  }

  async #loadMore() {
    if (this.#loading || this.#list.cursor === null) return;
    this.#loading = true;
    const tab = this.#tab;
    try {
      const page = await this.#client.page(tab, this.#list.cursor, PAGE_SIZE);
      if (tab === this.#tab) this.#list.addPage(page);
      this.#renderMeta();
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#loading = false;
    }
  }

  #renderMeta() {
    const empty = this.#list.size === 0 && !this.#$('list').hasAttribute('aria-busy');
    this.#$('empty').hidden = !empty;
    const [title, text] = EMPTY[this.#tab];
    this.#$('empty-title').textContent = title;
    this.#$('empty-text').textContent = text;
    this.#$('more').hidden = this.#list.cursor === null;
  }

  // ---- live ---------------------------------------------------------------------------------------

  #setLive(state) {
    const live = this.#$('live');
    live.dataset.state = state;
    live.textContent = LIVE_TEXT[state];
  }

  #onLive(item) {
    const shown = this.#list.get(item.id);
    if (!this.#belongs(item)) {
      if (shown) this.#list.drop(item.id);
    } else if (shown) {
      this.#list.set(item);
    } else if (this.#list.insert(item)) {
      this.#$('announce').textContent = `New notification: ${textOf(item)}`;
      this.#emit('notification', { item });
    }
    this.#renderMeta();
    // While the popover is open what arrives is seen at once.
    if (!this.#$('panel').hidden) {
      clearTimeout(this.#seenTimer);
      this.#seenTimer = setTimeout(() => void this.#markSeen(), 300);
    }
    this.#scheduleCounts();
  }

  #onCount(body) {
    if (typeof body.unseen === 'number') this.#showCounts({ count: body.count, unseen: body.unseen });
    else this.#scheduleCounts();
  }

  #scheduleCounts() {
    clearTimeout(this.#countTimer);
    this.#countTimer = setTimeout(() => void this.#refreshCounts(), 150);
  }

  async #refreshCounts() {
    try {
      this.#showCounts(await this.#client.counts());
    } catch (err) {
      if (err?.status === 401) this.#fail(err);
    }
  }

  #showCounts(counts) {
    this.#counts = counts;
    showCounts(this.#$, counts);
    this.#emit('counts', { ...counts });
  }

  // ---- actions ------------------------------------------------------------------------------------

  async #markSeen() {
    if (!this.#client) return;
    try {
      await this.#client.act('seen');
      this.#showCounts({ ...this.#counts, unseen: 0 });
      this.#channel?.postMessage({ kind: 'seen', who: this.#who });
    } catch (err) {
      // A server without seen state: the badge keeps counting unread.
      if (err?.status === 401) this.#fail(err);
    }
  }

  async #markAllRead() {
    try {
      await this.#client.act('read-all');
      this.#applyAllRead();
      this.#channel?.postMessage({ kind: 'read-all', who: this.#who });
      await this.#refreshCounts();
    } catch (err) {
      this.#fail(err);
    }
  }

  #applyAllRead() {
    for (const item of [...this.#list.items.values()]) {
      if (!item.read) this.#list.set({ ...item, read: true });
    }
  }

  /** The item's main area: marks it read and tells the page, which may cancel the link. */
  #open(id, event) {
    const item = this.#list.get(id);
    if (!item) return;
    const url = safeUrl(item.url);
    const go = this.#emit('click', { item, url }, true);
    if (!go) event.preventDefault();
    if (!item.read) void this.#act('read', id);
  }

  async #act(kind, id) {
    try {
      await this.#client.act(kind, id);
    } catch (err) {
      return this.#fail(err);
    }
    this.#apply(kind, id);
    this.#channel?.postMessage({ kind, id, who: this.#who });
    this.#emit(kind, { id });
    await this.#refreshCounts();
  }

  /** What an action does to the list: the item changes, or leaves a tab it no longer belongs to. */
  #apply(kind, id) {
    const item = this.#list.get(id);
    if (!item) return;
    const changed = {
      read: { read: true },
      unread: { read: false },
      archive: { archived: true, read: true },
      unarchive: { archived: false },
    }[kind];
    const next = { ...item, ...changed };
    // Read under Unread stays in sight until the tab is loaded again: no line jumps away.
    if (this.#belongs(next) || (kind === 'read' && this.#tab === 'unread')) {
      this.#list.set(next);
      return;
    }
    this.#list.remove(id);
    this.#renderMeta();
  }

  #fromOtherTab(message) {
    // Two users signed in on two tabs of one page share the channel: only this user's marks count.
    if (message?.who !== this.#who) return;
    if (message?.kind === 'seen') this.#showCounts({ ...this.#counts, unseen: 0 });
    else if (message?.kind === 'read-all') this.#applyAllRead();
    else if (typeof message?.id === 'string') this.#apply(message.kind, message.id);
    this.#scheduleCounts();
  }
}

/**
 * The tenant and user a token names (its claims are readable JSON before the signature; the
 * server alone checks the signature), '' when it is not such a token.
 */
function whoOf(token) {
  try {
    const payload = String(token).split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload));
    return typeof claims?.t === 'string' && typeof claims?.u === 'string'
      ? `${claims.t}\u001f${claims.u}`
      : '';
  } catch {
    return '';
  }
}

if (!customElements.get('fanout-inbox')) customElements.define('fanout-inbox', FanoutInbox);
