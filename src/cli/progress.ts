import type { Colours } from './colour.ts';

/** Where long steps report how far they got. */
export interface Reporter {
  /** Whether anything is shown at all: progress that nobody sees is not worth reading. */
  readonly live: boolean;
  /** A step begins (one plain line in trace mode). */
  phase(name: string): void;
  /** A progress bar for one step; `total` 0 when unknown. */
  bar(label: string, total: number): ProgressBar;
}

export interface ProgressBar {
  update(done: number, total?: number): void;
  end(): void;
}

export interface ReporterOptions {
  readonly write: (text: string) => void;
  /** Draw bars (stderr is a terminal). */
  readonly tty: boolean;
  /** Plain lines per phase and per progress step, for logs and tests (FANOUT_DEMO_TRACE=1). */
  readonly trace: boolean;
  /** @default 'demo' */
  readonly prefix?: string;
  /** Milliseconds between redraws. @default 100 (bars), 250 (trace lines) */
  readonly intervalMs?: number;
  /** @default performance.now */
  readonly now?: () => number;
  /** Colours of the bar (see colours()). @default none */
  readonly colours?: Colours;
}

const WIDTH = 28;

/**
 * Progress on stderr: a bar redrawn in place on a terminal, plain lines in trace mode, nothing
 * otherwise (stdout carries only command output).
 */
export function createReporter(opts: ReporterOptions): Reporter {
  const prefix = opts.prefix ?? 'demo';
  const now = opts.now ?? (() => performance.now());
  const interval = opts.intervalMs ?? (opts.tty ? 100 : 250);
  return {
    live: opts.tty || opts.trace,
    phase(name) {
      if (opts.trace) opts.write(`${prefix}: phase ${name}\n`);
    },
    bar(label, total) {
      if (!opts.tty && !opts.trace) return { update() {}, end() {} };
      let shownAt = Number.NEGATIVE_INFINITY;
      let last = { done: 0, total };
      const started = now();
      const draw = (final: boolean) => {
        const elapsedMs = now() - started;
        if (opts.tty) {
          const bar = renderBar(label, last.done, last.total, elapsedMs, opts.colours);
          // \x1b[K clears what a longer earlier line left behind.
          opts.write(`\r${bar}\u001b[K${final ? '\n' : ''}`);
        } else {
          const count = `${n(last.done)}${last.total > 0 ? `/${n(last.total)}` : ''}`;
          opts.write(`${prefix}: ${label} ${count}${rateText(last.done, last.total, elapsedMs)}\n`);
        }
      };
      return {
        update(done, newTotal) {
          // A total only grows: a bar whose end moves back and forth tells nothing.
          last = {
            done,
            total: Math.max(newTotal ?? last.total, last.total, newTotal === undefined ? 0 : done),
          };
          const t = now();
          if (t - shownAt < interval) return;
          shownAt = t;
          draw(false);
        },
        end() {
          draw(true);
        },
      };
    },
  };
}

const n = (value: number) => value.toLocaleString('en-US');

/** ` 1,234/s, 0:42 left` from what is done after `elapsedMs`; nothing before a rate is known. */
export function rateText(done: number, total: number, elapsedMs: number): string {
  if (elapsedMs < 500 || done <= 0) return '';
  const perSecond = (done * 1000) / elapsedMs;
  const rate = `${n(Math.round(perSecond))}/s`;
  if (total <= 0 || done >= total) return `  ${rate}`;
  return `  ${rate}, ${duration((total - done) / perSecond)} left`;
}

/** Seconds as `m:ss` (or `h:mm:ss`). */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/**
 * `label [#######.......]  45% 4,500/10,000  1,200/s, 0:05 left`, or a count (and rate) alone when
 * the total is unknown.
 */
export function renderBar(label: string, done: number, total: number, elapsedMs = 0, c?: Colours): string {
  const rate = rateText(done, total, elapsedMs);
  if (total <= 0) return `${label} ${n(done)}${rate}`;
  const ratio = Math.max(0, Math.min(1, done / total));
  const filled = Math.round(ratio * WIDTH);
  const percent = String(Math.floor(ratio * 100)).padStart(3);
  const bar = `${(c?.green ?? String)('#'.repeat(filled))}${'.'.repeat(WIDTH - filled)}`;
  return `${label} [${bar}] ${percent}% ${n(done)}/${n(total)}${rate}`;
}
