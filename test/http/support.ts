import type { FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from '../../src/http/app.ts';
import { hashApiKey, newApiKey } from '../../src/http/auth.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { type EmbeddedPorts, openEmbeddedPorts } from '../../src/runtime/embedded.ts';

/** An app over in-memory embedded ports, with two tenants and their keys. */
export interface TestApp {
  readonly app: FastifyInstance;
  readonly ports: EmbeddedPorts;
  readonly keys: { readonly acme: string; readonly globex: string };
  readonly clock: { now(): number; advance(ms: number): void };
  close(): Promise<void>;
}

export const TEST_SECRET = 'a-test-secret-of-enough-bytes-0123456789';

/** A clock tests move by hand. */
export function manualClock(start = Date.UTC(2026, 0, 15, 12)): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => (now += ms) };
}

export async function testApp(
  options: Partial<AppOptions> = {},
  env: Record<string, string> = {},
): Promise<TestApp> {
  const clock = manualClock();
  const ports = await openEmbeddedPorts({
    config: readRuntimeConfig({ FANOUT_DATA_DIR: ':memory:', ...env }),
    clock,
  });
  const keys = { acme: newApiKey('acme'), globex: newApiKey('globex') };
  await ports.tenants.create('acme', hashApiKey(keys.acme), clock.now());
  await ports.tenants.create('globex', hashApiKey(keys.globex), clock.now());
  const app = await buildApp({
    ports,
    clock,
    logger: ports.logger,
    options: { tokenSecret: TEST_SECRET, ...options },
  });
  return {
    app,
    ports,
    keys,
    clock,
    async close() {
      await app.close();
      await ports.close();
    },
  };
}

export function bearer(credential: string): { authorization: string } {
  return { authorization: `Bearer ${credential}` };
}

/** A user token of `userId` issued through the API with the tenant's key. */
export async function userToken(app: FastifyInstance, key: string, userId: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: `/v1/users/${userId}/tokens`, headers: bearer(key) });
  if (res.statusCode !== 201) throw new Error(`token issue failed: ${res.statusCode}`);
  return (res.json() as { token: string }).token;
}
