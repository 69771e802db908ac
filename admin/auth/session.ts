// Server-side staff sessions: express-session with the session in PostgreSQL (table staff_session,
// connect-pg-simple's layout, created by the migrations — never by the store at runtime). The cookie
// holds only the signed session id: httpOnly, SameSite=Lax, Secure when the admin is served over
// https, scoped to the admin's path. Sessions end 8 hours after login (absolute, not sliding: no
// write per request, and a stolen cookie does not live forever).
import session from "express-session";
import connectPgSimple from "connect-pg-simple";
import pg from "pg";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import type { Staff } from "../access.ts";
import type { Language } from "../locale/index.ts";

export const SESSION_COOKIE = "coursepay_admin";
export const SESSION_TTL_MS = 8 * 3600_000;

declare module "express-session" {
  interface SessionData {
    staffId: number;
    /** What AdminJS reads as currentAdmin (@adminjs/express routeHandler: req.session.adminUser). */
    adminUser: Staff & { locale: Language };
  }
}

export interface AdminSession {
  middleware: RequestHandler;
  /** True when cookies carry the Secure flag (the admin's public URL is https). */
  secure: boolean;
  close(): Promise<void>;
}

export function createSession(opts: { databaseUrl: string; secret: string; publicUrl: string; cookiePath: string; logger: Logger }): AdminSession {
  const secure = new URL(opts.publicUrl).protocol === "https:";
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 4 });
  pool.on("error", (e) => opts.logger.warn({ err: e.message }, "session store: idle connection error"));
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    pool,
    tableName: "staff_session",
    createTableIfMissing: false,
    disableTouch: true,
    errorLog: (...args: unknown[]) => opts.logger.warn({ detail: args.map(String).join(" ") }, "session store error"),
  });
  const middleware = session({
    name: SESSION_COOKIE,
    secret: opts.secret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    // Behind a TLS-terminating proxy the connection itself is http; trust its X-Forwarded-Proto
    // (app.ts sets `trust proxy` accordingly) so the Secure cookie is still issued.
    proxy: secure,
    cookie: { httpOnly: true, sameSite: "lax", secure, path: opts.cookiePath, maxAge: SESSION_TTL_MS },
  });
  return {
    middleware,
    secure,
    async close() {
      await store.close();
      await pool.end();
    },
  };
}
