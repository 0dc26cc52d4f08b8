/**
 * ANSI colour for what a person reads on a terminal: only when the stream is a TTY and NO_COLOR
 * (https://no-color.org) is unset or empty, so logs, pipes and tests get plain text.
 */
export interface Colours {
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly green: (text: string) => string;
  readonly dim: (text: string) => string;
}

const plain = (text: string) => text;
const PLAIN: Colours = { red: plain, yellow: plain, green: plain, dim: plain };
const wrap = (code: number) => (text: string) => `\u001b[${code}m${text}\u001b[0m`;
const ANSI: Colours = { red: wrap(31), yellow: wrap(33), green: wrap(32), dim: wrap(2) };

/** Colours for a stream: ANSI on a TTY without NO_COLOR, identity functions otherwise. */
export function colours(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): Colours {
  const disabled = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return isTTY && !disabled ? ANSI : PLAIN;
}
