/**
 * The admin API's one error shape. Every answer that is not a success carries a code of the one
 * catalogue (src/errors.ts, docs/errors.md), a message that says what to fix and, for a refused
 * input, every problem found at once, each naming where it is (body.to, query.from, params.n):
 *
 *   { "error": { "code": "CG_ERR_API_INPUT", "message": "2 problems: …",
 *                "problems": [ { "path": "body.to", "message": "…" }, … ] } }
 *
 * A blocked call is not an error: it is a 200 with the decision (verdict "block", its reasons).
 */
import { CallgateError, type ErrorCode } from '../errors';

/** One thing wrong with a request: where (body.field, query.name, params.name) and what to fix. */
export type Problem = { path: string; message: string };

export type ErrorBody = { error: { code: ErrorCode; message: string; problems?: Problem[] } };

/** A request the API answers with an error: the HTTP status, the catalogue code, the message. */
export class ApiError extends CallgateError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly problems?: Problem[],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.problems !== undefined) error.problems = this.problems;
    return { error };
  }
}

/** 400 CG_ERR_API_INPUT listing every problem. */
export function invalid(problems: Problem[]): ApiError {
  const head =
    problems.length === 1
      ? `${problems[0]!.path}: ${problems[0]!.message}`
      : `${problems.length} problems: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
  return new ApiError(400, 'CG_ERR_API_INPUT', `invalid request, nothing was changed: ${head}`, problems);
}

export type AjvError = {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: { properties?: Record<string, unknown> };
};

/** ajv's errors as problems: where (body.connect.context) and what to fix. */
export function validationProblems(errors: AjvError[], context: string | undefined): Problem[] {
  const where = context === 'querystring' ? 'query' : (context ?? 'body');
  return errors.map((e) => {
    const base = [where, ...e.instancePath.split('/').filter(Boolean)].join('.');
    switch (e.keyword) {
      case 'required':
        return { path: `${base}.${String(e.params.missingProperty)}`, message: 'is required' };
      case 'additionalProperties': {
        const known = Object.keys(e.parentSchema?.properties ?? {});
        return {
          path: `${base}.${String(e.params.additionalProperty)}`,
          message: `is not a field of this request${known.length ? ` (fields: ${known.join(', ')})` : ''}`,
        };
      }
      case 'type':
        return {
          path: base,
          message: `must be ${e.params.type === 'integer' ? 'an integer' : `a ${String(e.params.type)}`}`,
        };
      case 'minLength':
        return { path: base, message: e.params.limit === 1 ? 'must not be empty' : (e.message ?? 'too short') };
      case 'enum':
        return { path: base, message: `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}` };
      default:
        return { path: base, message: e.message ?? e.keyword };
    }
  });
}

/** JSON Schema of the error body (OpenAPI). */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  description:
    'Every error answer. `code` is one of docs/errors.md (CG_ERR_*); `problems` lists every problem of a refused input.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', pattern: '^CG_ERR_[A-Z_]+$', example: 'CG_ERR_API_INPUT' },
        message: { type: 'string' },
        problems: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path', 'message'],
            properties: {
              path: { type: 'string', example: 'body.to' },
              message: { type: 'string' },
            },
          },
        },
      },
    },
  },
} as const;
