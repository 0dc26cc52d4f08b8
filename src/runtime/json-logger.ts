import type { Logger } from '../ports/logger.ts';
import type { LogLevel } from './config.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/**
 * JSON-lines logger on stderr (stdout stays free for command output such as `--json`).
 * Callers pass ids and counts only; see the Logger port.
 */
export function jsonLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const at = (name: Exclude<LogLevel, 'silent'>) =>
    RANK[name] < RANK[level]
      ? () => {}
      : (message: string, attributes?: Readonly<Record<string, unknown>>) =>
          write(
            `${JSON.stringify({ level: name, time: new Date().toISOString(), message, ...attributes })}\n`,
          );
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
