import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  artifactsDir,
  DOCS,
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

  it('shows a new notification live, marks it read and lowers the count', async () => {
    // Prepare
    await post('welcome', 'carol', 'Welcome aboard!', ['alice']);
    await page.goto(`${service.url}/`);
    await page.getByLabel('User token').fill(await service.userToken('alice'));
    await page.getByRole('button', { name: 'Open inbox' }).click();
    await page.locator('#live[data-state="live"]').waitFor();
    await page.locator('.item', { hasText: 'Welcome aboard!' }).waitFor();
    // Act
    await post('comment-1', 'bob', 'Nice photo!', ['alice']);
    await post('comment-2', 'dave', 'Where was this taken?', ['alice']);
    const arrived = page.locator('.item', { hasText: 'Nice photo!' });
    await arrived.waitFor();
    await page.locator('.item', { hasText: 'Where was this taken?' }).waitFor();
    await expect.poll(() => page.locator('#badge').textContent()).toBe('3');
    await arrived.getByRole('button', { name: /^Mark read/ }).click();
    // Assess
    await expect.poll(() => page.locator('#badge').textContent()).toBe('2');
    expect(await arrived.getAttribute('class')).not.toContain('unread');
    expect(await page.locator('#bell').getAttribute('aria-label')).toBe('Unread notifications: 2');
    expect(await page.locator('#announce').textContent()).toMatch(/^New notification: /);
    const texts = await page.locator('.item .item-text').allTextContents();
    expect(texts.map((t) => t.split(': ').at(-1))).toEqual([
      'Where was this taken?',
      'Nice photo!',
      'Welcome aboard!',
    ]);
    const shot = join(await artifactsDir(), 'notification-center.png');
    await page.screenshot({ path: shot, fullPage: true });
    // The screenshot in the docs changes only when asked: a test run must not dirty the checkout.
    if (process.env.FANOUT_UPDATE_SCREENSHOTS === '1') {
      await copyFile(shot, join(DOCS, 'notification-center.png'));
    }
  });

  it('marks everything read at once', async () => {
    // Act
    await page.getByRole('button', { name: 'Mark all read' }).click();
    // Assess
    await expect.poll(() => page.locator('#badge').textContent()).toBe('0');
    expect(await page.locator('.item.unread').count()).toBe(0);
  });

  it('loads older pages by cursor as the list scrolls', async () => {
    // Prepare
    for (let i = 0; i < 25; i++) await post(`bulk-${i}`, 'erin', `bulk note ${i}`, ['frank']);
    const token = await service.userToken('frank');
    const fresh = await browser.newPage();
    await fresh.goto(`${service.url}/`);
    await fresh.getByLabel('User token').fill(token);
    await fresh.getByRole('button', { name: 'Open inbox' }).click();
    await expect.poll(() => fresh.locator('.item').count()).toBeGreaterThanOrEqual(20);
    // Act
    await fresh.locator('#sentinel').scrollIntoViewIfNeeded();
    // Assess
    await expect.poll(() => fresh.locator('.item').count()).toBe(25);
    expect(await fresh.locator('#more').isHidden()).toBe(true);
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
    await fresh.goto(`${service.url}/`);
    await fresh.getByLabel('User token').fill(await service.userToken('gina'));
    await fresh.getByRole('button', { name: 'Open inbox' }).click();
    await fresh.locator('#live[data-state="live"]').waitFor();
    await fresh.locator('.item', { hasText: 'Di and Cy liked your post photo-9' }).waitFor();
    // Act: three more likers while the page is open, and a repeated like
    await like('like-3', 'Ed');
    await like('like-4', 'Bo');
    await like('like-5', 'Ana');
    await like('like-6', 'Cy');
    // Assess: one line, replaced in place as it grew
    await fresh.locator('.item', { hasText: 'Ana, Bo and 3 others liked your post photo-9' }).waitFor();
    await expect.poll(() => fresh.locator('.item').count()).toBe(1);
    await expect.poll(() => fresh.locator('#badge').textContent()).toBe('1');
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
    expect(await fresh.locator('#inbox').isHidden()).toBe(true);
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
    await prefsPage.goto(`${service.url}/`);
    await prefsPage.getByLabel('User token').fill(await service.userToken('erin'));
    await prefsPage.getByRole('button', { name: 'Open inbox' }).click();
    await prefsPage.locator('#live[data-state="live"]').waitFor();
    // Act
    await prefsPage.getByText('Notification preferences').click();
    const socialEmail = prefsPage.getByRole('switch', { name: 'social notifications by email' });
    await expect.poll(() => socialEmail.isChecked()).toBe(true);
    await socialEmail.click();
    await expect.poll(() => prefsPage.locator('#prefs-status').textContent()).toBe('social by email off');
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
