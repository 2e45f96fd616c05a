// What a refused request tells the caller: the API's RFC 9457 problem (src/http/problem.ts) as an Error,
// so one catch reads the status, the machine-readable type and the field errors by their paths.

/** One field's error: its dotted path (`items.0.payload.amount`, `querystring.starting_after`) and why. */
export interface FieldError {
  path: string;
  message: string;
}

/** The problem+json body every error answer carries. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
}

export class PrismoError extends Error {
  readonly status: number;
  /** `/problems/<slug>`: what to branch on (validation-error, not-found, rate-limited, unavailable…). */
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[];
  /** The problem's requestId, else the X-Request-Id the failed attempt was sent (and logged) under: what to quote to support. */
  readonly requestId: string | undefined;
  /** Seconds the API asked to wait (Retry-After on a 429 or 503), when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(problem: Problem, { requestId, retryAfterSeconds }: { requestId?: string; retryAfterSeconds?: number } = {}) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
    this.name = 'PrismoError';
    this.status = problem.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
    this.requestId = problem.requestId ?? requestId;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The problem of an error answer; a body that is not one (a proxy's HTML page) becomes its detail. */
export function problemOf(status: number, statusText: string, text: string): Problem {
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (body && typeof body === 'object' && typeof body.type === 'string') {
      return { title: statusText, detail: '', ...body, status: typeof body.status === 'number' ? body.status : status } as Problem;
    }
  } catch {
    // Not JSON: kept as the detail below.
  }
  return { type: 'about:blank', title: statusText || `HTTP ${status}`, status, detail: text.slice(0, 500) };
}
