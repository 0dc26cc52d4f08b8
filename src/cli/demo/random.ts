/** Seeded PRNG (mulberry32): the demo's graph is the same for the same seed, run after run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pareto-distributed integer ≥ `min` (power-law follower counts), capped at `max`. */
export function pareto(random: () => number, min: number, alpha: number, max: number): number {
  const u = random();
  return Math.min(max, Math.floor(min / (1 - u) ** (1 / alpha)));
}
