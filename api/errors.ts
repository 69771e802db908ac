// JSON errors of the buyer API: {error, details?}. 400 says what is wrong with which field; 404 is
// the same whether an order does not exist or belongs to someone else (never reveal other orders).
import type { ErrorRequestHandler } from "express";
import { z } from "zod";
import { CommandRefusedError, OrderInputError, OrderNotFoundError } from "../core/orders/index.ts";

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly details?: unknown) {
    super(message);
    this.name = "ApiError";
  }
}

/** Validate with zod; a failure is a 400 listing each problem with its path. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ApiError(400, `invalid ${what}`, r.error.issues.map((i) => ({ path: i.path.join(".") || "(root)", message: i.message })));
}

/** Domain errors → HTTP; anything else falls through to the generic responder. */
export const domainErrors: ErrorRequestHandler = (err, req, res, next) => {
  const requestId = (req as { requestId?: string }).requestId;
  if (err instanceof ApiError) {
    res.status(err.status).json({ error: err.message, ...(err.details ? { details: err.details } : {}), requestId });
  } else if (err instanceof OrderInputError) {
    res.status(400).json({ error: err.message, ...(err.details.length ? { details: err.details } : {}), requestId });
  } else if (err instanceof OrderNotFoundError) {
    res.status(404).json({ error: "order not found", requestId });
  } else if (err instanceof CommandRefusedError) {
    res.status(409).json({ error: err.message, requestId });
  } else if (err?.type === "entity.parse.failed") {
    res.status(400).json({ error: "body is not valid JSON", requestId });
  } else {
    next(err);
  }
};
