import type { InboxDeps } from '../handlers/inbox.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { Ports } from '../ports/ports.ts';
import type { Auth } from './auth.ts';
import type { UserTokens } from './user-tokens.ts';

/** What every route module gets from `buildApp`: built once, shared by every request. */
export interface RouteContext {
  readonly ports: Ports;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly auth: Auth;
  readonly tokens: UserTokens;
  readonly inboxDeps: InboxDeps;
}
