import { SESv2Client } from '@aws-sdk/client-sesv2';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SesEmailTransport } from '../../src/adapters/aws/ses-email.ts';
import { freePort } from '../../src/runtime/local-aws/emulators.ts';
import { emailTransportContract } from '../contracts/email-transport.contract.ts';
import { emulatorEndpoints } from '../support/aws.ts';

/** What aws-ses-v2-local keeps of one email (the fields the harness reads). */
interface StoredEmail {
  readonly subject: string;
  readonly destination: { readonly to: readonly string[] };
  readonly body: { readonly text?: string; readonly html?: string };
  readonly headers?: readonly { readonly name: string; readonly value: string }[];
}

/** The emails the emulator holds for `to` (other tests share it, so never the whole store). */
async function storedFor(to: string): Promise<StoredEmail[]> {
  const response = await fetch(`${emulatorEndpoints().ses}/store`);
  const { emails } = (await response.json()) as { emails: StoredEmail[] };
  return emails.filter((e) => e.destination.to.includes(to));
}

/*
 * Against the emulator the Vitest global set-up starts. The client's endpoint is read per request,
 * so breaking the provider points the same transport at a port nobody listens on.
 */
emailTransportContract(
  'ses (aws-ses-v2-local)',
  async () => {
    let endpoint = new URL(emulatorEndpoints().ses);
    let requests = 0;
    const ses = new SESv2Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      endpoint: async () => ({
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: Number(endpoint.port),
        path: '/',
      }),
      requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 5_000 }),
    });
    ses.middlewareStack.add(
      (next) => (args) => {
        requests++;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'countSesRequests' },
    );
    const transport = new SesEmailTransport({ ses, from: 'notify@fanout.example' });
    return {
      transport,
      received: async (to) =>
        (await storedFor(to)).map((e) => ({
          subject: e.subject,
          text: e.body.text ?? '',
          ...(e.body.html === undefined ? {} : { html: e.body.html }),
          headers: Object.fromEntries((e.headers ?? []).map((x) => [x.name.toLowerCase(), x.value])),
        })),
      requests: async () => requests,
      breakProvider: async () => {
        endpoint = new URL(`http://127.0.0.1:${await freePort()}`);
      },
      refuse: async () => {
        throw new Error('aws-ses-v2-local cannot refuse a message');
      },
      close: async () => ses.destroy(),
    };
  },
  {
    cannotRefuse:
      'aws-ses-v2-local accepts every message (aws-ses-email.test.ts covers MessageRejected on a mocked SES)',
  },
);
