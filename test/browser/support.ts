import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { appOptions } from '../../src/cli/commands/serve.ts';
import { createTenant } from '../../src/cli/commands/tenant.ts';
import { localPipelineOptions } from '../../src/cli/demo/run.ts';
import { buildApp } from '../../src/http/app.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { InboxNotifier } from '../../src/runtime/inbox-notifier.ts';
import { Metrics, observePorts } from '../../src/runtime/metrics.ts';
import { Pipeline } from '../../src/runtime/pipeline.ts';

/** Debian's Chromium, which `.ci/run` installs; the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const SKIP_REASON = `skipped: ${CHROMIUM} is not installed (.ci/run installs the chromium package)`;

export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
export const DOCS = join(import.meta.dirname, '..', '..', 'docs');

/** A running service and a tenant of it. */
export interface Service {
  readonly url: string;
  readonly apiKey: string;
  /** `fetch` on the service with the tenant's API key. */
  api(path: string, init?: { method?: string; body?: unknown }): Promise<Response>;
  /** A user token from the API, as an app's server would get it. */
  userToken(userId: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The service the way `fanout serve` builds it (embedded ports observed for metrics and inbox
 * wake-ups, the pipeline, the HTTP API with its live routes and pages) on a fresh data dir,
 * listening on a free loopback port.
 */
export async function startService(tenantId = 'browser'): Promise<Service> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-browser-'));
  const config = readRuntimeConfig({
    FANOUT_DATA_DIR: dataDir,
    FANOUT_LOG_LEVEL: 'silent',
    // The push service fake listens on loopback: a host no real subscription names.
    FANOUT_WEBPUSH_ENDPOINT_HOSTS: '127.0.0.1',
  });
  const raw = await openEmbeddedPorts({ config });
  const notifier = new InboxNotifier();
  const metrics = new Metrics({ queues: raw.queues, clock: raw.clock });
  const ports = observePorts(raw, { metrics, changes: notifier });
  const pipeline = new Pipeline(ports, localPipelineOptions(config));
  await pipeline.start();
  const options = {
    ...appOptions(config),
    operatorTenantId: tenantId,
    webPushPublicKey: raw.webPushPublicKey,
  };
  const app = await buildApp({
    ports,
    clock: ports.clock,
    logger: silentLogger,
    options,
    live: { notifier, metrics },
  });
  const { apiKey } = await createTenant(ports.tenants, tenantId, ports.clock.now());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const api: Service['api'] = (path, init = {}) =>
    fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  return {
    url,
    apiKey,
    api,
    async userToken(userId) {
      const res = await api(`/v1/users/${userId}/tokens`, { method: 'POST' });
      if (res.status !== 201) throw new Error(`token request answered ${res.status}`);
      return ((await res.json()) as { token: string }).token;
    },
    async stop() {
      await app.close();
      await pipeline.stop();
      await ports.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium with a fresh profile, removed by `close()`. */
export async function launchBrowser(): Promise<BrowserContext & { dispose(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'fanout-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1000, height: 760 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return Object.assign(context, {
    async dispose() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  });
}

export async function artifactsDir(): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}

/**
 * A screenshot into `test-artifacts/`, and into `docs/screenshots/` too when
 * FANOUT_UPDATE_SCREENSHOTS=1: a test run must not dirty the checkout unless asked.
 */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  const shot = join(await artifactsDir(), name);
  await page.screenshot({ path: shot });
  if (process.env.FANOUT_UPDATE_SCREENSHOTS === '1') {
    await mkdir(join(DOCS, 'screenshots'), { recursive: true });
    await copyFile(shot, join(DOCS, 'screenshots', name));
  }
}
