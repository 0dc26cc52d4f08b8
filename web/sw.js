// The notification center's service worker: shows a web push (RFC 8030) as a system notification
// and opens the item on a click. The push service decrypted nothing: the browser hands this worker
// the payload it decrypted with the subscription's keys, the JSON `src/adapters/push/webpush/
// payload.ts` writes: {title, body, tag, id, url, category, data}. A retraction message,
// {type: 'retract', tag}, closes the notification shown under that tag instead (an event deleted
// after its push was shown: docs/push.md, "Retracted notifications").

self.addEventListener('install', () => {
  // Nothing to cache: take over at once, so a page that just registered can subscribe.
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('push', (event) => {
  event.waitUntil(show(event.data));
});

/** A payload that is no JSON still shows, as text: the user should see that something came. */
async function show(data) {
  let payload;
  try {
    payload = data?.json() ?? {};
  } catch {
    payload = { body: data?.text() ?? '' };
  }
  if (payload.type === 'retract') return retract(payload.tag);
  const title =
    typeof payload.title === 'string' && payload.title !== '' ? payload.title : 'New notification';
  const url = sameOriginUrl(payload.url);
  // The tag is the push's Topic: a re-send of one notification replaces the one shown.
  await self.registration.showNotification(title, {
    body: typeof payload.body === 'string' ? payload.body : '',
    ...(typeof payload.tag === 'string' && payload.tag !== '' ? { tag: payload.tag, renotify: false } : {}),
    data: { url, id: typeof payload.id === 'string' ? payload.id : null },
  });
  // Open pages hear of it (the live inbox shows the item anyway); the notifications now shown
  // under this tag say whether a re-send replaced the earlier one.
  const shown = await self.registration.getNotifications(payload.tag ? { tag: payload.tag } : {});
  const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const page of pages) {
    page.postMessage({
      type: 'push-shown',
      shown: shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag })),
    });
  }
}

/**
 * Closes the notifications shown under `tag` (the retracted notification's topic). Only a tag of
 * this worker's own notifications is matched: a retraction never touches another site's.
 */
async function retract(tag) {
  if (typeof tag !== 'string' || tag === '') return;
  for (const shown of await self.registration.getNotifications({ tag })) shown.close();
  const left = await self.registration.getNotifications({ tag });
  const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const page of pages) {
    page.postMessage({
      type: 'push-retracted',
      tag,
      shown: left.map((n) => ({ title: n.title, tag: n.tag })),
    });
  }
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(open(sameOriginUrl(event.notification.data?.url)));
});

/** Focuses a page of the notification center and shows the item there, or opens one. */
async function open(url) {
  const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const page = pages.find((p) => new URL(p.url).pathname === new URL(url).pathname);
  if (page !== undefined) {
    await page.focus();
    // navigate() throws on a page this worker does not control: the focused page is enough then.
    if (page.url !== url && 'navigate' in page) await page.navigate(url).catch(() => {});
    return;
  }
  await self.clients.openWindow(url);
}

/** Only a link of this origin: a push must never send the user somewhere else. */
function sameOriginUrl(value) {
  try {
    const url = new URL(typeof value === 'string' ? value : '/', self.location.origin);
    return url.origin === self.location.origin ? url.href : new URL('/', self.location.origin).href;
  } catch {
    return new URL('/', self.location.origin).href;
  }
}
