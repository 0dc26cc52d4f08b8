import type { Http2Session } from 'node:http2';
import { importSPKI, jwtVerify } from 'jose';
import {
  type ApnsRejection,
  PROVIDER_TOKEN_MAX_AGE_MS,
  PROVIDER_TOKEN_MIN_REFRESH_MS,
} from './fake-apns-rules.ts';

/**
 * Provider-token (JWT) checks of the fake APNs, as Apple documents them in "Establishing a token-based
 * connection to APNs": ES256 signed by the team's key (kid = key id, iss = team id), iat at most one hour
 * old, and a connection may switch to a new token at most once every 20 minutes.
 */

/** What the fake needs to verify tokens. */
export interface TokenAuthorityOptions {
  readonly teamId: string;
  readonly keyId: string;
  readonly publicKeyPem: string;
}

export interface TokenAuthority {
  /** Distinct tokens accepted, in order. */
  readonly accepted: string[];
  /** A rejection for this request's token, or undefined when it is accepted on this connection. */
  check(
    authorization: string | undefined,
    jwt: string,
    session: Http2Session | undefined,
  ): Promise<ApnsRejection | undefined>;
}

interface ConnectionTokens {
  readonly seen: Set<string>;
  lastNewAt: number;
}

export function createTokenAuthority(opts: TokenAuthorityOptions, now: () => number): TokenAuthority {
  const key = importSPKI(opts.publicKeyPem, 'ES256');
  // A token's signature and claims never change: verify each distinct token once (the load a benchmark
  // puts on the fake must be the transport's, not ES256 verification).
  const verified = new Map<string, Promise<number | undefined>>();
  const perConnection = new WeakMap<Http2Session, ConnectionTokens>();
  const accepted: string[] = [];
  const acceptedSet = new Set<string>();

  async function issuedAtMs(jwt: string): Promise<number | undefined> {
    try {
      const { payload, protectedHeader } = await jwtVerify(jwt, await key, {
        algorithms: ['ES256'],
        issuer: opts.teamId,
      });
      if (protectedHeader.kid !== opts.keyId || typeof payload.iat !== 'number') return undefined;
      return payload.iat * 1000;
    } catch {
      return undefined;
    }
  }

  return {
    accepted,
    async check(authorization, jwt, session) {
      if (authorization === undefined || jwt === '') return { status: 403, reason: 'MissingProviderToken' };
      let pending = verified.get(jwt);
      if (pending === undefined) {
        pending = issuedAtMs(jwt);
        verified.set(jwt, pending);
      }
      const iatMs = await pending;
      if (iatMs === undefined) return { status: 403, reason: 'InvalidProviderToken' };
      const at = now();
      if (at - iatMs > PROVIDER_TOKEN_MAX_AGE_MS) return { status: 403, reason: 'ExpiredProviderToken' };
      // Apple scopes the refresh limit to the connection: a new token on a connection that switched to
      // another one less than 20 minutes ago is refused (and does not become the connection's token).
      if (session !== undefined) {
        let state = perConnection.get(session);
        if (state === undefined) {
          state = { seen: new Set(), lastNewAt: at };
          perConnection.set(session, state);
        } else if (!state.seen.has(jwt)) {
          if (at - state.lastNewAt < PROVIDER_TOKEN_MIN_REFRESH_MS) {
            return { status: 429, reason: 'TooManyProviderTokenUpdates' };
          }
          state.lastNewAt = at;
        }
        state.seen.add(jwt);
      }
      if (!acceptedSet.has(jwt)) {
        acceptedSet.add(jwt);
        accepted.push(jwt);
      }
      return undefined;
    },
  };
}
