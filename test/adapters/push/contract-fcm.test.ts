import { pushTransportContract } from '../../contracts/push-transport.contract.ts';
import { fcmPushHarness } from './contract-harnesses.ts';

pushTransportContract('fcm (fake FCM)', fcmPushHarness, {
  platform: 'fcm',
  unserved: 'apns',
  // android.collapse_key, and data.messageId.
  exposes: { collapseId: true, messageId: true },
});
