// How one inbox item looks: avatar, sentence, relative time, unread dot and its actions. Text from
// the server is only ever set as textContent; a link is used only when it is http or https.

const COUNT = new Intl.NumberFormat('en');
const TIME = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const ICONS = {
  read: 'M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z',
  unread: 'M20 4H4a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2Zm0 4-8 5-8-5V6l8 5 8-5Z',
  archive:
    'M20.54 5.23 19.15 3.55A1.5 1.5 0 0 0 18 3H6c-.47 0-.88.21-1.16.55L3.46 5.23A2 2 0 0 0 3 6.5V19a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6.5c0-.48-.17-.93-.46-1.27ZM12 17.5 6.5 12H10v-2h4v2h3.5zM5.12 5l.81-1h12l.94 1z',
  unarchive:
    'M20.55 5.22 19.16 3.54A1.5 1.5 0 0 0 18 3H6c-.47 0-.88.21-1.17.55L3.45 5.22A2 2 0 0 0 3 6.5V19a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6.5c0-.48-.17-.93-.45-1.28ZM12 9.5l5.5 5.5H14v2h-4v-2H6.5zM5.12 5l.82-1h12l.93 1z',
};

/** An http(s) URL as a string, else null: the server checks this too, a client checks again. */
export function safeUrl(value) {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** "in 5 minutes", "2 hours ago", "yesterday": relative to now, refreshed by the element. */
export function ago(iso, now = Date.now()) {
  const s = Math.round((Date.parse(iso) - now) / 1000);
  if (Math.abs(s) < 45) return 'just now';
  if (Math.abs(s) < 3600) return TIME.format(Math.round(s / 60), 'minute');
  if (Math.abs(s) < 86400) return TIME.format(Math.round(s / 3600), 'hour');
  if (Math.abs(s) < 86400 * 30) return TIME.format(Math.round(s / 86400), 'day');
  return new Date(iso).toLocaleDateString();
}

/** Who did it, for a server that sends no `text`: "Ana", "Ana and Bo", "Ana, Bo and 3 others". */
function actorsText(item) {
  const group = item.group;
  if (!group || group.actorCount <= 1) return item.actorId;
  const names = group.actors;
  if (group.actorCount <= names.length) return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  const others = group.actorCount - 2;
  return `${names.slice(0, 2).join(', ')} and ${COUNT.format(others)} ${others === 1 ? 'other' : 'others'}`;
}

/** The sentence: the server's localized `text`, else one made from type, actor and data. */
export function textOf(item) {
  if (typeof item.text === 'string' && item.text !== '') return item.text;
  const extra = typeof item.data?.text === 'string' ? item.data.text : item.data?.title;
  const what =
    item.type === 'like'
      ? `${actorsText(item)} liked ${item.objectId ? `your post ${item.objectId}` : 'your post'}`
      : `${actorsText(item)} · ${item.type}${item.objectId ? ` on ${item.objectId}` : ''}`;
  return typeof extra === 'string' && extra !== '' ? `${what}: ${extra}` : what;
}

/** The newest actor's initials: "Ana Lopez" → "AL", "bob" → "B". */
export function initials(item) {
  const name = item.group?.actors?.[0] ?? item.actorId ?? '?';
  const words = String(name)
    .split(/[\s._-]+/)
    .filter((w) => w !== '');
  return words
    .slice(0, 2)
    .map((w) => w[0].toUpperCase())
    .join('');
}

/** A stable hue per actor, so one person keeps one colour. */
function hueOf(name) {
  let h = 0;
  for (const ch of String(name)) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

function icon(name) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', ICONS[name]);
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function avatar(item) {
  const box = el('span', 'avatar');
  box.setAttribute('aria-hidden', 'true');
  const src = safeUrl(item.avatarUrl);
  const letters = el('span', 'initials', initials(item));
  box.dataset.hue = String(hueOf(item.group?.actors?.[0] ?? item.actorId) % 8);
  box.append(letters);
  if (src) {
    const img = el('img');
    img.alt = '';
    img.src = src;
    img.referrerPolicy = 'no-referrer';
    img.loading = 'lazy';
    img.addEventListener('error', () => img.remove());
    box.append(img);
  }
  return box;
}

function actionButton(kind, label, text, onAction) {
  const button = el('button', `action ${kind}`);
  button.type = 'button';
  button.dataset.action = kind;
  button.setAttribute('aria-label', `${label}: ${text}`);
  button.title = label;
  button.append(icon(kind));
  button.addEventListener('click', (event) => {
    event.stopPropagation();
    onAction(kind);
  });
  return button;
}

/**
 * One `<li>` for `item`. `onOpen()` runs when its main area is activated (it marks read and
 * opens the link); `onAction(kind)` for read, unread, archive and unarchive.
 */
export function renderItem(item, { onOpen, onAction }) {
  const text = textOf(item);
  const li = el('li', 'item');
  li.classList.toggle('unread', !item.read);
  li.classList.toggle('archived', Boolean(item.archived));
  li.dataset.id = item.id;
  const url = safeUrl(item.url);
  const main = url ? el('a', 'item-main') : el('button', 'item-main');
  if (url) {
    main.href = url;
    main.target = '_blank';
    main.rel = 'noopener noreferrer';
  } else {
    main.type = 'button';
  }
  main.addEventListener('click', (event) => onOpen(event));
  const body = el('span', 'item-body');
  body.append(el('span', 'item-text', text));
  const meta = el('span', 'item-meta');
  const time = el('time', '', ago(item.createdAt));
  time.dateTime = item.createdAt;
  time.title = new Date(item.createdAt).toLocaleString();
  // The catalog's headline ("New comment") as the kind, beside the time.
  if (typeof item.title === 'string' && item.title !== '')
    meta.append(el('span', 'item-title', item.title), ' · ');
  meta.append(time);
  if (!item.read) meta.append(el('span', 'visually-hidden', ' · unread'));
  body.append(meta);
  main.append(avatar(item), body);
  const dot = el('span', 'dot');
  dot.setAttribute('aria-hidden', 'true');
  const actions = el('span', 'actions');
  actions.append(
    item.read
      ? actionButton('unread', 'Mark unread', text, onAction)
      : actionButton('read', 'Mark read', text, onAction),
    item.archived
      ? actionButton('unarchive', 'Unarchive', text, onAction)
      : actionButton('archive', 'Archive', text, onAction),
  );
  li.append(main, dot, actions);
  return li;
}

/** Redraws every `<time>` under `root` from its datetime. */
export function refreshTimes(root) {
  const now = Date.now();
  for (const time of root.querySelectorAll('time[datetime]')) time.textContent = ago(time.dateTime, now);
}
