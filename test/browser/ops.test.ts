import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  artifactsDir,
  HAS_CHROMIUM,
  launchBrowser,
  type Service,
  SKIP_REASON,
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
