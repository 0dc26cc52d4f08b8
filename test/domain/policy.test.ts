import { describe, expect, it } from 'vitest';
import { typePolicy } from '../../src/domain/policy.ts';

describe('typePolicy', () => {
  it.each([
    ['post', 'content', ['push']],
    ['comment', 'social', ['push', 'email']],
    ['like', 'social', ['push']],
    ['mention', 'mention', ['push', 'email']],
    ['follow', 'social', ['push']],
    ['critical.outage', 'critical', ['push', 'email']],
    ['security.login', 'critical', ['push', 'email']],
    ['repost', 'social', ['push']],
    ['critical', 'social', ['push']],
    ['security', 'social', ['push']],
  ])('maps %s to %s on %j', (type, category, channels) => {
    expect(typePolicy(type)).toEqual({ category, channels });
  });
});
