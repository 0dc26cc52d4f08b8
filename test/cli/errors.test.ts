import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/cli/failure.ts';
import { StepError, step } from '../../src/cli/step.ts';
import { SetupError } from '../../src/lib/setup-error.ts';
import { runFanout, tempDir } from './run-fanout.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

/** A port held by a listener of ours until `close`. */
async function heldPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, server };
}

describe('describeFailure', () => {
  it('prints the message of an unexpected error, the step it failed in and the debug hint', async () => {
    // Prepare
    const failing = step('opening the data dir ./x', () => {
      throw new TypeError('Cannot read properties of undefined (reading "rows")');
    });
    const err = await failing.catch((e: unknown) => e);
    // Act
    const text = describeFailure('serve', err, false);
    // Assess
    expect(err).toBeInstanceOf(StepError);
    expect(text).toBe(
      'fanout: serve failed while opening the data dir ./x: Cannot read properties of undefined (reading "rows") (TypeError)\n' +
        '  run it again with --log-level debug for the stack\n',
    );
  });

  it('keeps tokens, credentials and addresses out of the message and the debug stack', () => {
    // Prepare
    const err = new StepError(
      'connecting',
      new Error(
        'connect failed redis://default:hunter2@10.1.2.3:6379 for fo_acme_abcdefghijklmnopqrstuvwxyz012345',
      ),
    );
    // Act
    const plain = describeFailure('work', err, false);
    const debug = describeFailure('work', err, true);
    // Assess
    for (const text of [plain, debug]) {
      expect(text).not.toMatch(/hunter2|10\.1\.2\.3|fo_acme/);
      expect(text).toContain('fanout: work failed while connecting: connect failed redis://***@<address>');
    }
    expect(debug).toMatch(/\n {2}Error: connect failed/);
    expect(debug).toMatch(/\n +at /);
  });

  it('prints the cause and what to do of a setup problem, without a stack', () => {
    // Prepare
    const err = new SetupError('Java is not installed', 'install Java 17');
    // Act
    const text = describeFailure('demo', err, true);
    // Assess
    expect(text).toBe('fanout: demo failed: Java is not installed\n  what to do: install Java 17\n');
  });
});

describe('fanout errors people can act on', () => {
  for (const sub of ['list', 'redrive'] as const) {
    it(`dlq ${sub} on a data dir that does not exist says so and how to make one`, async () => {
      // Prepare
      const missing = join(dir('dlq-missing'), 'not-there');
      // Act
      const result = await runFanout(['dlq', sub, 'push', '--data-dir', missing]);
      // Assess
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `fanout: dlq failed: no data dir at ${missing}: nothing has run on it yet\n` +
          '  what to do: run `npm start` (the service) or `npm run fanout -- demo` on it first, or point --data-dir / FANOUT_DATA_DIR at the one they use\n',
      );
    });
  }

  it('dlq list on a directory without a data file says so and creates nothing', async () => {
    // Prepare
    const empty = dir('dlq-empty');
    // Act
    const result = await runFanout(['dlq', 'list', 'email', '--data-dir', empty]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`fanout: dlq failed: ${empty} holds no Fanout data file (fanout.db)`);
  });

  it('audit verify without an audit log says how to get one', async () => {
    // Prepare
    const empty = dir('audit-none');
    // Act
    const result = await runFanout(['audit', 'verify', '--data-dir', empty]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `fanout: audit failed: no audit log in ${join(empty, 'audit')}\n` +
        '  what to do: the pipeline writes it as it decides deliveries: run `npm start` (the service) or `npm run fanout -- demo` on it first, or point --data-dir / FANOUT_DATA_DIR at the one they use\n',
    );
  });

  it('serve on a port in use names the port and how to pick another', async () => {
    // Prepare
    const { port, server } = await heldPort();
    try {
      // Act
      const result = await runFanout(['serve', '--port', String(port), '--data-dir', dir('serve-port')]);
      // Assess
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `fanout: serve failed while listening on 127.0.0.1:${port}: port ${port} on 127.0.0.1 (the HTTP API) is in use by another process\n` +
          '  what to do: stop the process that holds it (another fanout serve?) or pick another port: --port N or PORT=N (0 picks a free one)\n',
      );
    } finally {
      server.close();
    }
  });

  it('serve --profile local-aws on an emulator port in use names it and how to move the emulators', async () => {
    // Prepare: the emulators take four ports from FANOUT_LOCAL_AWS_PORT; the second is held.
    const { port, server } = await heldPort();
    try {
      // Act
      const result = await runFanout(
        ['serve', '--profile', 'local-aws', '--port', '0', '--data-dir', dir('aws-port')],
        {
          env: { FANOUT_LOCAL_AWS_PORT: String(port - 1) },
        },
      );
      // Assess
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `fanout: serve failed while starting the local-aws emulators: port ${port} on 127.0.0.1 (kinesalite of the local-aws profile) is in use by another process\n`,
      );
      expect(result.stderr).toContain('FANOUT_LOCAL_AWS_PORT=<first of 4 free ports>');
    } finally {
      server.close();
    }
  });

  it('demo --profile local-aws without Java says Java is missing and how to install it', async () => {
    // Prepare: a PATH without java (the CLI runs on this Node by its full path; Redis already runs).
    const bin = dir('no-java');
    mkdirSync(join(bin, 'bin'));
    // Act
    const result = await runFanout(['demo', '--profile', 'local-aws', '--data-dir', dir('demo-nojava')], {
      env: { PATH: join(bin, 'bin') },
    });
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'fanout: demo failed while starting the local-aws emulators: Java is not installed: DynamoDB Local (the local-aws profile) runs on Java 17 or newer\n' +
        '  what to do: install a Java 17+ runtime (e.g. apt install openjdk-17-jre-headless) so that `java` is on the PATH\n',
    );
  });

  it('an unexpected failure prints its message and the step, not just its class', async () => {
    // Prepare: the data dir is a file, so SQLite cannot open a database in it.
    const parent = dir('dir-is-file');
    const { writeFileSync } = await import('node:fs');
    const file = join(parent, 'file');
    writeFileSync(file, 'not a directory');
    // Act
    const result = await runFanout(['work', '--data-dir', file]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^fanout: work failed while opening the data dir ${file}: \\S.+\\n`),
    );
    expect(result.stderr).not.toMatch(/failed: Error\n/);
    expect(result.stderr).toContain('run it again with --log-level debug for the stack');
  });

  it('--log-level debug prints the stack of an unexpected failure', async () => {
    // Prepare
    const parent = dir('dir-is-file-debug');
    const { writeFileSync } = await import('node:fs');
    const file = join(parent, 'file');
    writeFileSync(file, 'x');
    // Act
    const result = await runFanout(['work', '--data-dir', file, '--log-level', 'debug']);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\n +at /);
  });
});
