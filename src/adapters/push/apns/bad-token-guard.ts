/**
 * Holds back device deactivation when BadDeviceToken stops meaning "this token is bad".
 *
 * APNs answers BadDeviceToken both for a token that is malformed and for a good token sent to the
 * other environment (a development build's token to production, or the reverse). A deployment
 * with the wrong `environment` therefore gets BadDeviceToken for every device, and deactivating on
 * each answer would wipe the whole app's devices in one fan-out. A real run of dead tokens is a
 * small share of the answers; a misconfiguration is nearly all of them. So: among the last
 * `window` answers, once at least `minSamples` were seen and more than `maxShare` were
 * BadDeviceToken, the answers are still failures (audited with their reason) but devices are
 * kept, and the transport logs an error naming the likely cause. The guard lifts by itself once
 * the share falls again (the environment fixed, or the dead tokens gone).
 */
export class BadTokenGuard {
  readonly #ring: Uint8Array;
  readonly #minSamples: number;
  readonly #maxShare: number;
  #next = 0;
  #seen = 0;
  #bad = 0;

  constructor(opts: { window?: number; minSamples?: number; maxShare?: number } = {}) {
    this.#ring = new Uint8Array(opts.window ?? 200);
    this.#minSamples = opts.minSamples ?? 50;
    this.#maxShare = opts.maxShare ?? 0.5;
  }

  /** Records one APNs answer (every status, not only failures). */
  record(badDeviceToken: boolean): void {
    const value = badDeviceToken ? 1 : 0;
    if (this.#seen === this.#ring.length) this.#bad -= this.#ring[this.#next]!;
    else this.#seen++;
    this.#ring[this.#next] = value;
    this.#bad += value;
    this.#next = (this.#next + 1) % this.#ring.length;
  }

  /** Whether BadDeviceToken answers look like a misconfiguration rather than dead tokens. */
  get tripped(): boolean {
    return this.#seen >= this.#minSamples && this.#bad > this.#maxShare * this.#seen;
  }
}
