import { pushTransportContract } from '../../contracts/push-transport.contract.ts';
import { recordingPushHarness } from './contract-harnesses.ts';

pushTransportContract('recording sink', recordingPushHarness, {
  platform: 'apns',
  unserved: { skip: 'the recording sink serves every platform' },
  exposes: { collapseId: true, messageId: true },
});
