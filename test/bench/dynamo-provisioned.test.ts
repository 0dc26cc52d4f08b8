import { describe, expect, it } from 'vitest';
import { AWS_PRICES } from '../../bench/aws-prices.ts';
import {
  dailyCurve,
  provisionedPerMillionUnits,
  simulateAutoScaling,
} from '../../bench/dynamo-provisioned.ts';

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('dailyCurve', () => {
  it('has a mean of 1, the asked peak-to-average ratio and the asked quietest minute', () => {
    const curve = dailyCurve(3, 0.2);
    expect(curve).toHaveLength(1440);
    expect(mean(curve)).toBeCloseTo(1, 9);
    expect(Math.max(...curve)).toBeCloseTo(3, 6);
    expect(Math.min(...curve)).toBeCloseTo(0.2, 6);
    expect(dailyCurve(1)).toEqual(Array.from({ length: 1440 }, () => 1));
  });

  it('refuses a ratio under 1 and a trough outside (0, 1]', () => {
    expect(() => dailyCurve(0.5)).toThrow(/peakToAverage must be at least 1/);
    expect(() => dailyCurve(3, 0)).toThrow(/trough must be in/);
  });
});

describe('simulateAutoScaling', () => {
  it('uses exactly the target on a flat day, with nothing to scale', () => {
    const day = simulateAutoScaling({ targetUtilization: 0.7, peakToAverage: 1 });
    expect(day.effectiveUtilization).toBeCloseTo(0.7, 9);
    expect(day).toMatchObject({ scaleUps: 0, scaleDowns: 0, minutesOverProvisioned: 0 });
  });

  it('follows a day of peak 3 a little under its target, never short of capacity, within the daily decrease limit', () => {
    const day = simulateAutoScaling({ targetUtilization: 0.7, peakToAverage: 3 });
    // Scale-downs wait for 15 quiet minutes and are rationed (4, then one an hour): capacity trails
    // the evening's fall, so the day's utilization is under the target.
    expect(day.effectiveUtilization).toBeLessThan(0.7);
    expect(day.effectiveUtilization).toBeGreaterThan(0.6);
    expect(day.peakOverProvisioned).toBeLessThan(1);
    expect(day.minutesOverProvisioned).toBe(0);
    expect(day.scaleUps).toBeGreaterThan(0);
    expect(day.scaleDowns).toBeLessThanOrEqual(4 + 23);
  });

  it('is short of capacity when scaling up lags a steep morning at a high target (burst capacity or throttling)', () => {
    const day = simulateAutoScaling({
      targetUtilization: 0.95,
      peakToAverage: 6,
      trough: 0.05,
      upAlarmMinutes: 5,
      upDelayMinutes: 10,
    });
    expect(day.peakOverProvisioned).toBeGreaterThan(1);
    expect(day.minutesOverProvisioned).toBeGreaterThan(0);
  });
});

describe('provisionedPerMillionUnits', () => {
  it('divides an hour of a unit by the 3,600 units it serves at the utilization reached', () => {
    // $0.00065 / 3,600 / 0.5 × 1e6 = $0.3611; $0.00013 / 3,600 / 0.5 × 1e6 = $0.0722
    const price = provisionedPerMillionUnits(AWS_PRICES, 0.5);
    expect(price.write).toBeCloseTo(0.36111, 5);
    expect(price.read).toBeCloseTo(0.072222, 6);
  });
});
