import { Agent } from 'node:http';
import { forEachLimit } from '../src/adapters/aws/concurrency.ts';
import { type Api, sendJson } from './serve-process.ts';

/** The `e2e` benchmark's client side: seeding through the API, and a steady paced event load. */

/** Follow edges through `POST /v1/follows:batch`, 1,000 a request (the route's maximum). */
export async function follow(
  api: Api,
  edges: readonly { readonly userId: string; readonly followerId: string }[],
  concurrency: number,
): Promise<void> {
  const batches: (typeof edges)[] = [];
  for (let i = 0; i < edges.length; i += 1000) batches.push(edges.slice(i, i + 1000));
  await forEachLimit(batches, concurrency, async (follows) => {
    await api.send('POST', '/v1/follows:batch', { follows });
  });
}

/**
 * A user who gets push: an APNs device and push consent, no quiet hours, no frequency cap (there
 * is no bulk route for devices or preferences: two requests a user).
 */
export async function pushReady(api: Api, userIds: readonly string[], concurrency: number): Promise<void> {
  await forEachLimit(userIds, concurrency, async (userId) => {
    await api.send('PUT', `/v1/users/${userId}/devices/apns-${userId}`, { platform: 'apns' });
    await api.send('PUT', `/v1/users/${userId}/preferences`, { consent: { push: true } });
  });
}

export interface PacedLoadOptions {
  readonly url: string;
  readonly apiKey: string;
  /** Requests per second, spread evenly. */
  readonly rate: number;
  /** Requests in flight at most; when the server is slower, the load falls behind (and says so). */
  readonly maxInFlight: number;
  /** The JSON body of request `i`. */
  body(i: number): unknown;
}

/** What a paced load did. */
export interface PacedLoadStats {
  readonly issued: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Requests due by the schedule that were never issued (the in-flight cap held them back). */
  readonly behind: number;
  readonly seconds: number;
  /** 2xx answers per second over the run. */
  readonly achievedRate: number;
}

/**
 * `POST /v1/events` at a steady rate: a 5 ms timer issues whatever the schedule says is due since
 * the start (an open loop: a slow answer does not slow the next request down, up to
 * `maxInFlight`), each request a new event.
 */
export class PacedLoad {
  readonly #opts: PacedLoadOptions;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #stoppedAt = 0;
  #issued = 0;
  #inFlight = 0;
  #ok = 0;
  #non2xx = 0;
  #errors = 0;
  readonly #pending = new Set<Promise<void>>();
  readonly #agent: Agent;

  constructor(opts: PacedLoadOptions) {
    this.#opts = opts;
    this.#agent = new Agent({ keepAlive: true, maxSockets: opts.maxInFlight });
  }

  start(): void {
    this.#startedAt = performance.now();
    this.#timer = setInterval(() => this.#tick(), 5);
  }

  /** Stops issuing, waits for the requests in flight, and reports. */
  async stop(): Promise<PacedLoadStats> {
    clearInterval(this.#timer);
    this.#stoppedAt = performance.now();
    const due = this.#due();
    await Promise.all(this.#pending);
    this.#agent.destroy();
    const seconds = (this.#stoppedAt - this.#startedAt) / 1000;
    return {
      issued: this.#issued,
      ok: this.#ok,
      non2xx: this.#non2xx,
      errors: this.#errors,
      behind: Math.max(0, due - this.#issued),
      seconds,
      achievedRate: seconds > 0 ? this.#ok / seconds : 0,
    };
  }

  #due(): number {
    return Math.floor(((performance.now() - this.#startedAt) * this.#opts.rate) / 1000);
  }

  #tick(): void {
    const n = Math.min(this.#due() - this.#issued, this.#opts.maxInFlight - this.#inFlight);
    for (let k = 0; k < n; k++) {
      const request = this.#send(this.#issued++);
      this.#pending.add(request);
      void request.finally(() => this.#pending.delete(request));
    }
  }

  async #send(i: number): Promise<void> {
    this.#inFlight++;
    try {
      const { status } = await sendJson(
        this.#agent,
        `${this.#opts.url}/v1/events`,
        'POST',
        { authorization: `Bearer ${this.#opts.apiKey}` },
        this.#opts.body(i),
      );
      if (status >= 200 && status <= 299) this.#ok++;
      else this.#non2xx++;
    } catch {
      this.#errors++;
    } finally {
      this.#inFlight--;
    }
  }
}
