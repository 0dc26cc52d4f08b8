import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import {
  artifactsDir,
  HAS_CHROMIUM,
  launchBrowser,
  type Service,
  SKIP_REASON,
  saveScreenshot,
  startService,
} from './support.ts';

/** The part of a canvas element the test reads (the project's types have no DOM). */
interface Canvas {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { readonly data: ArrayLike<number> };
  } | null;
}

const title = HAS_CHROMIUM ? 'ops page in Chromium' : `ops page in Chromium (${SKIP_REASON})`;

describe.skipIf(!HAS_CHROMIUM)(title, () => {
  let service: Service;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  beforeAll(async () => {
    service = await startService('ops');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.dispose();
    await service?.stop();
  });

  it('draws live charts of events, deliveries and queues from the metrics stream', async () => {
    // Prepare
    const page = await browser.newPage();
    await page.goto(`${service.url}/ops`);
    await page.getByLabel('API key').fill(service.apiKey);
    await page.getByRole('button', { name: 'Show metrics' }).click();
    await page.locator('#live[data-state="live"]').waitFor();
    // Act
    for (let i = 0; i < 5; i++) {
      const res = await service.api('/v1/events', {
        method: 'POST',
        body: { id: `ops-${i}`, type: 'comment', actorId: 'bob', recipients: ['alice', 'carol'] },
      });
      expect(res.status).toBe(202);
    }
    // Assess
    await expect.poll(() => page.locator('#events-total').textContent()).toBe('5');
    await expect.poll(() => page.locator('#rows-total').textContent()).toBe('10');
    for (const chart of ['throughput', 'push', 'email', 'queues']) {
      await expect
        .poll(async () => Number(await page.locator(`#chart-${chart}`).getAttribute('data-samples')))
        .toBeGreaterThanOrEqual(3);
    }
    // Something was drawn: the throughput chart is not a blank canvas.
    const inked = await page.locator('#chart-throughput').evaluate((canvas: Canvas) => {
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(100);
    expect(await page.locator('#queues tr').count()).toBe(2);
    expect(await page.locator('#deliveries tr').count()).toBe(11); // one row per audit outcome, `unknown` included
    await page.screenshot({ path: join(await artifactsDir(), 'ops.png'), fullPage: true });
    await page.close();
  });

  it('starts its charts from the last minutes the server kept, not from empty', async () => {
    // Prepare: the server has sampled once a second since it started (the test above ran a while).
    const page = await browser.newPage();
    await page.goto(`${service.url}/ops`);
    // Act
    await page.getByLabel('API key').fill(service.apiKey);
    await page.getByRole('button', { name: 'Show metrics' }).click();
    await page.locator('body[data-backfilled]').waitFor();
    // Assess
    const backfilled = Number(await page.locator('body').getAttribute('data-backfilled'));
    expect(backfilled).toBeGreaterThanOrEqual(3);
    const samples = Number(await page.locator('#chart-throughput').getAttribute('data-samples'));
    expect(samples).toBeGreaterThanOrEqual(backfilled);
    // The events posted before this page opened are in its chart's past.
    await expect.poll(() => page.locator('#events-total').textContent()).toBe('5');
    await page.close();
  });

  it('labels each y-axis gridline with its true value', async () => {
    // Prepare
    const page = await browser.newPage();
    await page.goto(`${service.url}/ops`);
    await page.getByLabel('API key').fill(service.apiKey);
    await page.getByRole('button', { name: 'Show metrics' }).click();
    await page.locator('#live[data-state="live"]').waitFor();
    // Act
    const ticks = async (chart: string) =>
      ((await page.locator(`#chart-${chart}`).getAttribute('data-ticks')) ?? '').split('|');
    // Assess: five gridlines, 0 to the top in equal round steps (1, 2, 2.5 or 5 times a power of
    // ten, 0.25 at least), each label the exact value of its line: never 0.3 at 0.25.
    for (const chart of ['throughput', 'push', 'email', 'queues']) {
      const labels = await ticks(chart);
      const step = Number(labels[1]);
      expect(labels).toHaveLength(5);
      expect(labels.map(Number)).toEqual([0, step, 2 * step, 3 * step, 4 * step]);
      const mantissa = step / 10 ** Math.floor(Math.log10(step));
      expect([1, 2, 2.5, 5]).toContain(mantissa);
      expect(step).toBeGreaterThanOrEqual(0.25);
    }
    await page.close();
  });

  it('fits a 390 px phone screen without horizontal overflow, before and after connecting', async () => {
    // Prepare
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = () =>
      page.evaluate(() => {
        const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } })
          .document.documentElement;
        return root.scrollWidth;
      });
    // Act
    await page.goto(`${service.url}/ops`);
    const before = await overflow();
    await page.getByLabel('API key').fill(service.apiKey);
    await page.getByRole('button', { name: 'Show metrics' }).click();
    await page.locator('#live[data-state="live"]').waitFor();
    const after = await overflow();
    // Assess
    expect(before).toBeLessThanOrEqual(390);
    expect(after).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(await artifactsDir(), 'ops-phone.png'), fullPage: true });
    await page.close();
  });

  /** A few events a second for `seconds`, to a varying number of recipients. */
  async function traffic(seconds: number) {
    for (let s = 0; s < seconds; s++) {
      for (let i = 0; i < 3 + (s % 4) * 2; i++) {
        await service.api('/v1/events', {
          method: 'POST',
          body: {
            id: `traffic-${s}-${i}`,
            type: 'comment',
            actorId: 'bob',
            recipients: ['alice', 'carol', 'dan'],
          },
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ] as const) {
    it(`passes axe (WCAG 2.1 AA) at ${width}×${height}, signed out and live`, async () => {
      // Prepare
      const page = await browser.newPage();
      await page.setViewportSize({ width, height });
      await page.goto(`${service.url}/ops`);
      const signedOut = await axeViolations(page);
      // Act
      await page.getByLabel('API key').fill(service.apiKey);
      await page.getByRole('button', { name: 'Show metrics' }).click();
      await page.locator('#live[data-state="live"]').waitFor();
      // Assess
      expect(signedOut).toEqual([]);
      expect(await axeViolations(page)).toEqual([]);
      if (width === 1280) {
        // The docs' picture shows traffic over some seconds, not one spike (only when it is refreshed).
        if (process.env.FANOUT_UPDATE_SCREENSHOTS === '1') await traffic(12);
        await saveScreenshot(page, 'ops.png');
      }
      await page.close();
    });
  }

  it("says it takes the operator tenant's key", async () => {
    // Prepare
    const page = await browser.newPage();
    // Act
    await page.goto(`${service.url}/ops`);
    // Assess
    expect(await page.locator('#key-help').textContent()).toMatch(/operator tenant's API key/);
    await page.close();
  });

  it('refuses a wrong API key and shows why', async () => {
    // Prepare
    const page = await browser.newPage();
    await page.goto(`${service.url}/ops`);
    // Act
    await page.getByLabel('API key').fill('fo_ops_wrong');
    await page.getByRole('button', { name: 'Show metrics' }).click();
    // Assess
    await expect.poll(() => page.locator('#key-error').textContent()).toMatch(/not accepted/);
    expect(await page.locator('#dash').isHidden()).toBe(true);
    await page.close();
  });
});
