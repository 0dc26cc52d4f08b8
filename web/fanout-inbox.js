// <fanout-inbox>: a bell with a badge of unseen notifications and a popover inbox, for any page.
//
//   <script type="module" src="https://fanout.example.com/fanout-inbox.js"></script>
//   <fanout-inbox token="…"></fanout-inbox>
//
// Plain custom element, shadow DOM, no framework, no build step. See docs/embedding.md.

import { InboxApi } from './inbox-api.js';
import { STYLES } from './inbox-styles.js';
import { refreshTimes, renderItem, safeUrl, textOf } from './inbox-view.js';
import { createPreferences } from './preferences.js';

const PAGE_SIZE = 20;
/** This script's own origin: the API's when the page names none. */
const SCRIPT_ORIGIN = new URL(import.meta.url).origin;
const TABS = [
  ['all', 'All'],
  ['unread', 'Unread'],
  ['archived', 'Archived'],
];
const EMPTY = {
  all: ['You’re all caught up', 'New notifications appear here as they arrive.'],
  unread: ['No unread notifications', 'Everything here has been read.'],
  archived: ['Nothing archived', 'Archived notifications are kept here.'],
};
const BELL =
  'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6v-5a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z';
const GEAR =
  'M19.14 12.94a7.5 7.5 0 0 0 .05-.94 7.5 7.5 0 0 0-.05-.94l2.03-1.58a.5.5 0 0 0 .12-.61l-1.92-3.32a.5.5 0 0 0-.6-.22l-2.39.96a7 7 0 0 0-1.62-.94l-.36-2.54A.5.5 0 0 0 13.9 2.5h-3.84a.5.5 0 0 0-.49.42l-.36 2.54a7 7 0 0 0-1.62.94l-2.39-.96a.5.5 0 0 0-.6.22L2.68 8.98a.5.5 0 0 0 .12.61l2.03 1.58a7.5 7.5 0 0 0 0 1.88l-2.03 1.58a.5.5 0 0 0-.12.61l1.92 3.32c.13.22.39.3.6.22l2.39-.96c.5.39 1.04.7 1.62.94l.36 2.54c.04.24.25.42.49.42h3.84c.24 0 .45-.18.49-.42l.36-2.54a7 7 0 0 0 1.62-.94l2.39.96c.22.08.47 0 .6-.22l1.92-3.32a.5.5 0 0 0-.12-.61ZM12 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7Z';

let sheet;
function adopt(root) {
  if (
    'adoptedStyleSheets' in root &&
    typeof CSSStyleSheet === 'function' &&
    'replaceSync' in CSSStyleSheet.prototype
  ) {
    sheet ??= new CSSStyleSheet();
    if (sheet.cssRules.length === 0) sheet.replaceSync(STYLES);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = STYLES;
    root.append(style);
  }
}

function svg(d, size = 24) {
  const ns = 'http://www.w3.org/2000/svg';
  const node = document.createElementNS(ns, 'svg');
  node.setAttribute('viewBox', '0 0 24 24');
  node.setAttribute('width', String(size));
  node.setAttribute('height', String(size));
  node.setAttribute('aria-hidden', 'true');
  node.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', 'currentColor');
  node.append(path);
  return node;
}

const TEMPLATE = `
<button class="bell" id="bell" type="button" part="bell" aria-expanded="false" aria-controls="panel" aria-label="Notifications">
  <span class="badge" id="badge" part="badge" hidden>0</span>
</button>
<div class="panel" id="panel" part="panel" role="dialog" aria-labelledby="title" tabindex="-1" hidden>
  <div class="head" part="header">
    <h2 id="title">Notifications <span class="count" id="count"></span></h2>
    <button class="text-button" id="read-all" type="button">Mark all read</button>
    <button class="icon-button" id="prefs-button" type="button" aria-label="Notification preferences" aria-expanded="false" aria-controls="prefs-view" title="Preferences"></button>
  </div>
  <div class="tabs" role="tablist" aria-label="Filter notifications" id="tabs"></div>
  <div class="scroll" id="scroll">
    <div role="tabpanel" id="tabpanel" aria-labelledby="tab-all">
      <ul class="list" id="list" tabindex="-1" aria-label="Notifications, newest first"></ul>
      <p class="empty" id="empty" hidden><strong id="empty-title"></strong><span id="empty-text"></span></p>
      <div class="sentinel" id="sentinel" aria-hidden="true"></div>
      <button class="more" id="more" type="button" hidden>Load more</button>
    </div>
    <section id="prefs-view" aria-labelledby="prefs-title" hidden>
      <h3 class="visually-hidden" id="prefs-title">Preferences</h3>
    </section>
  </div>
  <p class="error" id="error" role="alert"></p>
  <p class="foot"><span class="live" id="live" data-state="connecting">Connecting…</span><span id="announce" class="visually-hidden" aria-live="polite" aria-atomic="true"></span></p>
</div>`;

const LIVE_TEXT = { live: 'Live', connecting: 'Connecting…', offline: 'Offline' };

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
  #cachedToken = null;
  #client = null;
  #abort = null;
  #channel = null;
  #timer = 0;
  #seenTimer = 0;
  #countTimer = 0;
  #tab = 'all';
  #items = new Map();
  #order = [];
  #groups = new Map();
  #cursor = null;
  #loading = false;
  #counts = { count: 0, unseen: 0 };
  #ready = null;
  #resolveReady = () => {};
  #onDocPointer = (event) => {
    if (this.hasAttribute('open') && !event.composedPath().includes(this)) this.close(false);
  };

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    adopt(this.#root);
    const template = document.createElement('template');
    template.innerHTML = TEMPLATE;
    this.#root.append(template.content.cloneNode(true));
    this.#$('bell').prepend(svg(BELL));
    this.#$('prefs-button').append(svg(GEAR, 20));
    this.#buildTabs();
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
    this.#cachedToken = null;
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

  #$(id) {
    return this.#root.getElementById(id);
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
    this.#client = new InboxApi(base, (fresh) => this.#getToken(fresh));
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
        after: () => this.#order[0],
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

  async #getToken(fresh) {
    if (this.#provider) {
      if (fresh || !this.#cachedToken) this.#cachedToken = await this.#provider();
      return this.#cachedToken;
    }
    return fresh ? null : this.token;
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
    this.#place();
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

  /** A phone-sized window gets the popover across its width, under the bell. */
  #place() {
    const panel = this.#$('panel');
    const narrow = window.innerWidth <= 480;
    panel.classList.toggle('narrow', narrow);
    if (narrow) {
      const top = Math.round(this.#$('bell').getBoundingClientRect().bottom + 8);
      panel.style.top = `${top}px`;
      panel.style.height = `${window.innerHeight - top - 8}px`;
      panel.style.maxHeight = 'none';
    } else {
      panel.style.top = '';
      panel.style.height = '';
      panel.style.maxHeight = '';
    }
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

  #buildTabs() {
    for (const [key, label] of TABS) {
      const tab = document.createElement('button');
      tab.type = 'button';
      tab.className = 'tab';
      tab.id = `tab-${key}`;
      tab.dataset.tab = key;
      tab.setAttribute('role', 'tab');
      tab.setAttribute('aria-controls', 'tabpanel');
      tab.setAttribute('aria-selected', String(key === 'all'));
      tab.tabIndex = key === 'all' ? 0 : -1;
      tab.textContent = label;
      if (key === 'unread') {
        const count = document.createElement('span');
        count.className = 'tab-count';
        count.id = 'unread-tab-count';
        count.hidden = true;
        tab.append(count);
      }
      this.#$('tabs').append(tab);
    }
  }

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
      const keys = TABS.map(([k]) => k);
      const at = keys.indexOf(this.#tab);
      const next = {
        ArrowRight: (at + 1) % keys.length,
        ArrowLeft: (at + keys.length - 1) % keys.length,
        Home: 0,
        End: keys.length - 1,
      }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      void this.#selectTab(keys[next]);
      this.#$(`tab-${keys[next]}`).focus();
    });
    new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !this.#$('panel').hidden) void this.#loadMore();
      },
      { root: this.#$('scroll') },
    ).observe(this.#$('sentinel'));
    window.addEventListener('resize', () => {
      if (!this.#$('panel').hidden) this.#place();
    });
  }

  #togglePrefs() {
    const button = this.#$('prefs-button');
    const show = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(show));
    this.#$('prefs-view').hidden = !show;
    this.#$('tabpanel').hidden = show;
    this.#$('tabs').hidden = show;
    this.#$('read-all').hidden = show;
    this.#$('title').firstChild.textContent = show ? 'Preferences ' : 'Notifications ';
    this.#$('count').hidden = show;
    if (show) {
      const view = this.#$('prefs-view');
      if (!this.#prefs) {
        this.#prefs = createPreferences((path, init) => this.#client.request(path, init), 'fanout-prefs');
        view.append(this.#prefs.element);
      }
      void this.#prefs.load();
    }
  }
  #prefs = null;

  // ---- list -------------------------------------------------------------------------------------

  async #selectTab(tab) {
    if (tab === this.#tab && this.#order.length > 0) return;
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
    this.#items.clear();
    this.#groups.clear();
    this.#order = [];
    this.#cursor = null;
    this.#$('list').replaceChildren();
    this.#$('list').setAttribute('aria-busy', 'true');
    try {
      const page = await this.#client.page(tab, null, PAGE_SIZE);
      if (tab !== this.#tab) return;
      this.#addPage(page);
      this.#$('error').textContent = '';
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#$('list').removeAttribute('aria-busy');
      this.#renderMeta();
    }
  }

  async #loadMore() {
    if (this.#loading || this.#cursor === null) return;
    this.#loading = true;
    const tab = this.#tab;
    try {
      const page = await this.#client.page(tab, this.#cursor, PAGE_SIZE);
      if (tab === this.#tab) this.#addPage(page);
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#loading = false;
    }
  }

  /** Forgets the shown item a grown aggregated item replaces; false when the shown one is newer. */
  #replacesShown(item) {
    if (!item.group) return true;
    const shownId = this.#groups.get(item.group.key);
    if (shownId === undefined || shownId === item.id) return true;
    if (shownId > item.id) return false;
    this.#drop(shownId);
    return true;
  }

  #drop(id) {
    this.#items.delete(id);
    this.#order = this.#order.filter((x) => x !== id);
    this.#li(id)?.remove();
  }

  #li(id) {
    return this.#$('list').querySelector(`li[data-id="${CSS.escape(id)}"]`);
  }

  #remember(item) {
    this.#items.set(item.id, item);
    if (item.group) this.#groups.set(item.group.key, item.id);
  }

  #addPage(page) {
    const list = this.#$('list');
    for (const item of page.items) {
      if (this.#items.has(item.id) || !this.#replacesShown(item)) continue;
      this.#remember(item);
      this.#order.push(item.id);
      list.append(this.#render(item));
    }
    this.#cursor = page.nextCursor ?? null;
    this.#renderMeta();
  }

  #render(item) {
    return renderItem(item, {
      onOpen: (event) => this.#open(item.id, event),
      onAction: (kind) => void this.#act(kind, item.id),
    });
  }

  /** Redraws one item in place, keeping the focus on the same control. */
  #redraw(id) {
    const li = this.#li(id);
    const item = this.#items.get(id);
    if (!li || !item) return;
    const focused = this.#root.activeElement;
    const index =
      focused && li.contains(focused) ? [...li.querySelectorAll('a, button')].indexOf(focused) : -1;
    const next = this.#render(item);
    if (li.classList.contains('linked')) {
      next.classList.add('linked');
      next.tabIndex = -1;
    }
    li.replaceWith(next);
    if (focused === li) next.focus();
    else if (index >= 0) next.querySelectorAll('a, button')[index]?.focus();
  }

  #renderMeta() {
    const empty = this.#order.length === 0 && !this.#$('list').hasAttribute('aria-busy');
    this.#$('empty').hidden = !empty;
    const [title, text] = EMPTY[this.#tab];
    this.#$('empty-title').textContent = title;
    this.#$('empty-text').textContent = text;
    this.#$('more').hidden = this.#cursor === null;
  }

  // ---- live ---------------------------------------------------------------------------------------

  #setLive(state) {
    const live = this.#$('live');
    live.dataset.state = state;
    live.textContent = LIVE_TEXT[state];
  }

  #onLive(item) {
    const shown = this.#items.get(item.id);
    if (!this.#belongs(item)) {
      if (shown) this.#drop(item.id);
    } else if (shown) {
      this.#remember(item);
      this.#redraw(item.id);
    } else if (this.#replacesShown(item)) {
      const at = this.#order.findIndex((id) => id < item.id);
      if (at === -1 && this.#cursor !== null) return this.#scheduleCounts();
      this.#remember(item);
      const node = this.#render(item);
      node.classList.add('fresh');
      const list = this.#$('list');
      if (at === -1) {
        this.#order.push(item.id);
        list.append(node);
      } else {
        list.insertBefore(node, list.children[at]);
        this.#order.splice(at, 0, item.id);
      }
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
    const badge = this.#$('badge');
    const shown = counts.unseen > 99 ? '99+' : String(counts.unseen);
    badge.textContent = shown;
    badge.hidden = counts.unseen === 0;
    badge.dataset.count = String(counts.unseen);
    // The accessible name contains the visible text (WCAG 2.5.3).
    this.#$('bell').setAttribute(
      'aria-label',
      counts.unseen === 0 ? 'Notifications' : `Notifications, ${shown} unseen`,
    );
    this.#$('count').textContent = counts.count === 0 ? '' : `${counts.count} unread`;
    const tabCount = this.#$('unread-tab-count');
    tabCount.textContent = counts.count > 99 ? '99+' : String(counts.count);
    tabCount.hidden = counts.count === 0;
    this.#$('read-all').disabled = counts.count === 0;
    this.#emit('counts', { ...counts });
  }

  // ---- actions ------------------------------------------------------------------------------------

  async #markSeen() {
    if (!this.#client) return;
    try {
      await this.#client.act('seen');
      this.#showCounts({ ...this.#counts, unseen: 0 });
      this.#channel?.postMessage({ kind: 'seen' });
    } catch (err) {
      // A server without seen state: the badge keeps counting unread.
      if (err?.status === 401) this.#fail(err);
    }
  }

  async #markAllRead() {
    try {
      await this.#client.act('read-all');
      this.#applyAllRead();
      this.#channel?.postMessage({ kind: 'read-all' });
      await this.#refreshCounts();
    } catch (err) {
      this.#fail(err);
    }
  }

  #applyAllRead() {
    for (const [id, item] of this.#items) {
      if (item.read) continue;
      this.#items.set(id, { ...item, read: true });
      this.#redraw(id);
    }
  }

  /** The item's main area: marks it read and tells the page, which may cancel the link. */
  #open(id, event) {
    const item = this.#items.get(id);
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
    this.#channel?.postMessage({ kind, id });
    this.#emit(kind, { id });
    await this.#refreshCounts();
  }

  /** What an action does to the list: the item changes, or leaves a tab it no longer belongs to. */
  #apply(kind, id) {
    const item = this.#items.get(id);
    if (!item) return;
    const changed = {
      read: { read: true },
      unread: { read: false },
      archive: { archived: true, read: true },
      unarchive: { archived: false },
    }[kind];
    const next = { ...item, ...changed };
    this.#items.set(id, next);
    if (this.#belongs(next) || (kind === 'read' && this.#tab === 'unread')) {
      this.#redraw(id);
      return;
    }
    const li = this.#li(id);
    const hadFocus = li?.contains(this.#root.activeElement);
    const neighbour = li?.nextElementSibling ?? li?.previousElementSibling;
    this.#drop(id);
    this.#renderMeta();
    if (hadFocus) (neighbour?.querySelector('.item-main') ?? this.#$('list')).focus();
  }

  #fromOtherTab(message) {
    if (message?.kind === 'seen') this.#showCounts({ ...this.#counts, unseen: 0 });
    else if (message?.kind === 'read-all') this.#applyAllRead();
    else if (typeof message?.id === 'string') this.#apply(message.kind, message.id);
    this.#scheduleCounts();
  }
}

if (!customElements.get('fanout-inbox')) customElements.define('fanout-inbox', FanoutInbox);
