/**
 * Makes an error message fit to print: whatever a library put in it (a connection string, a
 * request it echoes, a token in a URL) loses its secrets and addresses. The CLI prints the
 * messages of errors it did not make only through this, one line, at most `MAX_LENGTH` characters.
 */
const RULES: readonly (readonly [RegExp, string])[] = [
  // Credentials in URLs (redis://user:password@host, https://key@host), then their query strings.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)\?[^\s#]*/gi, '$1?***'],
  // Authorization headers and the like.
  [/\b(Bearer|Basic|Token)\s+[^\s,;]+/gi, '$1 ***'],
  // name=value and "name": "value" where the name says it is a secret.
  [
    /\b([\w-]*(?:password|passwd|secret|token|api[_-]?key|apikey|credential|authorization|signature|session|private[_-]?key)[\w-]*)("?\s*[:=]\s*"?)[^\s"',;&}]+/gi,
    '$1$2***',
  ],
  // PEM blocks (a .p8 key or a certificate pasted into a message).
  [/-----BEGIN [A-Z ]+-----[\s\S]*?(?:-----END [A-Z ]+-----|$)/g, '***'],
  // Our API keys (fo_<tenant>_<random>) and AWS access key ids.
  [/\bfo_[\w-]+/g, '***'],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, '***'],
  // Email addresses.
  [/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, '<email>'],
  // Network addresses: IPv4, IPv6 (full or with ::), and host:port.
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, '<address>'],
  [/\[?\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b\]?(?::\d{1,5})?/gi, '<address>'],
  [/\[?(?:[0-9a-f]{1,4}:)*::(?:[0-9a-f]{1,4}:)*[0-9a-f]{0,4}\]?(?::\d{1,5})?/gi, '<address>'],
  [/\b(?:[a-z0-9-]+\.)+(?!(?:ts|js|mjs|cjs|json)\b)[a-z]{2,}:\d{1,5}\b/gi, '<address>'],
  [/\blocalhost:\d{1,5}\b/gi, '<address>'],
  // Opaque strings long enough to be a key, a token, a signature or a hash.
  [/[A-Za-z0-9_\-+=]{24,}(?:\.[A-Za-z0-9_\-+=]{8,})*/g, '***'],
  [/(?<![\w/])[A-Za-z0-9+/]{40}(?![\w/])/g, '***'],
];

/** The longest message printed. */
export const MAX_LENGTH = 300;

/** `text` without secrets or addresses. */
export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}

/** `text` redacted, on one line, cut at `MAX_LENGTH`. */
export function redactLine(text: string): string {
  const line = redact(text).replace(/\s+/g, ' ').trim();
  return line.length > MAX_LENGTH ? `${line.slice(0, MAX_LENGTH - 1)}…` : line;
}
