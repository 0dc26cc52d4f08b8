import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePushService, startFakePushService } from '../../fakes/fake-push-service.ts';
import { HAS_CHROMIUM, launchBrowser, type Service, SKIP_REASON, startService } from './support.ts';

/**
 * Web push in Chromium, in two honest halves. Chromium's PushManager subscribes only at its own
 * push service (Google's), which a test cannot reach, so no real browser subscription exists here:
 * 1. server → push service: a subscription the test draws (as a browser would: P-256 keys, auth
 *    secret) is registered through the API, and a posted event reaches the local push service fake
 *    once, signed with the server's VAPID key and decrypted there with the subscription's keys;
 * 2. push service → page: the page registers `/sw.js`, and that very decrypted payload is handed
 *    to the service worker as a push message (DevTools' `ServiceWorker.deliverPushMessage`, what
 *    Chromium does with a push it received), which shows it as a notification tagged by its topic.
 * Deleting the event then makes the server send a withdrawal to the same push service under the
 * same Topic; handed to the worker the same way, it closes that notification.
 */
const title = HAS_CHROMIUM ? 'web push in Chromium' : `web push in Chromium (${SKIP_REASON})`;

describe.skipIf(!HAS_CHROMIUM)(title, () => {
  let service: Service;
  let push: FakePushService;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;

  beforeAll(async () => {
    push = await startFakePushService();
    service = await startService();
    browser = await launchBrowser();
    await browser.grantPermissions(['notifications'], { origin: service.url });
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.dispose();
    await service?.stop();
    await push?.close();
  });

  /** `fetch` on the service as the signed-in user, as the page's own calls are. */
  const asUser = (token: string) => (path: string, method: string, body?: unknown) =>
    fetch(`${service.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  /** Waits (within the test's own time limit) until `check` holds. */
  async function until<T>(check: () => T | undefined | Promise<T | undefined>): Promise<T> {
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('offers "Enable browser notifications" and runs the service worker served at /sw.js', async () => {
    // Prepare
    const token = await service.userToken('alice');
    await page.goto(`${service.url}/`);
    await page.getByLabel('User token').fill(token);
    // Act
    await page.getByRole('button', { name: 'Open inbox' }).click();
    // Assess
    await page.getByRole('button', { name: 'Enable browser notifications' }).waitFor();
    // Page-side code as text: the tests compile without the DOM's types.
    const state = await until(async () => {
      const now = await page.evaluate('navigator.serviceWorker.ready.then((r) => r.active?.state)');
      return now === 'activated' ? now : undefined;
    });
    expect(state).toBe('activated');
    const sw = await fetch(`${service.url}/sw.js`);
    expect(sw.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(sw.headers.get('service-worker-allowed')).toBe('/');
  });

  it('delivers a posted event once to the push service, and the worker shows it decrypted', async () => {
    // Prepare: the subscription a browser would have made, registered as the page registers it
    const user = asUser(await service.userToken('alice'));
    const subscribed = push.subscribe();
    expect((await user('/v1/me/preferences', 'PATCH', { consent: { push: true } })).status).toBe(200);
    expect((await user('/v1/me/webpush/subscriptions', 'POST', subscribed.subscription)).status).toBe(204);
    const key = (await (await user('/v1/me/webpush/vapid-public-key', 'GET')).json()) as {
      publicKey: string;
    };
    // Act 1: server → push service
    const posted = await service.api('/v1/events', {
      method: 'POST',
      body: { id: 'mention-1', type: 'mention', actorId: 'bob', objectId: 'post-3', recipients: ['alice'] },
    });
    expect(posted.status).toBe(202);
    const [received] = await until(() => {
      const got = push.receivedBy(subscribed.id);
      return got.length > 0 ? got : undefined;
    });
    // Act 2: push service → the page's service worker, whose report the page collects
    await page.evaluate(
      `window.pushShown = [];
       navigator.serviceWorker.addEventListener('message', (e) => window.pushShown.push(e.data));`,
    );
    const cdp = await browser.newCDPSession(page);
    const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
    await cdp.send('ServiceWorker.enable');
    const registration = await until(() =>
      registrations.find((r) => r.scopeURL === `${service.url}/` && !r.isDeleted),
    );
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: service.url,
      registrationId: registration.registrationId,
      data: received!.payload,
    });
    // Assess
    expect(push.refusals).toEqual([]);
    expect(received!.vapidKey).toBe(key.publicKey);
    const payload = JSON.parse(received!.payload) as { title: string; body: string; tag: string };
    expect(payload.tag).toBe(received!.topic);
    expect(payload.body).toMatch(/bob/);
    // Headless Chromium shows nothing on a screen: the worker reports what it has shown.
    const report = await until(async () => {
      const got = (await page.evaluate('window.pushShown')) as { shown: unknown[] }[];
      return got.length > 0 ? got : undefined;
    });
    expect(report[0]!.shown).toEqual([{ title: payload.title, body: payload.body, tag: payload.tag }]);
    // Once: nothing more reached the push service.
    expect(push.receivedBy(subscribed.id)).toHaveLength(1);

    // Act 3: the push's click-through link opens the inbox on its item
    const { url, id } = JSON.parse(received!.payload) as { url: string; id: string };
    expect(url).toBe(`/#${id}`);
    const linked = await browser.newPage();
    await linked.goto(`${service.url}${url}`);
    const signIn = linked.getByLabel('User token');
    if (await signIn.isVisible()) {
      await signIn.fill(await service.userToken('alice'));
      await linked.getByRole('button', { name: 'Open inbox' }).click();
    }
    // Assess: the item is marked and has the focus
    const item = linked.locator(`fanout-inbox li[data-id="${id}"]`);
    await item.waitFor();
    expect(await item.getAttribute('class')).toMatch(/\blinked\b/);
    expect(
      await linked.evaluate("document.querySelector('fanout-inbox').shadowRoot.activeElement?.dataset?.id"),
    ).toBe(id);
    await linked.close();

    // Act 4: the event is deleted; the server withdraws the push it delivered, through the push
    // service, and the worker closes the notification that message names
    const deleted = await service.api('/v1/events/mention-1', { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    const [, withdrawal] = await until(() => {
      const got = push.receivedBy(subscribed.id);
      return got.length > 1 ? got : undefined;
    });
    expect(withdrawal!.topic).toBe(received!.topic);
    expect(JSON.parse(withdrawal!.payload)).toEqual({ type: 'retract', tag: payload.tag });
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: service.url,
      registrationId: registration.registrationId,
      data: withdrawal!.payload,
    });
    // Assess: closed, nothing left under its tag
    const retracted = await until(async () => {
      const got = (await page.evaluate('window.pushShown')) as {
        type: string;
        tag?: string;
        shown: unknown[];
      }[];
      return got.find((m) => m.type === 'push-retracted');
    });
    expect(retracted).toEqual({ type: 'push-retracted', tag: payload.tag, shown: [] });
  });
});
