import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import {
  describeFailure,
  flattenHeaders,
  type Http2PoolOptions,
  type Http2Request,
  Http2RequestError,
  type Http2Response,
} from './http2-types.ts';

export {
  Http2FailureCode,
  type Http2PoolOptions,
  type Http2Request,
  Http2RequestError,
  type Http2Response,
} from './http2-types.ts';

/** One HTTP/2 connection of the pool. */
interface Entry {
  readonly session: ClientHttp2Session;
  /** The server's first SETTINGS arrived: its stream limit is known. */
  ready: boolean;
  /** Takes no new streams (GOAWAY, error, closed). */
  retired: boolean;
  active: number;
  /** From the server's GOAWAY: streams above it were never processed. */
  goawayLastStreamId?: number;
  /** Set while a PING is unanswered: destroys the session when it fires. */
  pingDeadline: NodeJS.Timeout | undefined;
  timers: NodeJS.Timeout[];
}

/** A request waiting for, or holding, a stream. */
interface Waiter {
  readonly req: Http2Request;
  readonly resolve: (res: Http2Response) => void;
  readonly reject: (err: Http2RequestError) => void;
  readonly timer: NodeJS.Timeout;
  /** The stream and connection it holds; cleared when it is queued again. */
  stream: ClientHttp2Stream | undefined;
  entry: Entry | undefined;
  /** Re-queued once already after a refusal that proved nothing was sent. */
  requeued: boolean;
  settled: boolean;
}

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL } = http2.constants;

/**
 * A few long-lived HTTP/2 sessions to one origin, as APNs and FCM want to be called: opened
 * lazily, re-opened after GOAWAY or a dropped connection, each used up to the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS (beyond it, requests wait in a queue for a free stream).
 *
 * Failures without an answer reject with {@link Http2RequestError}. `sent: false` when the request
 * certainly did not reach the server (connect failure, refused stream, a stream above a GOAWAY's
 * last stream id, a timeout while still queued); a refused stream is re-queued once, as RFC 9113
 * §8.7 allows. `sent: true` when it may have (a timeout or a
 * reset after the request was written): never repeated here, the caller decides.
 */
export class Http2Pool {
  readonly #origin: string;
  readonly #size: number;
  readonly #ca: string | Buffer | undefined;
  readonly #connectTimeoutMs: number;
  readonly #requestTimeoutMs: number;
  readonly #pingIntervalMs: number;
  readonly #entries: Entry[] = [];
  readonly #queue: Waiter[] = [];
  #closed = false;

  constructor(opts: Http2PoolOptions) {
    this.#origin = new URL(opts.origin).origin;
    this.#size = Math.max(1, Math.floor(opts.size ?? 2));
    this.#ca = opts.ca;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.#pingIntervalMs = opts.pingIntervalMs ?? 60_000;
  }

  /** Sends one request; resolves with any HTTP status, rejects only when no answer came. */
  request(req: Http2Request): Promise<Http2Response> {
    if (this.#closed) {
      return Promise.reject(new Http2RequestError('closed', false, 'HTTP/2 pool is closed'));
    }
    return new Promise<Http2Response>((resolve, reject) => {
      const waiter: Waiter = {
        req,
        resolve,
        reject,
        stream: undefined,
        entry: undefined,
        requeued: false,
        settled: false,
        timer: setTimeout(() => this.#timeout(waiter), this.#requestTimeoutMs),
      };
      this.#queue.push(waiter);
      this.#pump();
    });
  }

  /** Refuses new requests, lets those in flight finish (bounded by their timeout), then disconnects. */
  async close(): Promise<void> {
    this.#closed = true;
    const err = new Http2RequestError('closed', false, 'HTTP/2 pool closed before the request left');
    for (const waiter of this.#queue.splice(0)) this.#settle(waiter, err);
    await Promise.all(
      this.#entries.map(async (entry) => {
        if (entry.session.destroyed) return;
        const closed = new Promise<void>((resolve) => entry.session.once('close', resolve));
        // Idle sessions are unref'd: hold the event loop until this one has closed, or an awaited
        // close() could let the process exit before the code after it runs.
        entry.session.ref();
        // A session still connecting has nothing in flight, and might never finish connecting.
        if (entry.ready) this.#retire(entry);
        else entry.session.destroy();
        await closed;
      }),
    );
  }

  /** Hands queued requests to free streams, opening a session when they are all taken. */
  #pump(): void {
    let crowded = false;
    while (this.#queue.length > 0) {
      const entry = this.#leastBusy();
      if (entry === undefined) break;
      crowded ||= entry.active > 0;
      this.#start(this.#queue.shift()!, entry);
    }
    if (this.#closed || (this.#queue.length === 0 && !crowded)) return;
    // Counted without allocating: this runs once per finished request.
    let live = 0;
    for (const e of this.#entries) {
      if (e.retired) continue;
      if (!e.ready) return;
      live++;
    }
    if (live < this.#size) this.#open();
  }

  #leastBusy(): Entry | undefined {
    let best: Entry | undefined;
    for (const entry of this.#entries) {
      if (!entry.ready || entry.retired || entry.session.closed || entry.session.destroyed) continue;
      const limit = entry.session.remoteSettings.maxConcurrentStreams ?? 100;
      if (entry.active >= limit) continue;
      if (best === undefined || entry.active < best.active) best = entry;
    }
    return best;
  }

  #open(): void {
    const session = http2.connect(this.#origin, {
      settings: { enablePush: false },
      ca: this.#ca,
    });
    const entry: Entry = {
      session,
      ready: false,
      retired: false,
      active: 0,
      pingDeadline: undefined,
      timers: [],
    };
    this.#entries.push(entry);
    let failure: Error | undefined;
    const connectTimer = setTimeout(() => {
      failure = new Error(`no HTTP/2 session within ${this.#connectTimeoutMs} ms`);
      session.destroy();
    }, this.#connectTimeoutMs);
    entry.timers.push(connectTimer);
    // Every SETTINGS may change the stream limit (APNs raises it after the first requests).
    session.on('remoteSettings', () => {
      if (!entry.ready) {
        clearTimeout(connectTimer);
        entry.ready = true;
        if (this.#pingIntervalMs > 0) {
          const keepAlive = () => entry.active === 0 && this.#ping(entry);
          entry.timers.push(setInterval(keepAlive, this.#pingIntervalMs).unref());
        }
      }
      this.#pump();
      if (entry.active === 0) session.unref();
    });
    session.on('goaway', (_code: number, lastStreamId: number) => {
      entry.goawayLastStreamId = lastStreamId;
      this.#retire(entry);
      this.#pump();
    });
    session.on('error', (err: Error) => {
      failure ??= err;
    });
    session.once('close', () => {
      const wasReady = entry.ready;
      this.#retire(entry);
      this.#entries.splice(this.#entries.indexOf(entry), 1);
      if (!wasReady && !this.#entries.some((e) => !e.retired)) {
        // Nothing else can serve the queue: fail it now rather than at each request's timeout.
        const reason = `HTTP/2 connect failed: ${describeFailure(failure)}`;
        const err = new Http2RequestError('connect', false, reason, { cause: failure });
        for (const waiter of this.#queue.splice(0)) this.#settle(waiter, err);
      }
      this.#pump();
    });
  }

  #start(waiter: Waiter, entry: Entry): void {
    const { method, path, headers, body } = waiter.req;
    let stream: ClientHttp2Stream;
    try {
      stream = entry.session.request(
        { ...headers, ':method': method, ':path': path },
        { endStream: body === undefined },
      );
    } catch {
      // The session began closing between the pick and the call: nothing left; the caller's
      // loop hands the request to another session.
      this.#retire(entry);
      this.#queue.unshift(waiter);
      return;
    }
    waiter.stream = stream;
    waiter.entry = entry;
    // A session with streams in flight keeps the process alive; an idle one does not.
    if (entry.active++ === 0) entry.session.ref();
    let status: number | undefined;
    let responseHeaders: Record<string, string | undefined> = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = flattenHeaders(h);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      if (status === undefined) return;
      const res = { status, headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8') };
      this.#settle(waiter, res);
    });
    let streamError: Error | undefined;
    stream.on('error', (err: Error) => {
      streamError = err;
    });
    stream.once('close', () => {
      entry.active--;
      if (entry.active === 0 && !entry.retired) entry.session.unref();
      if (!waiter.settled) this.#failed(waiter, entry, stream, streamError);
      this.#pump();
    });
    if (body !== undefined) stream.end(body);
  }

  /** A stream that closed without a complete answer. */
  #failed(waiter: Waiter, entry: Entry, stream: ClientHttp2Stream, cause: Error | undefined): void {
    const beyondGoaway =
      entry.goawayLastStreamId !== undefined &&
      stream.id !== undefined &&
      stream.id > entry.goawayLastStreamId;
    const refused = stream.rstCode === NGHTTP2_REFUSED_STREAM || stream.id === undefined;
    if (beyondGoaway || refused) {
      // A stream that never got an id on a live session: the session has run out of stream ids
      // (2^31 per connection) or is going away. Either way it takes nothing more.
      if (stream.id === undefined) this.#retire(entry);
      if (!waiter.requeued && !this.#closed) {
        waiter.requeued = true;
        waiter.stream = undefined;
        waiter.entry = undefined;
        this.#queue.unshift(waiter);
        return;
      }
      const code = beyondGoaway ? 'goaway' : 'reset';
      this.#settle(waiter, new Http2RequestError(code, false, 'HTTP/2 stream refused', { cause }));
      return;
    }
    const sessionGone = entry.session.closed || entry.session.destroyed;
    const code = sessionGone ? 'closed' : 'reset';
    const message = `HTTP/2 ${sessionGone ? 'connection lost' : 'stream reset'} before the answer`;
    this.#settle(waiter, new Http2RequestError(code, true, message, { cause }));
  }

  #timeout(waiter: Waiter): void {
    const { stream } = waiter;
    const queued = this.#queue.indexOf(waiter);
    if (queued >= 0) this.#queue.splice(queued, 1);
    const sent = stream !== undefined;
    const message = sent ? 'HTTP/2 answer did not come in time' : 'no free HTTP/2 stream in time';
    this.#settle(waiter, new Http2RequestError('timeout', sent, message));
    if (stream !== undefined && !stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
    // A connection dropped silently on the way (NAT, middlebox) answers nothing: while requests keep
    // it busy the keep-alive never runs, so every request would time out on it. Ask it now.
    if (waiter.entry !== undefined) this.#ping(waiter.entry);
  }

  #settle(waiter: Waiter, outcome: Http2Response | Http2RequestError): void {
    if (waiter.settled) return;
    waiter.settled = true;
    clearTimeout(waiter.timer);
    if (outcome instanceof Http2RequestError) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  /**
   * A PING, to keep an idle session warm or to test one after a timeout: unanswered within
   * connectTimeoutMs, the connection is dead and destroyed (queued requests go to a new one).
   */
  #ping(entry: Entry): void {
    if (entry.retired || entry.pingDeadline !== undefined) return;
    const dead = () => {
      if (!entry.session.destroyed) entry.session.destroy();
    };
    entry.pingDeadline = setTimeout(dead, this.#connectTimeoutMs).unref();
    try {
      entry.session.ping((err) => {
        clearTimeout(entry.pingDeadline);
        entry.pingDeadline = undefined;
        if (err) dead();
      });
    } catch {
      dead();
    }
  }

  #retire(entry: Entry): void {
    if (entry.retired) return;
    entry.retired = true;
    for (const timer of entry.timers) clearTimeout(timer);
    clearTimeout(entry.pingDeadline);
    // Let in-flight streams finish; new ones go to another session.
    if (!entry.session.closed && !entry.session.destroyed) entry.session.close();
  }
}
