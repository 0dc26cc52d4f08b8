import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import {
  HAS_CHROMIUM,
  launchBrowser,
  type Service,
  SKIP_REASON,
  saveScreenshot,
  startService,
} from './support.ts';

const title = HAS_CHROMIUM
  ? '<fanout-inbox> on a third-party page in Chromium'
  : `<fanout-inbox> on a third-party page in Chromium (${SKIP_REASON})`;

/** A person-shaped avatar on a background colour of its own. */
const avatar = (colour: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" fill="#${colour}"/>` +
  '<circle cx="20" cy="16" r="7" fill="#f8fafc"/><path d="M6 38c2-9 8-13 14-13s12 4 14 13z" fill="#f8fafc"/></svg>';

/**
 * Another origin's page (`localhost`, while the service is on `127.0.0.1`): it includes the
 * element's script from the service and puts the element in its own header with a user token.
 */
function thirdPartyPage(serviceUrl: string, token: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Acme · Dashboard</title>
  <script type="module" src="${serviceUrl}/fanout-inbox.js"></script>
  <style>
    body { margin: 0; font: 15px/1.5 system-ui, sans-serif; background: #f8fafc; color: #0f172a; }
    header { display: flex; align-items: center; justify-content: space-between; padding: 8px 16px;
             background: #ffffff; border-bottom: 1px solid #e2e8f0; }
    h1 { font-size: 18px; margin: 0; }
    main { max-width: 960px; margin: 0 auto; padding: 24px 16px; }
    .card { height: 120px; margin: 16px 0; border-radius: 12px; background: #ffffff; border: 1px solid #e2e8f0; }
    @media (prefers-color-scheme: dark) {
      body { background: #020617; color: #e2e8f0; }
      header, .card { background: #0f172a; border-color: #1e293b; }
    }
  </style>
</head>
<body>
  <header><h1>Acme</h1><fanout-inbox api="${serviceUrl}" token="${token}"></fanout-inbox></header>
  <main><h2>Dashboard</h2><p>An app of its own that embeds the inbox.</p>
    <div class="card"></div><div class="card"></div><div class="card"></div></main>
</body>
</html>`;
}

describe.skipIf(!HAS_CHROMIUM)(title, () => {
  let service: Service;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let site: Server;
  let siteUrl = '';
  let page: Page;
  const pages = new Map<string, string>();

  beforeAll(async () => {
    service = await startService('acme');
    browser = await launchBrowser();
    site = createServer((req, res) => {
      const colour = /^\/avatar-([0-9a-f]{6})\.svg$/.exec(req.url ?? '')?.[1];
      if (req.url === '/avatar.svg' || colour !== undefined) {
        res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(avatar(colour ?? '0f766e'));
        return;
      }
      const html = pages.get(req.url ?? '');
      if (html === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://localhost:${(site.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await browser?.dispose();
    site?.close();
    await service?.stop();
  });

  async function post(
    id: string,
    type: string,
    actorId: string,
    recipient: string,
    data = {},
    objectId = `${id}-object`,
  ) {
    const res = await service.api('/v1/events', {
      method: 'POST',
      body: { id, type, actorId, objectId, recipients: [recipient], data },
    });
    expect(res.status).toBe(202);
  }

  /** The user's own API, with their token (what the element calls). */
  function asUser(token: string) {
    return async (path: string, method = 'GET') => {
      const res = await fetch(`${service.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as unknown };
    };
  }

  async function openThirdParty(userId: string, path = `/${userId}`): Promise<Page> {
    pages.set(path, thirdPartyPage(service.url, await service.userToken(userId)));
    const opened = await browser.newPage();
    await opened.goto(`${siteUrl}${path}`);
    return opened;
  }

  const bell = () => page.locator('fanout-inbox #bell');
  const item = (text: string) => page.locator('fanout-inbox li.item', { hasText: text });

  it('shows the bell with the number of unseen notifications, from another origin', async () => {
    // Prepare
    await post('c-1', 'comment', 'bob', 'uma', {
      url: 'https://example.com/posts/1',
      avatarUrl: `${siteUrl}/avatar.svg`,
    });
    await post('f-1', 'follow', 'cyd', 'uma');
    await post('m-1', 'mention', 'dee', 'uma');
    // Act
    page = await openThirdParty('uma');
    // Assess
    await expect.poll(() => page.locator('fanout-inbox #badge').textContent()).toBe('3');
    expect(await bell().getAttribute('aria-label')).toBe('Notifications, 3 unseen');
    expect(new URL(page.url()).origin).not.toBe(new URL(service.url).origin);
  });

  it('opens, lists the items as sentences and marks them seen: the badge goes to 0', async () => {
    // Act
    await bell().click();
    // Assess
    await expect.poll(() => page.locator('fanout-inbox li.item').count()).toBe(3);
    await page.locator('fanout-inbox #live[data-state="live"]').waitFor();
    expect(await page.locator('fanout-inbox #badge').isHidden()).toBe(true);
    expect(await bell().getAttribute('aria-label')).toBe('Notifications');
    const token = await service.userToken('uma');
    await expect
      .poll(async () => (await asUser(token)('/v1/me/inbox/unread-count')).body)
      .toEqual({
        count: 3,
        unseen: 0,
      });
    const texts = await page.locator('fanout-inbox .item-text').allTextContents();
    expect(texts).toEqual(['dee mentioned you', 'cyd started following you', 'bob commented on your post']);
    // The click-through link and the avatar from the event's data.
    expect(await item('bob').locator('a.item-main').getAttribute('href')).toBe('https://example.com/posts/1');
    expect(await item('bob').locator('img').getAttribute('src')).toBe(`${siteUrl}/avatar.svg`);
    expect(await item('cyd').locator('.initials').textContent()).toBe('C');
  });

  it('marks an item read and unread, and the API agrees', async () => {
    const me = asUser(await service.userToken('uma'));
    const find = async (text: string) => {
      const { body } = await me('/v1/me/inbox');
      return (body as { items: { id: string; text: string; read: boolean }[] }).items.find((i) =>
        i.text.includes(text),
      );
    };
    // Act
    await item('cyd')
      .getByRole('button', { name: /^Mark read/ })
      .click();
    // Assess
    await expect.poll(async () => (await find('cyd'))?.read).toBe(true);
    await expect.poll(() => page.locator('fanout-inbox #count').textContent()).toBe('2 unread');
    // Act
    await item('cyd')
      .getByRole('button', { name: /^Mark unread/ })
      .click();
    // Assess
    await expect.poll(async () => (await find('cyd'))?.read).toBe(false);
    await expect.poll(() => page.locator('fanout-inbox #count').textContent()).toBe('3 unread');
  });

  it('archives an item out of All, shows it under Archived (arrow keys) and brings it back', async () => {
    const me = asUser(await service.userToken('uma'));
    const archived = async () =>
      ((await me('/v1/me/inbox?status=archived')).body as { items: { text: string }[] }).items.map(
        (i) => i.text,
      );
    // Act
    await item('dee')
      .getByRole('button', { name: /^Archive/ })
      .click();
    // Assess
    await expect.poll(() => item('dee').count()).toBe(0);
    await expect.poll(archived).toEqual(['dee mentioned you']);
    // Act: keyboard to the Archived tab
    await page.locator('fanout-inbox [role="tab"][aria-selected="true"]').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    // Assess
    expect(await page.locator('fanout-inbox [role="tab"][aria-selected="true"]').textContent()).toBe(
      'Archived',
    );
    await expect.poll(() => page.locator('fanout-inbox li.item').count()).toBe(1);
    await item('dee')
      .getByRole('button', { name: /^Unarchive/ })
      .click();
    await expect.poll(() => page.locator('fanout-inbox li.item').count()).toBe(0);
    await page.locator('fanout-inbox #empty', { hasText: 'Nothing archived' }).waitFor();
    await expect.poll(archived).toEqual([]);
    await page.getByRole('tab', { name: 'All' }).click();
    await expect.poll(() => page.locator('fanout-inbox li.item').count()).toBe(3);
  });

  it('shows only unread items under Unread', async () => {
    // Prepare
    await item('bob')
      .getByRole('button', { name: /^Mark read/ })
      .click();
    await expect.poll(() => page.locator('fanout-inbox #count').textContent()).toBe('1 unread');
    // Act
    await page.getByRole('tab', { name: /^Unread/ }).click();
    // Assess
    await expect
      .poll(() => page.locator('fanout-inbox .item-text').allTextContents())
      .toEqual(['cyd started following you']);
    await page.getByRole('tab', { name: 'All' }).click();
  });

  it('receives a live item without a reload; seen at once while open', async () => {
    // Act
    await post('l-1', 'like', 'eve', 'uma');
    // Assess
    await item('eve liked your post').waitFor();
    expect(await page.locator('fanout-inbox .item-text').first().textContent()).toBe('eve liked your post');
    await expect.poll(() => page.locator('fanout-inbox #count').textContent()).toBe('2 unread');
    const me = asUser(await service.userToken('uma'));
    await expect
      .poll(async () => (await me('/v1/me/inbox/unread-count')).body)
      .toEqual({ count: 2, unseen: 0 });
  });

  it('syncs read state to another tab of the same page', async () => {
    // Prepare
    const other = await browser.newPage();
    await other.goto(page.url());
    await other.locator('fanout-inbox #bell').click();
    await other.locator('fanout-inbox li.item', { hasText: 'eve' }).waitFor();
    // Act
    await item('eve')
      .getByRole('button', { name: /^Mark read/ })
      .click();
    // Assess
    await expect
      .poll(() => other.locator('fanout-inbox li.item', { hasText: 'eve' }).getAttribute('class'))
      .not.toContain('unread');
    await other.close();
  });

  it('closes on Escape and gives the focus back to the bell', async () => {
    // Act
    await page.locator('fanout-inbox #read-all').focus();
    await page.keyboard.press('Escape');
    // Assess
    expect(await page.locator('fanout-inbox #panel').isHidden()).toBe(true);
    expect(await page.evaluate("document.querySelector('fanout-inbox').shadowRoot.activeElement?.id")).toBe(
      'bell',
    );
    await page.keyboard.press('Enter');
    expect(await page.locator('fanout-inbox #panel').isVisible()).toBe(true);
  });

  it('changes a preference switch and an email cadence from the panel, and the API shows them', async () => {
    // Act
    await page.getByRole('button', { name: 'Notification preferences' }).click();
    const mentionPush = page.getByRole('switch', { name: 'mention notifications by push' });
    await expect.poll(() => mentionPush.isChecked()).toBe(true);
    await mentionPush.click();
    await expect
      .poll(() => page.locator('fanout-inbox #fanout-prefs-status').textContent())
      .toBe('mention by push off');
    // Act: social email into the daily digest, at 07:00
    await page.getByLabel('Social email').selectOption('daily');
    await expect
      .poll(() => page.locator('fanout-inbox #fanout-prefs-status').textContent())
      .toBe('social email in the daily digest');
    await page.getByLabel('Daily digest at (your timezone)').selectOption('7');
    await expect
      .poll(() => page.locator('fanout-inbox #fanout-prefs-status').textContent())
      .toBe('Daily digests at 07:00');
    // Assess
    const me = asUser(await service.userToken('uma'));
    const prefs = (await me('/v1/me/preferences')).body as {
      categories: object;
      emailCadence: object;
      digestHour: number;
    };
    expect(prefs.categories).toEqual({ mention: { push: false } });
    expect(prefs.emailCadence).toEqual({ social: 'daily' });
    expect(prefs.digestHour).toBe(7);
    await page.getByRole('button', { name: 'Notification preferences' }).click();
  });

  it('asks tokenProvider again after a 401, and lets the page take over a click (fanout-inbox:click)', async () => {
    // Prepare: a provider whose first token is refused; the page routes clicks itself
    await post('t-1', 'comment', 'zed', 'vic', { url: 'https://example.com/posts/9' });
    const token = await service.userToken('vic');
    pages.set(
      '/provider',
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Provider</title>
       <script type="module" src="${service.url}/fanout-inbox.js"></script></head>
       <body><fanout-inbox api="${service.url}"></fanout-inbox>
       <script type="module">
         const tokens = ['expired.AAAA', ${JSON.stringify(token)}];
         window.calls = 0;
         window.clicked = [];
         const inbox = document.querySelector('fanout-inbox');
         inbox.tokenProvider = async () => tokens[Math.min(window.calls++, 1)];
         inbox.addEventListener('fanout-inbox:click', (e) => { e.preventDefault(); window.clicked.push(e.detail.url); });
       </script></body></html>`,
    );
    const other = await browser.newPage();
    // Act
    await other.goto(`${siteUrl}/provider`);
    await other.locator('fanout-inbox #bell').click();
    const line = other.locator('fanout-inbox li.item', { hasText: 'zed' });
    await line.waitFor();
    await line.locator('a.item-main').click();
    // Assess
    expect(await other.evaluate('window.calls')).toBe(2);
    await expect.poll(() => other.evaluate('window.clicked')).toEqual(['https://example.com/posts/9']);
    await expect.poll(() => line.getAttribute('class')).not.toContain('unread');
    expect(browser.pages()).toHaveLength(3);
    // A bell at the page's left edge opens its popover to the right, on screen.
    expect((await other.locator('fanout-inbox #panel').boundingBox())!.x).toBeGreaterThanOrEqual(0);
    await other.close();
  });

  it('shows "99+" past 99 unseen, and says so in the bell\'s name', async () => {
    // Prepare
    for (let i = 0; i < 101; i++) await post(`many-${i}`, 'follow', `fan-${i}`, 'pat');
    // Act
    const other = await openThirdParty('pat');
    // Assess
    await expect.poll(() => other.locator('fanout-inbox #badge').textContent()).toBe('99+');
    expect(await other.locator('fanout-inbox #bell').getAttribute('aria-label')).toBe(
      'Notifications, 99+ unseen',
    );
    expect(await axeViolations(other)).toEqual([]);
    await other.close();
  });

  it('refreshes relative times every 30 s', async () => {
    // Prepare: the page's clock under the test's control, from now
    await post('r-1', 'follow', 'wes', 'rae');
    pages.set('/rae', thirdPartyPage(service.url, await service.userToken('rae')));
    const other = await browser.newPage();
    await other.clock.install({ time: new Date() });
    await other.goto(`${siteUrl}/rae`);
    await other.locator('fanout-inbox #bell').click();
    const time = other.locator('fanout-inbox li.item time');
    await expect.poll(() => time.textContent()).toBe('just now');
    // Act
    await other.clock.fastForward('05:00');
    // Assess
    await expect.poll(() => time.textContent()).toBe('5 minutes ago');
    await other.close();
  });

  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ] as const) {
    it(`passes axe (WCAG 2.1 AA) with the inbox open at ${width}×${height}`, async () => {
      // Prepare
      await page.setViewportSize({ width, height });
      await page.reload();
      await page.locator('fanout-inbox #bell').click();
      await page.locator('fanout-inbox li.item').first().waitFor();
      // Assess: the popover fits the window
      const box = await page.locator('fanout-inbox #panel').boundingBox();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(width);
      expect(await axeViolations(page)).toEqual([]);
    });
  }

  it('takes the screenshots of the docs: light, dark and a phone (FANOUT_UPDATE_SCREENSHOTS=1 copies them)', async () => {
    // Prepare: an inbox with some history, two of it read
    const look = (colour: string) => ({ avatarUrl: `${siteUrl}/avatar-${colour}.svg` });
    const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    const history = async (
      id: string,
      type: string,
      actorId: string,
      data: object,
      minutes: number,
      objectId = `${id}-object`,
    ) => {
      const res = await service.api('/v1/events', {
        method: 'POST',
        body: { id, type, actorId, objectId, recipients: ['maya'], data, occurredAt: ago(minutes) },
      });
      expect(res.status).toBe(202);
    };
    await history('s-1', 'follow', 'noah.kim', look('0369a1'), 26 * 60);
    await history('s-2', 'comment', 'lena', { url: 'https://example.com/p/2', ...look('be185d') }, 180);
    await history('s-3', 'post', 'omar', { url: 'https://example.com/p/3' }, 42);
    for (const [i, actor] of ['ana', 'bo', 'cy', 'di', 'ed', 'flo'].entries()) {
      await history(`s-like-${i}`, 'like', actor, {}, 12 - i, 'launch-post');
    }
    await history('s-4', 'mention', 'priya.s', { url: 'https://example.com/p/4', ...look('15803d') }, 0);
    const maya = await service.userToken('maya');
    const me = asUser(maya);
    await expect
      .poll(async () => ((await me('/v1/me/inbox')).body as { items: unknown[] }).items.length)
      .toBe(5);
    const { items } = (await me('/v1/me/inbox')).body as { items: { id: string; actorId: string }[] };
    for (const read of items.filter((i) => ['noah.kim', 'lena'].includes(i.actorId))) {
      expect((await me(`/v1/me/inbox/${read.id}/read`, 'POST')).status).toBe(204);
    }
    const shots = await browser.newPage();
    pages.set('/maya', thirdPartyPage(service.url, maya));
    for (const [name, width, height, scheme] of [
      ['inbox-light.png', 1280, 800, 'light'],
      ['inbox-dark.png', 1280, 800, 'dark'],
      ['inbox-phone.png', 390, 844, 'light'],
    ] as const) {
      // Act
      await shots.setViewportSize({ width, height });
      await shots.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      await shots.goto(`${siteUrl}/maya`);
      await shots.locator('fanout-inbox #bell').click();
      await expect.poll(() => shots.locator('fanout-inbox li.item').count()).toBe(5);
      await shots.locator('fanout-inbox #live[data-state="live"]').waitFor();
      await expect.poll(() => shots.locator('fanout-inbox img').evaluateAll((imgs) => imgs.length)).toBe(3);
      // The avatars drawn, the focus ring (from the click) off the bell.
      await shots.waitForFunction(
        "[...document.querySelector('fanout-inbox').shadowRoot.querySelectorAll('img')].every((i) => i.complete)",
      );
      await shots.locator('fanout-inbox #panel').focus();
      // Assess
      await saveScreenshot(shots, name);
    }
    expect(await shots.locator('fanout-inbox .item-text').first().textContent()).toBe(
      'priya.s mentioned you',
    );
    await shots.close();
  });
});
