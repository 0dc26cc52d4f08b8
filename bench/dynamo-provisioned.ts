/**
 * What a DynamoDB capacity unit consumed costs on a provisioned table with auto scaling, against
 * on-demand. Provisioned capacity is billed by the hour whether used or not, so the price of a
 * consumed unit is the hourly price over the share of the provisioned capacity that was used:
 * auto scaling's target utilization, less what its lag and its limits on scaling down leave idle
 * over the day. That share is simulated here, minute by minute, on a daily curve of the scenario's
 * peak-to-average ratio, with the rules of DynamoDB auto scaling (docs/capacity.md):
 *
 * - scale up when consumption stays above the target for `upAlarmMinutes` consecutive minutes,
 *   taking effect `upDelayMinutes` later (CloudWatch's alarm delay and the table update);
 * - scale down when it stays 20 points under the target for `downAlarmMinutes` minutes, at most 4
 *   times at any time of a day and then once an hour (DynamoDB's limit on decreases);
 * - meanwhile consumption over the provisioned capacity draws on burst capacity (up to 300 s of
 *   unused capacity is kept) or is throttled and retried: `peakOverProvisioned` says whether the
 *   curve ever needed it.
 *
 * Pure arithmetic: a test checks it on hand-computed cases.
 */

/** How auto scaling is configured and assumed to behave. */
export interface AutoScalingAssumptions {
  /** Consumed over provisioned capacity that target tracking aims at (0.7 = 70 %). */
  readonly targetUtilization: number;
  /** The day's peak rate over its average rate. */
  readonly peakToAverage: number;
  /** The day's quietest minute over its average rate. @default DEFAULT_TROUGH (0.2) */
  readonly trough?: number;
  /** Consecutive minutes above target before a scale-up alarm fires. @default 2 */
  readonly upAlarmMinutes?: number;
  /** Minutes from the alarm to the new capacity. @default 3 */
  readonly upDelayMinutes?: number;
  /** Consecutive minutes 20 points under target before a scale-down alarm fires. @default 15 */
  readonly downAlarmMinutes?: number;
}

/** The simulated day. */
export interface AutoScalingDay {
  /** Consumed units over provisioned units, over the day: what a consumed unit is billed at. */
  readonly effectiveUtilization: number;
  /** The highest minute's consumption over its provisioned capacity (above 1: burst or throttling). */
  readonly peakOverProvisioned: number;
  /** Minutes of the day whose consumption exceeded the provisioned capacity. */
  readonly minutesOverProvisioned: number;
  readonly scaleUps: number;
  readonly scaleDowns: number;
}

const MINUTES = 1440;

/**
 * The day's rate, minute by minute, mean 1: a trough of `trough` (the quietest minute over the
 * average) plus a smooth daily wave `(1 + cos)^k` peaking at midday, with `k` found so that the
 * peak over the mean is `peakToAverage`.
 */
export function dailyCurve(peakToAverage: number, trough = DEFAULT_TROUGH): number[] {
  if (!(peakToAverage >= 1)) throw new Error(`peakToAverage must be at least 1, not ${peakToAverage}`);
  if (!(trough > 0 && trough <= 1)) throw new Error(`trough must be in (0, 1], not ${trough}`);
  if (peakToAverage === 1 || trough === 1) return Array.from({ length: MINUTES }, () => 1);
  const wave = waveCurve((peakToAverage - trough) / (1 - trough));
  return wave.map((x) => trough + (1 - trough) * x);
}

/** The quietest minute of the day over its average, when the scenario does not say. */
export const DEFAULT_TROUGH = 0.2;

/** `(1 + cos)^k` peaking at midday, mean 1, peak over mean `ratioWanted`. */
function waveCurve(ratioWanted: number): number[] {
  const peakToAverage = ratioWanted;
  const shape = (k: number) =>
    Array.from({ length: MINUTES }, (_, m) => (1 + Math.cos(2 * Math.PI * (m / MINUTES - 0.5))) ** k);
  const ratio = (k: number) => {
    const v = shape(k);
    return Math.max(...v) / (v.reduce((a, b) => a + b, 0) / MINUTES);
  };
  let lo = 0;
  let hi = 64;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (ratio(mid) < peakToAverage) lo = mid;
    else hi = mid;
  }
  const v = shape(lo);
  const mean = v.reduce((a, b) => a + b, 0) / MINUTES;
  return v.map((x) => x / mean);
}

/** Auto scaling over two days of the curve; the second day is measured (the first sets it up). */
export function simulateAutoScaling(a: AutoScalingAssumptions): AutoScalingDay {
  const t = a.targetUtilization;
  if (!(t > 0 && t <= 1)) throw new Error(`targetUtilization must be in (0, 1], not ${t}`);
  const upAlarm = a.upAlarmMinutes ?? 2;
  const upDelay = a.upDelayMinutes ?? 3;
  const downAlarm = a.downAlarmMinutes ?? 15;
  const curve = dailyCurve(a.peakToAverage, a.trough);
  const rate = (m: number) => curve[m % MINUTES] as number;
  let provisioned = rate(0) / t;
  let above = 0;
  let below = 0;
  let pendingUpAt: number | undefined;
  let decreasesToday = 0;
  let lastDecrease = Number.NEGATIVE_INFINITY;
  let consumed = 0;
  let paid = 0;
  let peakOver = 0;
  let minutesOver = 0;
  let scaleUps = 0;
  let scaleDowns = 0;
  for (let m = 0; m < 2 * MINUTES; m++) {
    if (m % MINUTES === 0) decreasesToday = 0;
    const c = rate(m);
    if (pendingUpAt !== undefined && m >= pendingUpAt) {
      provisioned = Math.max(provisioned, c / t);
      pendingUpAt = undefined;
      if (m >= MINUTES) scaleUps++;
    }
    above = c > t * provisioned ? above + 1 : 0;
    if (above >= upAlarm && pendingUpAt === undefined) {
      pendingUpAt = m + upDelay;
      above = 0;
    }
    below = c < (t - 0.2) * provisioned ? below + 1 : 0;
    const mayDecrease = decreasesToday < 4 || m - lastDecrease >= 60;
    if (below >= downAlarm && mayDecrease && pendingUpAt === undefined) {
      provisioned = c / t;
      below = 0;
      decreasesToday++;
      lastDecrease = m;
      if (m >= MINUTES) scaleDowns++;
    }
    if (m >= MINUTES) {
      consumed += c;
      paid += provisioned;
      peakOver = Math.max(peakOver, c / provisioned);
      if (c > provisioned) minutesOver++;
    }
  }
  return {
    effectiveUtilization: consumed / paid,
    peakOverProvisioned: peakOver,
    minutesOverProvisioned: minutesOver,
    scaleUps,
    scaleDowns,
  };
}

/** Hourly prices of provisioned capacity (bench/aws-prices.ts). */
export interface ProvisionedPrices {
  readonly dynamoProvisionedWcuHour: number;
  readonly dynamoProvisionedRcuHour: number;
}

/**
 * Dollars per million write and read units consumed on provisioned tables: an hour of one unit
 * serves 3,600 units at full use, `effectiveUtilization` of them in practice.
 */
export function provisionedPerMillionUnits(prices: ProvisionedPrices, effectiveUtilization: number) {
  return {
    write: (prices.dynamoProvisionedWcuHour / 3600 / effectiveUtilization) * 1e6,
    read: (prices.dynamoProvisionedRcuHour / 3600 / effectiveUtilization) * 1e6,
  };
}
