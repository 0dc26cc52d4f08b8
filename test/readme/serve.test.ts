import { afterAll, describe, expect, it } from 'vitest';
import { freePorts, readmeBlocks, removeTempDirs, run, shell, stopAll, tempDir } from './support.ts';

afterAll(async () => {
  await stopAll();
  removeTempDirs();
});

/** The README's curl block, pointed at `port` (the README's 8080 may be taken on a test machine). */
function curlBlock(port: number): string[] {
  const block = readmeBlocks().find((b) => b.includes('curl '));
  if (block === undefined) throw new Error('the README shows no curl block');
  const lines = block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.map((l) => l.replace('API=http://127.0.0.1:8080', `API=http://127.0.0.1:${port}`));
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('README: npm start, the curl example, tenants', () => {
  it('npm start serves and takes the curl example; tenant create and list work beside it', async () => {
    // Prepare
    const port = await freePorts();
    const env = { FANOUT_DATA_DIR: tempDir('serve'), PORT: String(port) };
    const server = shell('npm start', env);
    const [, key] = await server.waitFor(/API key \(shown once\): (\S+)/);
    await server.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/);
    const lines = curlBlock(port);
    const inboxLine = lines.pop() as string;
    // Act: the block as typed, with the key in KEY as the README says
    const block = await run(`${lines.join('\n')}\necho "TOKEN=$TOKEN"`, { KEY: key as string });
    const token = block.stdout.match(/TOKEN=(\S+)/)?.[1] as string;
    const inbox = await until(
      () => run(inboxLine, { TOKEN: token, API: `http://127.0.0.1:${port}` }),
      (r) => r.stdout.includes('alice'),
      "bob's inbox to show alice's post",
    );
    const acme = await run('npm run fanout -- tenant create acme', env);
    const list = await run('npm run fanout -- tenant list', env);
    // Assess
    expect(block.code).toBe(0);
    expect(block.stdout).toContain('{"eventId":"evt-1"}');
    expect(token.split('.')).toHaveLength(2);
    const items = (JSON.parse(inbox.stdout) as { items: unknown[] }).items;
    expect(items).toHaveLength(1);
    expect(JSON.stringify(items[0])).toMatch(/"type":"post"/);
    expect(JSON.stringify(items[0])).toContain('"alice"');
    expect(acme.code).toBe(0);
    const acmeKey = acme.stdout.match(/api key \(shown once\): (\S+)/)?.[1] as string;
    expect(acmeKey).toMatch(/^fo_acme_/);
    expect(list.stdout).toMatch(/^dev\t\d{4}-\S+Z$/m);
    expect(list.stdout).toMatch(/^acme\t\d{4}-\S+Z$/m);
    // The new tenant's key opens the API of the running service.
    const follow = await fetch(`http://127.0.0.1:${port}/v1/users/carol/followers/dave`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${acmeKey}` },
    });
    expect(follow.status).toBeLessThan(300);
    expect(await server.stop()).toBe(143);
    expect(server.output().stderr).toContain('fanout: stopped');
  });

  it('FANOUT_PIPELINE=off npm start & npm run fanout -- work: the API in one process, fan-out in the other', async () => {
    // Prepare
    const port = await freePorts();
    const api = `http://127.0.0.1:${port}`;
    const env = { FANOUT_DATA_DIR: tempDir('split'), PORT: String(port) };
    // Act
    const both = shell('FANOUT_PIPELINE=off npm start & npm run fanout -- work', env);
    const [, key] = await both.waitFor(/API key \(shown once\): (\S+)/);
    await both.waitFor(/pipeline off here/);
    await both.waitFor(/working on /);
    const auth = { authorization: `Bearer ${key}` };
    await fetch(`${api}/v1/users/alice/followers/bob`, { method: 'PUT', headers: auth });
    const posted = await fetch(`${api}/v1/events`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'evt-split', type: 'post', actorId: 'alice' }),
    });
    const { token } = (await (
      await fetch(`${api}/v1/users/bob/tokens`, { method: 'POST', headers: auth })
    ).json()) as {
      token: string;
    };
    const inbox = await until(
      async () =>
        (await fetch(`${api}/v1/me/inbox`, { headers: { authorization: `Bearer ${token}` } })).text(),
      (text) => text.includes('alice'),
      'the work process to fan the event out',
    );
    // Assess
    expect(posted.status).toBe(202);
    expect(inbox).toContain('alice');
    await both.stop();
    expect(both.output().stderr.match(/fanout: stopped/g)).toHaveLength(2);
  });
});
