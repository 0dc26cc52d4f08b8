// The inbox element's markup: the bell, the popover with its header, tabs, list and footer, and
// the icons. Built once per element into its shadow root.

import { STYLES } from './inbox-styles.js';

export const TABS = [
  ['all', 'All'],
  ['unread', 'Unread'],
  ['archived', 'Archived'],
];
export const EMPTY = {
  all: ['You’re all caught up', 'New notifications appear here as they arrive.'],
  unread: ['No unread notifications', 'Everything here has been read.'],
  archived: ['Nothing archived', 'Archived notifications are kept here.'],
};
const BELL =
  'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6v-5a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z';
const GEAR =
  'M19.14 12.94a7.5 7.5 0 0 0 .05-.94 7.5 7.5 0 0 0-.05-.94l2.03-1.58a.5.5 0 0 0 .12-.61l-1.92-3.32a.5.5 0 0 0-.6-.22l-2.39.96a7 7 0 0 0-1.62-.94l-.36-2.54A.5.5 0 0 0 13.9 2.5h-3.84a.5.5 0 0 0-.49.42l-.36 2.54a7 7 0 0 0-1.62.94l-2.39-.96a.5.5 0 0 0-.6.22L2.68 8.98a.5.5 0 0 0 .12.61l2.03 1.58a7.5 7.5 0 0 0 0 1.88l-2.03 1.58a.5.5 0 0 0-.12.61l1.92 3.32c.13.22.39.3.6.22l2.39-.96c.5.39 1.04.7 1.62.94l.36 2.54c.04.24.25.42.49.42h3.84c.24 0 .45-.18.49-.42l.36-2.54a7 7 0 0 0 1.62-.94l2.39.96c.22.08.47 0 .6-.22l1.92-3.32a.5.5 0 0 0-.12-.61ZM12 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7Z';

let sheet;
/** The stylesheet, adopted (constructed: allowed by a strict style-src), else a <style>. */
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

export const LIVE_TEXT = { live: 'Live', connecting: 'Connecting…', offline: 'Offline' };

/** Fills `root` (a shadow root) with the element's markup; returns its element by id. */
export function buildShadow(root) {
  adopt(root);
  const template = document.createElement('template');
  template.innerHTML = TEMPLATE;
  root.append(template.content.cloneNode(true));
  const $ = (id) => root.getElementById(id);
  $('bell').prepend(svg(BELL));
  $('prefs-button').append(svg(GEAR, 20));
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
    $('tabs').append(tab);
  }
  return $;
}

/** The tab an arrow key, Home or End moves to from `current`; undefined for other keys. */
export function tabAfterKey(key, current) {
  const keys = TABS.map(([k]) => k);
  const at = keys.indexOf(current);
  const next = {
    ArrowRight: (at + 1) % keys.length,
    ArrowLeft: (at + keys.length - 1) % keys.length,
    Home: 0,
    End: keys.length - 1,
  }[key];
  return next === undefined ? undefined : keys[next];
}

/** The badge (unseen, "99+" past 99), the bell's name, the header's and the Unread tab's counts. */
export function showCounts($, counts) {
  const badge = $('badge');
  const shown = counts.unseen > 99 ? '99+' : String(counts.unseen);
  badge.textContent = shown;
  badge.hidden = counts.unseen === 0;
  badge.dataset.count = String(counts.unseen);
  // The accessible name contains the visible text (WCAG 2.5.3, axe's label-content-name-mismatch).
  $('bell').setAttribute(
    'aria-label',
    counts.unseen === 0 ? 'Notifications' : `Notifications, ${shown} unseen`,
  );
  $('count').textContent = counts.count === 0 ? '' : `${counts.count} unread`;
  const tabCount = $('unread-tab-count');
  tabCount.textContent = counts.count > 99 ? '99+' : String(counts.count);
  tabCount.hidden = counts.count === 0;
  $('read-all').disabled = counts.count === 0;
}

/** Where the popover goes: a phone-sized window gets it across its width, from under the bell down. */
export function placePanel($) {
  const panel = $('panel');
  const narrow = window.innerWidth <= 480;
  panel.classList.toggle('narrow', narrow);
  if (narrow) {
    const top = Math.round($('bell').getBoundingClientRect().bottom + 8);
    panel.style.top = `${top}px`;
    panel.style.height = `${window.innerHeight - top - 8}px`;
    panel.style.maxHeight = 'none';
  } else {
    panel.style.top = '';
    panel.style.height = '';
    panel.style.maxHeight = '';
    // Under the bell, its right edges aligned; a bell near the left edge opens it to the right.
    const bell = $('bell').getBoundingClientRect();
    panel.classList.toggle('from-left', bell.right - panel.offsetWidth < 8);
  }
}

/** Swaps the list (tabs, "Mark all read") for the preferences panel, or back. */
export function showPreferencesView($, show) {
  $('prefs-button').setAttribute('aria-expanded', String(show));
  $('prefs-view').hidden = !show;
  $('tabpanel').hidden = show;
  $('tabs').hidden = show;
  $('read-all').hidden = show;
  $('title').firstChild.textContent = show ? 'Preferences ' : 'Notifications ';
  $('count').hidden = show;
}
