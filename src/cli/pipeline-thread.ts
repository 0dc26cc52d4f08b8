import { Worker } from 'node:worker_threads';
import { type ErrorCode, FanoutError } from '../domain/errors.ts';
import { SetupError } from '../lib/setup-error.ts';
import type { RuntimeConfig } from '../runtime/config.ts';
import type { InboxChanges } from '../runtime/inbox-notifier.ts';
import { applyLiveBatch, type LiveBatch } from '../runtime/live-forwarding.ts';
import type { MetricsSink } from '../runtime/metrics.ts';
import { StepError } from './step.ts';

/** What the pipeline thread is started with (structured-cloned into it). */
export interface PipelineThreadData {
  readonly config: RuntimeConfig;
}

/** An error as it crosses from the pipeline thread: enough to print what `fanout serve` prints. */
export interface WireError {
  readonly step?: string;
  readonly kind: 'setup' | 'fanout' | 'other';
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly todo?: string;
  readonly stack?: string;
}

/** Messages from the pipeline thread to the API's. */
export type ToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'live'; readonly batch: LiveBatch }
  | { readonly type: 'failed'; readonly error: WireError }
  | { readonly type: 'stopped' };

/** The pipeline thread died while the service ran: the process stops with it, never half alive. */
export class PipelineThreadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineThreadError';
  }
}

/** A running pipeline thread. */
export interface PipelineThread {
  /** Rejects with a `PipelineThreadError` if the thread ends before `stop()` asked it to. */
  readonly failed: Promise<never>;
  /** Asks for the graceful stop (every batch in flight finishes and checkpoints) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts the pipeline (fan-out, consumers, pollers, housekeeping) on a worker thread of this
 * process, on its own connection to the data dir's file, and resolves once it runs. Its inbox
 * changes and counts are played into `live` on this thread, so the API's live streams wake at
 * once and its /ops page counts the pipeline's work. A start-up failure rejects with the step and
 * error the thread met, as `fanout work` would print them.
 */
export function startPipelineThread(opts: {
  readonly config: RuntimeConfig;
  readonly live: { readonly changes: InboxChanges; readonly metrics: MetricsSink };
  /** The thread's entry module. @default `./pipeline-worker.ts`; tests give a misbehaving one */
  readonly entry?: URL;
}): Promise<PipelineThread> {
  const data: PipelineThreadData = { config: opts.config };
  // The entry is a .ts file beside this one: Node runs it by type stripping, as it runs bin/fanout.js's import.
  const entry = opts.entry ?? new URL('./pipeline-worker.ts', import.meta.url);
  const worker = new Worker(entry, { workerData: data });
  let phase: 'starting' | 'running' | 'stopping' | 'ended' = 'starting';
  let failThread: (err: PipelineThreadError) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    failThread = reject;
  });
  // Nobody may be listening yet (or ever, once stopped): the rejection is read through `failed`.
  failed.catch(() => {});
  return new Promise((resolve, reject) => {
    const thread: PipelineThread = {
      failed,
      async stop() {
        if (phase === 'ended') return;
        phase = 'stopping';
        const exited = new Promise<void>((done, fail) => {
          worker.once('exit', () => done());
          failed.catch(fail);
        });
        worker.postMessage({ type: 'stop' });
        await exited;
      },
    };
    const fail = (err: PipelineThreadError | StepError) => {
      const was = phase;
      phase = 'ended';
      if (was === 'starting') reject(err);
      else
        failThread(
          err instanceof PipelineThreadError ? err : new PipelineThreadError(err.message, { cause: err }),
        );
    };
    worker.on('message', (message: ToMain) => {
      if (message.type === 'live') applyLiveBatch(message.batch, opts.live);
      else if (message.type === 'ready') {
        phase = 'running';
        resolve(thread);
      } else if (message.type === 'failed') fail(fromWireError(message.error));
      else if (message.type === 'stopped') phase = 'ended';
    });
    worker.on('error', (err) => {
      fail(new PipelineThreadError(`the pipeline thread failed: ${err.message || err.name}`, { cause: err }));
    });
    worker.on('exit', (code) => {
      if (phase === 'ended' || phase === 'stopping') {
        phase = 'ended';
        return;
      }
      fail(new PipelineThreadError(`the pipeline thread ended unexpectedly (exit code ${code})`));
    });
  });
}

/** An error of the pipeline thread, as plain data for `postMessage`. */
export function toWireError(err: unknown): WireError {
  const step = err instanceof StepError ? err.step : undefined;
  const cause = err instanceof StepError ? err.cause : err;
  const base = {
    ...(step === undefined ? {} : { step }),
    name: cause instanceof Error ? cause.name : typeof cause,
    message: cause instanceof Error ? cause.message : String(cause),
    ...(cause instanceof Error && cause.stack !== undefined ? { stack: cause.stack } : {}),
  };
  const code = (cause as { code?: unknown } | null)?.code;
  if (cause instanceof SetupError) return { ...base, kind: 'setup', todo: cause.todo };
  if (cause instanceof FanoutError) return { ...base, kind: 'fanout', code: cause.code };
  return { ...base, kind: 'other', ...(typeof code === 'string' ? { code } : {}) };
}

/** The error again on this side, of the class `describeFailure` prints it by. */
export function fromWireError(wire: WireError): StepError | PipelineThreadError {
  let err: Error;
  if (wire.kind === 'setup') err = new SetupError(wire.message, wire.todo ?? '');
  else if (wire.kind === 'fanout') err = new FanoutError(wire.code as ErrorCode, wire.message);
  else {
    err = new Error(wire.message);
    if (wire.code !== undefined) Object.assign(err, { code: wire.code });
  }
  err.name = wire.name;
  if (wire.stack !== undefined) err.stack = wire.stack;
  if (wire.step !== undefined) return new StepError(wire.step, err);
  return new PipelineThreadError(`the pipeline thread failed: ${wire.message}`, { cause: err });
}
