import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import {
  artifactsDir,
  HAS_CHROMIUM,
  launchBrowser,
  type Service,
  SKIP_REASON,
  startService,
} from './support.ts';

const title = HAS_CHROMIUM
  ? 'notification center in Chromium'
  : `notification center in Chromium (${SKIP_REASON})`;

describe.skipIf(!HAS_CHROMIUM)(title, () => {
  let service: Service;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;

  beforeAll(async () => {
    service = await startService();
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.dispose();
    await service?.stop();
  });

  async function post(id: string, actorId: string, text: string, recipients: string[]) {
    const res = await service.api('/v1/events', {
      method: 'POST',
      body: { id, type: 'comment', actorId, objectId: 'photo-7', recipients, data: { text } },
    });
    expect(res.status).toBe(202);
  }

  async function signIn(target: Page, userId: string) {
    await target.goto(`${service.url}/`);
    await target.getByLabel('User token').fill(await service.userToken(userId));
    await target.getByRole('button', { name: 'Open inbox' }).click();
    await target.locator('fanout-inbox #live[data-state="live"]').waitFor();
  }

  it('opens the inbox element after sign-in, shows new notifications live and marks one read', async () => {
    // Prepare
    await post('welcome', 'carol', 'Welcome aboard!', ['alice']);
    await signIn(page, 'alice');
    await page.locator('fanout-inbox li.item', { hasText: 'carol' }).waitFor();
    // Act
    await post('comment-1', 'bob', 'Nice photo!', ['alice']);
    await post('comment-2', 'dave', 'Where was this taken?', ['alice']);
    const arrived = page.locator('fanout-inbox li.item', { hasText: 'bob' });
    await arrived.waitFor();
    await page.locator('fanout-inbox li.item', { hasText: 'dave' }).waitFor();
    await expect.poll(() => page.locator('fanout-inbox #count').textContent()).toBe('3 unread');
    await arrived.getByRole('button', { name: /^Mark read/ }).click();
    // Assess
    await expect.poll(() => page.locator('fanout-inbox #count').textContent()).toBe('2 unread');
    expect(await arrived.getAttribute('class')).not.toContain('unread');
    // Open, so everything is seen: the bell shows no badge and says so.
    await expect
      .poll(() => page.locator('fanout-inbox #bell').getAttribute('aria-label'))
      .toBe('Notifications');
    expect(await page.locator('fanout-inbox #announce').textContent()).toMatch(/^New notification: /);
    const texts = await page.locator('fanout-inbox .item-text').allTextContents();
    expect(texts.map((t) => t.split(/[ ·]/)[0])).toEqual(['dave', 'bob', 'carol']);
    const shot = join(await artifactsDir(), 'notification-center.png');
    await page.screenshot({ path: shot });
  });

  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ] as const) {
    it(`has the inbox header on screen after sign-in at ${width}×${height}, and passes axe`, async () => {
      // Prepare
      const fresh = await browser.newPage();
      await fresh.setViewportSize({ width, height });
      // Act
      await signIn(fresh, 'alice');
      await fresh.locator('fanout-inbox li.item').first().waitFor();
      // Assess
      for (const id of ['title', 'read-all', 'bell']) {
        const box = await fresh.locator(`fanout-inbox #${id}`).boundingBox();
        expect(box!.y).toBeGreaterThanOrEqual(0);
        expect(box!.y + box!.height).toBeLessThanOrEqual(height);
        expect(box!.x + box!.width).toBeLessThanOrEqual(width);
      }
      expect(await fresh.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
      expect(await axeViolations(fresh)).toEqual([]);
      await fresh.close();
    });
  }

  it('marks everything read at once', async () => {
    // Act
    await page.getByRole('button', { name: 'Mark all read' }).click();
    // Assess
    await expect.poll(() => page.locator('fanout-inbox #count').textContent()).toBe('');
    expect(await page.locator('fanout-inbox li.item.unread').count()).toBe(0);
  });

  it('loads older pages by cursor as the list scrolls', async () => {
    // Prepare
    for (let i = 0; i < 25; i++) await post(`bulk-${i}`, 'erin', `bulk note ${i}`, ['frank']);
    const fresh = await browser.newPage();
    await signIn(fresh, 'frank');
    await expect.poll(() => fresh.locator('fanout-inbox li.item').count()).toBeGreaterThanOrEqual(20);
    // Act
    await fresh.locator('fanout-inbox #sentinel').scrollIntoViewIfNeeded();
    // Assess
    await expect.poll(() => fresh.locator('fanout-inbox li.item').count()).toBe(25);
    expect(await fresh.locator('fanout-inbox #more').isHidden()).toBe(true);
    await fresh.close();
  });

  it('shows the likes of one post as one line that grows live: "Ana, Bo and 3 others liked…"', async () => {
    // Prepare: two likes before the page opens
    const like = async (id: string, actorId: string) => {
      const res = await service.api('/v1/events', {
        method: 'POST',
        body: { id, type: 'like', actorId, objectId: 'photo-9', recipients: ['gina'] },
      });
      expect(res.status).toBe(202);
    };
    await like('like-1', 'Cy');
    await like('like-2', 'Di');
    const fresh = await browser.newPage();
    await signIn(fresh, 'gina');
    await fresh.locator('fanout-inbox li.item', { hasText: 'Di and Cy liked your post' }).waitFor();
    // Act: three more likers while the page is open, and a repeated like
    await like('like-3', 'Ed');
    await like('like-4', 'Bo');
    await like('like-5', 'Ana');
    await like('like-6', 'Cy');
    // Assess: one line, replaced in place as it grew
    // The catalog's list format may set an Oxford comma.
    await fresh
      .locator('fanout-inbox li.item', { hasText: /Ana, Bo,? and 3 others liked your post/ })
      .waitFor();
    await expect.poll(() => fresh.locator('fanout-inbox li.item').count()).toBe(1);
    await expect.poll(() => fresh.locator('fanout-inbox #count').textContent()).toBe('1 unread');
    await fresh.close();
  });

  it('refuses a token that is not valid and stays on the sign-in form', async () => {
    // Prepare
    const fresh = await browser.newPage();
    await fresh.goto(`${service.url}/`);
    // Act
    await fresh.getByLabel('User token').fill('not-a-token.AAAA');
    await fresh.getByRole('button', { name: 'Open inbox' }).click();
    // Assess
    await expect.poll(() => fresh.locator('#sign-in-error').textContent()).toMatch(/not accepted/);
    expect(await fresh.locator('fanout-inbox').count()).toBe(0);
    await fresh.close();
  });
  it("changes a preference switch from the panel, and the API shows it next to the tenant's fields", async () => {
    // Prepare: the tenant stored consent and a timezone for erin.
    const put = await service.api('/v1/users/erin/preferences', {
      method: 'PUT',
      body: { timezone: 'Europe/Paris', consent: { push: true, email: true } },
    });
    expect(put.status).toBe(200);
    const prefsPage = await browser.newPage();
    await signIn(prefsPage, 'erin');
    // Act
    await prefsPage.getByRole('button', { name: 'Notification preferences' }).click();
    const socialEmail = prefsPage.getByRole('switch', { name: 'social notifications by email' });
    await expect.poll(() => socialEmail.isChecked()).toBe(true);
    await socialEmail.click();
    await expect
      .poll(() => prefsPage.locator('fanout-inbox #fanout-prefs-status').textContent())
      .toBe('social by email off');
    // Assess
    const res = await service.api('/v1/users/erin/preferences');
    const prefs = (await res.json()) as { timezone: string; consent: object; categories: object };
    expect(prefs.categories).toEqual({ social: { email: false } });
    expect(prefs.timezone).toBe('Europe/Paris');
    expect(prefs.consent).toEqual({ push: true, email: true });
    expect(await prefsPage.getByRole('switch', { name: 'social notifications by push' }).isChecked()).toBe(
      true,
    );
    await prefsPage.close();
  });
});
