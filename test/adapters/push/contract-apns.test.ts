import { pushTransportContract } from '../../contracts/push-transport.contract.ts';
import { apnsPushHarness } from './contract-harnesses.ts';

pushTransportContract('apns (fake APNs)', apnsPushHarness, {
  platform: 'apns',
  unserved: 'fcm',
  // apns-collapse-id, and apns-id (the message id, a UUID).
  exposes: { collapseId: true, messageId: true },
});
