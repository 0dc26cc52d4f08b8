import { generate } from 'selfsigned';

/** A self-signed certificate and key for a TLS server on 127.0.0.1 / localhost. */
export interface LocalCert {
  /** The certificate, PEM: what a client trusts (`ca`). */
  readonly cert: string;
  /** Its private key, PEM. */
  readonly key: string;
}

/** A fresh EC certificate valid for 127.0.0.1 and localhost (the fake providers' TLS). */
export async function localCert(): Promise<LocalCert> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
