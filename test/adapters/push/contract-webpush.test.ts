import { pushTransportContract } from '../../contracts/push-transport.contract.ts';
import { webPushHarness } from './webpush-fixture.ts';

pushTransportContract('webpush (fake push service)', webPushHarness, {
  platform: 'webpush',
  unserved: 'apns',
  // The Topic header carries the collapse id; Web Push has no message id of the sender's.
  exposes: { collapseId: true, messageId: false },
});
