import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI entry, run by the same Node as the tests (type stripping runs the .ts directly). */
export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Second :30 of a minute, minutes away from any quiet-hours boundary in any zone of the demo. */
export const PINNED_AT = '2026-01-15T03:07:30Z';

export interface FanoutResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface FanoutRunOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Sees stderr as it arrives (e.g. to kill the child on a marker). */
  readonly onStderr?: (soFar: string, child: ChildProcess) => void;
}

/** Runs `fanout <args>` as a child process and collects its output. */
export function runFanout(args: readonly string[], opts: FanoutRunOptions = {}): Promise<FanoutResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, FANOUT_LOG_LEVEL: 'silent', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      opts.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A fresh directory for one data dir. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fanout-${prefix}-`));
}

/** The small pinned demo on `dataDir`, as JSON. */
export function smallDemoArgs(dataDir: string): string[] {
  return ['demo', '--json', '--scale', 'small', '--data-dir', dataDir, '--at', PINNED_AT];
}

/** The totals two runs of the same scenario must agree on, whatever happened in between. */
export function durableTotals(summary: Record<string, unknown>): Record<string, unknown> {
  const channel = (c: Record<string, number>) => ({
    jobs: c.jobs,
    sent: c.sent,
    suppressedQuietHours: c.suppressedQuietHours,
    suppressedNoConsent: c.suppressedNoConsent,
    suppressedPreference: c.suppressedPreference,
    suppressedNoAddress: c.suppressedNoAddress,
    deferred: c.deferred,
    failed: c.failed,
    deadLettered: c.deadLettered,
  });
  return {
    events: summary.events,
    inboxRows: summary.inboxRows,
    celebrityPointers: summary.celebrityPointers,
    push: channel(summary.push as Record<string, number>),
    email: channel(summary.email as Record<string, number>),
    devicesRejected: summary.devicesRejected,
    deadLetterQueue: summary.deadLetterQueue,
  };
}
