import { pushTransportContract } from '../../contracts/push-transport.contract.ts';
import { apnsPushHarness, fcmPushHarness, routedPushHarness } from './contract-harnesses.ts';

pushTransportContract(
  'routing, default route → fcm',
  async () => routedPushHarness(await fcmPushHarness(), 'fcm'),
  {
    platform: 'fcm',
    unserved: 'apns',
    exposes: { collapseId: true, messageId: true },
  },
);

pushTransportContract(
  "routing, the tenant's own route → apns",
  async () => routedPushHarness(await apnsPushHarness(), 'apns', 'acme'),
  {
    platform: 'apns',
    unserved: 'fcm',
    exposes: { collapseId: true, messageId: true },
  },
);
