import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { awsPortsFactory } from '../../src/lambda/ports.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { DIRECT_APNS, env } from './push-support.ts';

/**
 * A cold start that fails on its push secrets must leave nothing open: `portsOnce` forgets the
 * failure and builds again on the next invocation, so every connection a failed build leaves
 * behind would add up for the life of the container.
 */

/** A stand-in Redis on 127.0.0.1 answering +OK to every command, counting its connections. */
class FakeRedis {
  readonly server: Server;
  accepted = 0;
  readonly open = new Set<Socket>();

  constructor() {
    this.server = createServer((socket) => {
      this.accepted++;
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        // One reply per command: each command is one RESP array, `*<n>` at the start of a line.
        const commands = chunk.toString('latin1').match(/(^|\r\n)\*\d+\r\n/g)?.length ?? 0;
        socket.write('+OK\r\n'.repeat(commands));
      });
    });
  }

  get url(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return `redis://127.0.0.1:${address.port}`;
  }
}

const redis = new FakeRedis();
const secrets = mockClient(SecretsManagerClient);

beforeAll(async () => {
  redis.server.listen(0, '127.0.0.1');
  await once(redis.server, 'listening');
});

afterEach(() => {
  secrets.reset();
});

afterAll(async () => {
  secrets.restore();
  for (const socket of redis.open) socket.destroy();
  redis.server.close();
  await once(redis.server, 'close');
});

/** The push consumer's environment with direct APNs, its Redis on the fake. */
function directApnsEnv() {
  return env({
    ...DIRECT_APNS,
    FANOUT_CACHE_REDIS_URL: redis.url,
    FANOUT_DEDUP_REDIS_URL: redis.url,
    FANOUT_REDIS_CLUSTER: 'false',
  });
}

describe('awsPortsFactory on a failing cold start', () => {
  it('reads the push secrets before connecting to Redis: an unreadable secret opens no connection', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    const before = redis.accepted;
    // Act
    const build = awsPortsFactory(silentLogger)(directApnsEnv());
    // Assess
    await expect(build).rejects.toThrow(/fanout\/apns-key could not be read/);
    // Long enough for a connection on the loopback to have arrived, had one been started.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(redis.accepted).toBe(before);
  });

  it('closes its Redis connections when a client refuses the secret it was given', async () => {
    // Prepare: a secret that is no signing key, which ApnsTransport refuses once Redis is opened
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'not a key' });
    // Act
    const build = awsPortsFactory(silentLogger)(directApnsEnv());
    // Assess: the error names the setting, and nothing stays connected
    await expect(build).rejects.toThrow(/signingKey/);
    await vi.waitFor(() => expect(redis.open.size).toBe(0), { timeout: 3_000, interval: 20 });
    // Still none once a reconnect would have come (ioredis retries within 50 ms after a close).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(redis.open.size).toBe(0);
  });
});
