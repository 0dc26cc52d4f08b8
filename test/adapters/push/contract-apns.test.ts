import { PushCase, pushTransportContract } from '../../contracts/push-transport.contract.ts';
import { APNS_SENDS_WITHOUT_MESSAGE_ID, apnsPushHarness } from './contract-harnesses.ts';

pushTransportContract('apns (fake APNs)', apnsPushHarness, {
  platform: 'apns',
  unserved: 'fcm',
  // apns-collapse-id, and apns-id (the message id, a UUID).
  exposes: { collapseId: true, messageId: true },
  knownGaps: { [PushCase.MissingMessageId]: APNS_SENDS_WITHOUT_MESSAGE_ID },
});
