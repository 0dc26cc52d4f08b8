import { pushTransportContract } from '../../contracts/push-transport.contract.ts';
import { snsPushHarness } from './contract-harnesses.ts';

pushTransportContract('sns (mocked SNS, APNs application only)', () => snsPushHarness('apns'), {
  platform: 'apns',
  unserved: 'fcm',
  // The AWS.SNS.MOBILE.APNS.COLLAPSE_ID attribute; SNS's APNs payload has no message id.
  exposes: { collapseId: true, messageId: false },
});

pushTransportContract('sns (mocked SNS, FCM application only)', () => snsPushHarness('fcm'), {
  platform: 'fcm',
  unserved: 'apns',
  // android.collapse_key, and data.messageId of the fcmV1Message.
  exposes: { collapseId: true, messageId: true },
});
