import type { Clock } from '../../ports/clock.ts';

/**
 * The demo's clock: starts at a chosen instant (`--at`) and runs forward at real speed, so
 * quiet-hours windows are the same run after run while visibility timeouts and leases still pass.
 * Re-anchored to the first run's start when a data dir is resumed, so time never steps back
 * across a restart (a lease taken before a crash still runs out after it).
 */
export class DemoClock implements Clock {
  #at: number;
  #wall: number;
  readonly #wallNow: () => number;

  constructor(at: number, wallNow: () => number = Date.now) {
    this.#wallNow = wallNow;
    this.#at = at;
    this.#wall = wallNow();
  }

  now(): number {
    return this.#at + (this.#wallNow() - this.#wall);
  }

  /** Where the clock was anchored: the instant, and the wall-clock ms it stood for. */
  get anchor(): { readonly at: number; readonly wall: number } {
    return { at: this.#at, wall: this.#wall };
  }

  /** Continues a clock anchored earlier (a resumed run). Never moves time backwards. */
  resume(anchor: { readonly at: number; readonly wall: number }): void {
    const resumed = anchor.at + (this.#wallNow() - anchor.wall);
    if (resumed < this.now()) return;
    this.#at = anchor.at;
    this.#wall = anchor.wall;
  }
}
