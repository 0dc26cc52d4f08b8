import { describe, expect, it } from 'vitest';
import { DEFAULT_WEB_PUSH_HOSTS, endpointAllowed } from '../../../src/domain/web-push-endpoints.ts';
import { readRuntimeConfig } from '../../../src/runtime/config.ts';
import { webPushBench } from './webpush-fixture.ts';

describe('Web Push endpoints: only push services are sent to', () => {
  it("takes the browsers' push services and their subdomains", () => {
    for (const endpoint of [
      'https://fcm.googleapis.com/fcm/send/abc',
      'https://updates.push.services.mozilla.com/wpush/v2/abc',
      'https://web.push.apple.com/QGq',
      'https://wns2-par02p.notify.windows.com/w/?token=abc',
    ]) {
      expect(endpointAllowed(endpoint, DEFAULT_WEB_PUSH_HOSTS), endpoint).toBe(true);
    }
  });

  it('refuses hosts inside a network, look-alikes, IP addresses and plain http unless listed as they are', () => {
    for (const endpoint of [
      'https://internal.corp.example/admin',
      'https://fcm.googleapis.com.evil.example/x',
      'https://evilfcm.googleapis.com.example/x',
      'https://10.0.0.5/push',
      'https://[::1]/push',
      'http://127.0.0.1:8080/push',
      'http://fcm.googleapis.com/fcm/send/abc',
      'ftp://fcm.googleapis.com/x',
      'https://fcm.googleapis.com:22/x',
      'https://updates.push.services.mozilla.com:8080/x',
      'not a url',
    ]) {
      expect(endpointAllowed(endpoint, DEFAULT_WEB_PUSH_HOSTS), endpoint).toBe(false);
    }
    expect(endpointAllowed('http://127.0.0.1:8080/push', ['127.0.0.1'])).toBe(true);
    expect(endpointAllowed('http://sub.127.0.0.1.example/push', ['127.0.0.1'])).toBe(false);
  });

  it('sends nothing to a subscription elsewhere, and has its device removed', async () => {
    // Prepare: a transport with the known hosts only, and a subscription at the loopback fake
    const bench = await webPushBench({ endpointHosts: DEFAULT_WEB_PUSH_HOSTS });
    try {
      const { token } = bench.subscribe();
      // Act
      const result = await bench.transport.send({
        tenantId: 'acme',
        userId: 'alice',
        token,
        platform: 'webpush',
        title: 'Bob liked your post',
        body: 'Launch plan',
        category: 'social',
        collapseId: '0123456789abcdef0123456789abcdef',
        messageId: '01234567-89ab-8def-8123-456789abcdef',
        data: { notificationId: '01JS0000000000000000000000', eventId: 'e1', type: 'like', actorId: 'bob' },
      });
      // Assess
      expect(result).toEqual({ status: 'rejected', reason: 'endpoint_not_allowed', deactivateDevice: true });
      expect(bench.service.requests()).toBe(0);
    } finally {
      await bench.service.close();
    }
  });

  it('reads FANOUT_WEBPUSH_ENDPOINT_HOSTS as hosts added to the known ones, and refuses a malformed list', () => {
    const config = readRuntimeConfig({ FANOUT_WEBPUSH_ENDPOINT_HOSTS: ' Push.Example.COM ,127.0.0.1' });
    expect(config.delivery.webPushEndpointHosts).toEqual([
      ...DEFAULT_WEB_PUSH_HOSTS,
      'push.example.com',
      '127.0.0.1',
    ]);
    expect(readRuntimeConfig({}).delivery.webPushEndpointHosts).toBeUndefined();
    expect(() => readRuntimeConfig({ FANOUT_WEBPUSH_ENDPOINT_HOSTS: 'https://push.example.com/' })).toThrow(
      /FANOUT_WEBPUSH_ENDPOINT_HOSTS must be host names/,
    );
  });
});
