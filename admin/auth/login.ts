// Staff login, logout and the per-request session check. Replaces @adminjs/express's
// buildAuthenticatedRouter, whose login keeps the pre-login session id (no regeneration: session
// fixation), throttles only by IP in process memory (Retry.retriesContainer, lost on restart and not
// shared across replicas), answers failures with 200, and trusts the session's user until it expires
// (a disabled account stays logged in).
import express, { type Request, type RequestHandler, type Response, type Router } from "express";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type AdminJS from "adminjs";
import type { PrismaClient, StaffUser } from "@prisma/client";
import { hashPassword, verifyPassword } from "../../core/auth/password.ts";
import type { Staff } from "../access.ts";
import { DEFAULT_LANGUAGE, translate, withLanguage } from "../locale/index.ts";
import { loginEmail, loginLimiters } from "./rate-limit.ts";

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const MAX_PASSWORD_LENGTH = 256;

// Unknown emails still cost one scrypt verification, so response time does not reveal which
// emails have accounts.
let dummyHash: Promise<string> | undefined;

export async function authenticate(prisma: PrismaClient, email: string, password: string): Promise<StaffUser | null> {
  if (!email || !password || password.length > MAX_PASSWORD_LENGTH) return null;
  const staff = await prisma.staffUser.findUnique({ where: { email: normalizeEmail(email) } });
  dummyHash ??= hashPassword("coursepay-timing-equaliser");
  const ok = await verifyPassword(password, staff?.passwordHash ?? (await dummyHash));
  return ok && staff && !staff.disabled ? staff : null;
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((e) => (e ? reject(e) : resolve())));
}
function save(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((e) => (e ? reject(e) : resolve())));
}

export interface LoginDeps {
  admin: AdminJS;
  prisma: PrismaClient;
  redis: Redis;
  redisPrefix: string;
  logger: Logger;
  sessionCookie: { name: string; path: string; secure: boolean };
}

/** GET/POST {loginPath}, GET/POST {logoutPath}. Mount under the admin's root path. */
export function loginRoutes(deps: LoginDeps): Router {
  const { admin, prisma, logger } = deps;
  const root = admin.options.rootPath;
  const rel = (p: string) => p.slice(root.length) || "/";
  const router = express.Router();

  const page = async (req: Request, res: Response, status: number, errorMessage: string | null) => {
    const lang = req.lang ?? DEFAULT_LANGUAGE;
    // AdminJS prints errorMessage through its translator only if it is one word (a key): pass the
    // translated sentence for our own keys.
    const message = errorMessage ? translate(lang, `messages.${errorMessage}`, errorMessage) : null;
    const html = await withLanguage(lang, () => admin.renderLogin({ action: admin.options.loginPath, errorMessage: message }));
    res.status(status).type("html").send(html);
  };

  router.get(rel(admin.options.loginPath), (req, res, next) => {
    if (req.session.staffId) return res.redirect(root);
    page(req, res, 200, null).catch(next);
  });

  router.post(
    rel(admin.options.loginPath),
    express.urlencoded({ extended: false, limit: "8kb" }),
    ...loginLimiters(deps.redis, deps.redisPrefix, (req, res, next) => {
      logger.warn({ ip: req.ip, email: loginEmail(req) }, "admin login throttled");
      page(req, res, 429, "tooManyRequests").catch(next);
    }, logger),
    async (req, res, next) => {
      try {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const email = loginEmail(req);
        const password = typeof body.password === "string" ? body.password : "";
        const staff = await authenticate(prisma, email, password);
        if (!staff) {
          logger.info({ ip: req.ip, email }, "admin login failed");
          return await page(req, res, 401, "invalidCredentials");
        }
        await regenerate(req); // a new session id at every login (no fixation)
        req.session.staffId = staff.id;
        await save(req);
        await prisma.staffUser.update({ where: { id: staff.id }, data: { lastLoginAt: new Date() } });
        logger.info({ staffId: staff.id, email: staff.email, role: staff.role }, "admin login");
        res.redirect(302, root);
      } catch (e) {
        // The login page with a message, not a JSON 500: staff see why they cannot sign in.
        logger.error({ err: e, ip: req.ip }, "admin login failed: service unavailable");
        page(req, res, 503, "loginUnavailable").catch(next);
      }
    },
  );

  const logout: RequestHandler = (req, res, next) => {
    const email = req.session.adminUser?.email;
    req.session.destroy((e) => {
      if (e) return next(e);
      const { name, path, secure } = deps.sessionCookie;
      res.clearCookie(name, { path, httpOnly: true, sameSite: "lax", secure });
      if (email) logger.info({ email }, "admin logout");
      res.redirect(302, admin.options.loginPath);
    });
  };
  // POST only (behind sameOriginWrites): a GET can be triggered by any page — an <img> or a link on
  // another site logging staff out. AdminJS's own "log out" item navigates to logoutPath with a GET;
  // components/LoggedIn.ts replaces it with a form POST.
  router.post(rel(admin.options.logoutPath), logout);
  router.all(rel(admin.options.logoutPath), (_req, res) => {
    res.status(405).set("Allow", "POST").type("text/plain").send("log out with POST");
  });
  return router;
}

/**
 * Every other admin route: a valid session of an enabled staff account, re-read from the database
 * on each request (role changes and disabling take effect at once). Sets req.session.adminUser,
 * which AdminJS uses as currentAdmin.
 */
export function requireStaff(deps: { admin: AdminJS; prisma: PrismaClient }): RequestHandler {
  const { admin, prisma } = deps;
  const refuse = (req: Request, res: Response) => {
    if (req.path.startsWith("/api/") || req.get("accept")?.includes("application/json")) {
      res.status(401).json({ error: "not logged in", redirectUrl: admin.options.loginPath });
    } else {
      res.redirect(302, admin.options.loginPath);
    }
  };
  return async (req, res, next) => {
    try {
      const id = req.session.staffId;
      if (!id) return refuse(req, res);
      const staff = await prisma.staffUser.findUnique({ where: { id }, select: { id: true, email: true, role: true, disabled: true } });
      if (!staff || staff.disabled) {
        return req.session.destroy(() => refuse(req, res));
      }
      const lang = req.lang ?? DEFAULT_LANGUAGE;
      const user: Staff & { locale: typeof lang } = {
        id: staff.id,
        email: staff.email,
        role: staff.role,
        title: translate(lang, `labels.role.${staff.role}`, staff.role),
        locale: lang,
      };
      const before = req.session.adminUser;
      if (!before || JSON.stringify(before) !== JSON.stringify(user)) req.session.adminUser = user;
      next();
    } catch (e) {
      next(e);
    }
  };
}

/**
 * Refuses state-changing requests that a browser marks as coming from another site. SameSite=Lax
 * already keeps the session cookie off cross-site POSTs; this is the second lock. Requests without
 * Origin/Referer (non-browser clients) carry no ambient cookie risk and pass.
 */
export function sameOriginWrites(): RequestHandler {
  return (req, res, next) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return next();
    const from = req.get("origin") ?? req.get("referer");
    if (!from) return next();
    let host: string | null = null;
    try {
      host = new URL(from).host;
    } catch {
      /* malformed: refused below */
    }
    if (host && host === req.get("host")) return next();
    res.status(403).type("text/plain").send("cross-site request refused");
  };
}
