/**
 * Every failure the service reports to a caller is one of these classes. Each carries a stable
 * string `code` (part of the public contract, listed in contracts/problems.md), the HTTP status
 * it maps to, a message for people, optional structured `details` (e.g. which field is wrong)
 * and the `cause` it came from.
 */
export interface ProblemDetail {
  /** JSON Pointer (RFC 6901) into the request where the problem is, when there is one. */
  pointer?: string
  message: string
  /** The code of the problem this detail belongs to, when one response reports several. */
  code?: string
}

export abstract class TongbanError extends Error {
  abstract readonly code: string
  abstract readonly status: number
  readonly details: ProblemDetail[]

  constructor(message: string, options: { cause?: unknown; details?: ProblemDetail[] } = {}) {
    super(message, { cause: options.cause })
    this.name = new.target.name
    this.details = options.details ?? []
  }
}

export class MalformedJsonError extends TongbanError {
  readonly code = 'malformed_json'
  readonly status = 400
}

/** A page form's body could not be read as the form it claims to be (a broken multipart body, a missing boundary). */
export class MalformedFormError extends TongbanError {
  readonly code = 'malformed_form'
  readonly status = 400
}

export class InvalidRequestError extends TongbanError {
  readonly code = 'invalid_request'
  readonly status = 400
}

export class NotAPdfError extends TongbanError {
  readonly code = 'not_a_pdf'
  readonly status = 400
}

export class UnsupportedMediaTypeError extends TongbanError {
  readonly code = 'unsupported_media_type'
  readonly status = 415
}

export class UnauthorizedError extends TongbanError {
  readonly code = 'unauthorized'
  readonly status = 401
}

export class ForbiddenError extends TongbanError {
  readonly code = 'forbidden'
  readonly status = 403
}

export class NotFoundError extends TongbanError {
  readonly code: string
  readonly status = 404
  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

export class ValidationError extends TongbanError {
  readonly code: string
  readonly status = 422
  constructor(code: string, message: string, details: ProblemDetail[] = []) {
    super(message, { details })
    this.code = code
  }
}

export class InvalidUsccError extends TongbanError {
  readonly code = 'invalid_uscc'
  readonly status = 422
}

export class InvalidTransitionError extends TongbanError {
  readonly code = 'invalid_transition'
  readonly status = 409
}

export class IdempotencyKeyReusedError extends TongbanError {
  readonly code = 'idempotency_key_reused'
  readonly status = 422
}

export class IdempotencyConflictError extends TongbanError {
  readonly code = 'idempotency_in_progress'
  readonly status = 409
}

export class ConfigurationError extends TongbanError {
  readonly code = 'invalid_configuration'
  readonly status = 500
}

/** Something the service needs is not there now (a font, a partner); the request may succeed later. */
export class ServiceUnavailableError extends TongbanError {
  readonly code: string
  readonly status = 503
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options)
    this.code = code
  }
}

/** A partner call outside what the agreement allows: none in force, or a licence type or matter it does not cover. */
export class OutsideAgreementError extends TongbanError {
  readonly code: string
  readonly status = 403
  constructor(code: 'no_active_agreement' | 'outside_agreement', message: string) {
    super(message)
    this.code = code
  }
}
