/**
 * better-auth for this app: built once per `createApp` from its deps (the Worker builds an app per
 * request, the Node server one for its lifetime), never at module scope.
 */
import { ErrorCode } from "@vigil/contract";
import { type Auth, createAuth, DomainError } from "@vigil/engine";
import type { AppDeps } from "./deps.ts";

/**
 * The auth secret is derived from VIGIL_SECRET_KEY rather than being the key itself: the same key also
 * seals webhook secrets, and one key should not serve two purposes in the clear.
 */
async function derivedSecret(secretKey: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secretKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("vigil accounts v1"));
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Where people reach Vigil: the configured URL, or (where the runtime vouches for the Host header, as
 * Cloudflare does) the request's own origin. Links in account emails are built from it.
 */
export function accountsBaseUrl(deps: AppDeps, request: Request): string {
  return deps.config.publicUrl ?? deps.config.siteUrl ?? new URL(request.url).origin;
}

/** Accounts cannot work on this deployment as configured: a 503 that says what to set. */
export class AccountsUnavailableError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.unavailable, message);
  }
}

/** Returns a function that hands out this app's one Auth instance, made on first use. */
export function authProvider(deps: AppDeps): (request: Request) => Promise<Auth> {
  let auth: Promise<Auth> | null = null;
  return (request) => {
    auth ??= (async () => {
      const secretKey = deps.config.secretKey;
      if (!secretKey) {
        throw new AccountsUnavailableError(
          "accounts need VIGIL_SECRET_KEY (wrangler secret put VIGIL_SECRET_KEY)",
        );
      }
      return createAuth({
        db: deps.db,
        clock: deps.clock,
        baseUrl: accountsBaseUrl(deps, request),
        secret: await derivedSecret(secretKey),
        signUpMode: deps.config.signUpMode,
        ...(deps.mailer ? { mailer: deps.mailer } : {}),
        ...(deps.config.trustedOrigins ? { trustedOrigins: deps.config.trustedOrigins } : {}),
      });
    })();
    auth.catch(() => {
      auth = null;
    });
    return auth;
  };
}
