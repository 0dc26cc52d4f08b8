import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { ValidationError } from '../../domain/errors.ts';

/** Options of {@link SmtpEmailTransport}: the server as a URL, or as host, port, secure and auth. */
export interface SmtpEmailTransportOptions {
  /**
   * `smtp://[user:pass@]host[:port]` (STARTTLS when offered, port 587 by default) or
   * `smtps://…` (TLS from the first byte, port 465); user and password percent-encoded. Takes the
   * place of host, port, secure and auth.
   */
  readonly url?: string;
  readonly host?: string;
  /** @default 465 when secure, else 587 */
  readonly port?: number;
  /** TLS from the first byte (implicit TLS). @default false: STARTTLS when the server offers it */
  readonly secure?: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Refuse to send over a plain connection: STARTTLS must succeed. @default false */
  readonly requireTls?: boolean;
  /** The From header and envelope sender, e.g. `Fanout <notify@example.com>`. */
  readonly from: string;
  /** Keep connections open and re-use them. @default true */
  readonly pool?: boolean;
  /** Connections of the pool. @default 5 */
  readonly maxConnections?: number;
  readonly tls?: {
    /** Trusted CA certificates (PEM), for a server with a private CA. */
    readonly ca?: string | Buffer | readonly (string | Buffer)[];
    /** @default true */
    readonly rejectUnauthorized?: boolean;
  };
  /** The right-hand side of Message-ID (`<id@domain>`). @default the domain of `from` */
  readonly messageIdDomain?: string;
  /** Connecting, and waiting for the greeting. @default 10_000 */
  readonly connectionTimeoutMs?: number;
  /**
   * Silence on an open connection before it is given up. Keep it well below the dedup lease (60 s
   * by default): a send still waiting when the lease ends may be tried again beside it.
   * @default 30_000
   */
  readonly socketTimeoutMs?: number;
}

/** nodemailer's options, as the transport builds them. */
export type NodemailerOptions = (SMTPTransport.Options | SMTPPool.Options) & {
  readonly maxRequeues?: number;
};

const HOST_NAME =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** The address inside a From value: `notify@example.com` or `Name <notify@example.com>`. */
const FROM_DOMAIN = /@([^\s<>@]+?)>?\s*$/;

/** The Message-ID domain of the options, checked: given, or the From address's. */
export function messageIdDomainOf(opts: SmtpEmailTransportOptions): string {
  const domain = opts.messageIdDomain ?? FROM_DOMAIN.exec(opts.from)?.[1];
  if (domain === undefined || !HOST_NAME.test(domain)) {
    throw new ValidationError([{ path: 'messageIdDomain', message: 'must be a domain name' }]);
  }
  return domain;
}

/**
 * nodemailer's options from ours, validated. Messages never quote the URL: it may hold a password.
 * Logging is off (nodemailer logs recipients), and so are file and URL access (nothing we send
 * refers to either).
 */
export function nodemailerOptions(opts: SmtpEmailTransportOptions): NodemailerOptions {
  if (typeof opts?.from !== 'string' || opts.from.trim() === '' || /[\r\n]/.test(opts.from)) {
    throw new ValidationError([{ path: 'from', message: 'must be an email address' }]);
  }
  const server = opts.url === undefined ? serverOf(opts) : serverOfUrl(opts.url);
  const pool = opts.pool ?? true;
  const tls = opts.tls === undefined ? {} : { tls: tlsOf(opts.tls) };
  const timeouts = {
    connectionTimeout: positive(opts.connectionTimeoutMs, 'connectionTimeoutMs') ?? 10_000,
    greetingTimeout: positive(opts.connectionTimeoutMs, 'connectionTimeoutMs') ?? 10_000,
    socketTimeout: positive(opts.socketTimeoutMs, 'socketTimeoutMs') ?? 30_000,
  };
  return {
    ...server,
    ...tls,
    ...timeouts,
    ...(opts.requireTls ? { requireTLS: true } : {}),
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
    ...(pool
      ? {
          pool: true,
          maxConnections: positive(opts.maxConnections, 'maxConnections') ?? 5,
          // nodemailer re-sends a message whose connection closed mid-send, unseen by us: a
          // second delivery the pipeline could not track. We retry instead, as ambiguous.
          maxRequeues: 0,
        }
      : { pool: false }),
  } as NodemailerOptions;
}

interface Server {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
}

function serverOfUrl(url: string): Server {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:')) {
    throw new ValidationError([{ path: 'url', message: 'must be an smtp:// or smtps:// URL' }]);
  }
  if (parsed.search !== '' || (parsed.pathname !== '' && parsed.pathname !== '/')) {
    throw new ValidationError([
      { path: 'url', message: 'must hold no path or query: give other settings as options' },
    ]);
  }
  const secure = parsed.protocol === 'smtps:';
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new ValidationError([{ path: 'url', message: 'must name a host' }]);
  let auth: Server['auth'];
  if (parsed.username !== '' || parsed.password !== '') {
    try {
      auth = { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) };
    } catch {
      throw new ValidationError([{ path: 'url', message: 'has a badly percent-encoded user or password' }]);
    }
  }
  return {
    host,
    port: parsed.port === '' ? (secure ? 465 : 587) : Number(parsed.port),
    secure,
    ...(auth === undefined ? {} : { auth }),
  };
}

function serverOf(opts: SmtpEmailTransportOptions): Server {
  if (typeof opts.host !== 'string' || opts.host === '') {
    throw new ValidationError([{ path: 'host', message: 'must be set when url is not' }]);
  }
  const secure = opts.secure ?? false;
  const port = opts.port ?? (secure ? 465 : 587);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new ValidationError([{ path: 'port', message: 'must be an integer from 1 to 65535' }]);
  }
  if (opts.auth !== undefined && (typeof opts.auth.user !== 'string' || typeof opts.auth.pass !== 'string')) {
    throw new ValidationError([{ path: 'auth', message: 'must have a user and a pass' }]);
  }
  return {
    host: opts.host,
    port,
    secure,
    ...(opts.auth === undefined ? {} : { auth: { user: opts.auth.user, pass: opts.auth.pass } }),
  };
}

function tlsOf(tls: NonNullable<SmtpEmailTransportOptions['tls']>): Record<string, unknown> {
  return {
    ...(tls.ca === undefined ? {} : { ca: Array.isArray(tls.ca) ? [...tls.ca] : tls.ca }),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}

function positive(value: number | undefined, path: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) {
    throw new ValidationError([{ path, message: 'must be a positive integer' }]);
  }
  return value;
}
