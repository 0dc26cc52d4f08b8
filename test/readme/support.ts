import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: README commands run there, as a user runs them after cloning. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The README, and the list of its commands kept beside it. */
export const README = join(ROOT, 'README.md');
export const COMMAND_LIST = join(ROOT, 'README.commands.txt');

/**
 * One README command line, run by bash in the repository root as typed (`npm run …` through the
 * machine's npm, which runs the scripts on the pinned Node). `env` adds what the README leaves to
 * the user's environment: a fresh data dir, free ports, a small demo scale.
 */
export interface Shell {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  output(): { readonly stdout: string; readonly stderr: string };
  /** Resolves when stdout + stderr match `pattern`; rejects if the command exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or 128 + signal). */
  readonly exited: Promise<number>;
  /** SIGTERM to the whole process group (npm, the shell, node), SIGKILL after 15 s. */
  stop(): Promise<number>;
}

const running = new Set<Shell>();

export function shell(line: string, env: Readonly<Record<string, string>> = {}): Shell {
  const child = spawn('bash', ['-c', line], {
    cwd: ROOT,
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stopping it stops every process the line started.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const l of listeners) l();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const l of listeners) l();
  });
  let done = false;
  const exited = new Promise<number>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      running.delete(handle);
      for (const l of listeners) l();
      resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
    });
  });
  const handle: Shell = {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    waitFor(pattern, timeoutMs = 180_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = `${stdout}\n${stderr}`.match(pattern);
          if (match !== null) finish(() => resolve(match));
          else if (done)
            finish(() =>
              reject(new Error(`'${line}' exited before printing ${pattern}:\n${stdout}\n${stderr}`)),
            );
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`'${line}' printed no ${pattern}:\n${stdout}\n${stderr}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (!done && child.pid !== undefined) {
        signalGroup(child.pid, 'SIGTERM');
        const timer = setTimeout(() => signalGroup(child.pid as number, 'SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
  running.add(handle);
  return handle;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Stops every command a test left running (for afterAll / afterEach). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

/** Runs a line to its end. */
export async function run(
  line: string,
  env: Readonly<Record<string, string>> = {},
): Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }> {
  const s = shell(line, env);
  const code = await s.exited;
  return { code, ...s.output() };
}

/** A fresh temporary directory, removed by `removeTempDirs`. */
const temps: string[] = [];
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fanout-readme-${prefix}-`));
  temps.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The sh code blocks of the README, in order. */
export function readmeBlocks(): string[] {
  const text = readFileSync(README, 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/**
 * Every command the README shows: each line of its sh blocks (continuations joined, comments
 * and comment-only lines dropped) and each inline code span that runs npm or npx.
 */
export function readmeCommands(): string[] {
  const text = readFileSync(README, 'utf8');
  const commands: string[] = [];
  for (const block of readmeBlocks()) {
    const joined = block.replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = stripComment(raw).replace(/\s+/g, ' ').trim();
      if (line !== '') commands.push(line);
    }
  }
  const outside = text.replace(/```[\s\S]*?```/g, '');
  for (const m of outside.matchAll(/`([^`]+)`/g)) {
    const span = (m[1] as string).replace(/\s+/g, ' ').trim();
    if (/^(?:[A-Z_]+=\S+ )*(?:npm|npx) /.test(span)) commands.push(span);
  }
  return [...new Set(commands)];
}

/** The line without a trailing `# comment` (a # outside quotes, after a blank). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** One entry of README.commands.txt: the command and how it is tested. */
export interface ListedCommand {
  readonly command: string;
  readonly how: string;
}

export function listedCommands(): ListedCommand[] {
  return readFileSync(COMMAND_LIST, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf(' => ');
      if (at < 0) throw new Error(`README.commands.txt: no ' => ' in: ${line}`);
      return { command: line.slice(0, at).trim(), how: line.slice(at + 4).trim() };
    });
}

/** A free TCP port on 127.0.0.1 (or `count` consecutive ones). */
export async function freePorts(count = 1): Promise<number> {
  const { createServer } = await import('node:net');
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const servers = [];
    let ok = true;
    for (let i = 0; i < count && ok; i++) {
      const server = createServer();
      ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(base + i, '127.0.0.1', () => resolve(true));
      });
      servers.push(server);
    }
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    if (ok) return base;
  }
  throw new Error('no free ports');
}
