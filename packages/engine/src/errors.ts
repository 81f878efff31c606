import { ErrorCode } from "@vigil/contract";

/**
 * Typed domain failures. The API maps each class to a status once, in its error handler; domain code
 * never speaks HTTP. Messages are safe to show to the caller.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super(ErrorCode.notFound, `${what} not found`);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.conflict, message);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = "a valid API key is required: Authorization: Bearer <key>") {
    super(ErrorCode.unauthorized, message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.forbidden, message);
  }
}

/** Input that passed the wire schema but breaks a domain rule, pointing at the field. */
export class InvalidInputError extends DomainError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(ErrorCode.validation, `${path}: ${message}`);
  }
}

/** Too many requests for one key (a check, an address, an API key) in the current window. */
export class RateLimitedError extends DomainError {
  constructor(
    message: string,
    /** whole seconds until the window frees up (the Retry-After header) */
    readonly retryAfter: number,
  ) {
    super(ErrorCode.rateLimited, message);
  }
}

/** A project already holds as many of something as it may (checks, hosts, channels, rules). */
export class CapReachedError extends DomainError {
  constructor(
    readonly resource: string,
    readonly cap: number,
    setting: string,
  ) {
    super(
      ErrorCode.capReached,
      `this project has reached its cap of ${cap} ${resource} (${setting}); delete some, or raise the cap`,
    );
  }
}
