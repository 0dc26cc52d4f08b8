import { afterAll, describe, expect, it } from 'vitest';
import { freePorts, removeTempDirs, run, shell, stopAll, tempDir } from './support.ts';

afterAll(async () => {
  await stopAll();
  removeTempDirs();
});

// Each command starts its own emulators (a JVM among them): minutes on a loaded 2-core machine.
describe('README: AWS mode on local emulators', { timeout: 600_000 }, () => {
  it('npm run start:local-aws serves, and an event reaches an inbox through the AWS adapters', async () => {
    // Prepare: free ports for the API and the four emulators (the README's are 8080 and 4700-4703).
    const port = await freePorts();
    const env = {
      FANOUT_DATA_DIR: tempDir('local-aws'),
      PORT: String(port),
      FANOUT_LOCAL_AWS_PORT: String(await freePorts(4)),
    };
    const api = `http://127.0.0.1:${port}`;
    // Act
    const server = shell('npm run start:local-aws', env);
    const [, key] = await server.waitFor(/API key \(shown once\): (\S+)/, 300_000);
    await server.waitFor(/delivery: recorded \(local-aws/);
    const auth = { authorization: `Bearer ${key}` };
    const follow = await fetch(`${api}/v1/users/alice/followers/bob`, { method: 'PUT', headers: auth });
    const posted = await fetch(`${api}/v1/events`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'evt-aws', type: 'post', actorId: 'alice' }),
    });
    const { token } = (await (
      await fetch(`${api}/v1/users/bob/tokens`, { method: 'POST', headers: auth })
    ).json()) as {
      token: string;
    };
    let inbox = '';
    for (let i = 0; i < 300 && !inbox.includes('alice'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      inbox = await (
        await fetch(`${api}/v1/me/inbox`, { headers: { authorization: `Bearer ${token}` } })
      ).text();
    }
    const stopped = await server.stop();
    // Assess
    expect(follow.status).toBeLessThan(300);
    expect(posted.status).toBe(202);
    expect(inbox).toContain('alice');
    expect(stopped).toBe(143);
    expect(server.output().stderr).not.toContain('serve failed');
  });

  it('npm run fanout -- demo --profile local-aws --json runs the demo through them', async () => {
    // Prepare
    const env = {
      FANOUT_DATA_DIR: tempDir('demo-aws'),
      FANOUT_DEMO_SCALE: 'tiny',
      FANOUT_CELEBRITY_THRESHOLD: '1000',
    };
    // Act
    const result = await run('npm run fanout -- demo --profile local-aws --json', env);
    // Assess
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as {
      events: number;
      push: { sent: number };
      auditChainValid: boolean | null;
      transportDuplicates: number;
    };
    expect(summary.events).toBe(122);
    expect(summary.push.sent).toBeGreaterThan(0);
    expect(summary.auditChainValid).toBeNull();
    expect(summary.transportDuplicates).toBe(0);
  });
});
