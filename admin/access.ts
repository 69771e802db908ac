// Who may do what in the back office. One table, read by three enforcers:
//   1. AdminJS `isAccessible` on every action (hides buttons, and AdminJS refuses the call with an
//      error notice — but with HTTP 200, see actionGuard below);
//   2. actionGuard(), an express middleware in front of AdminJS's API that answers 403 before AdminJS
//      runs anything;
//   3. the command handlers themselves (actions/command.ts), which check again before calling
//      core/orders — so a missing isAccessible on some future action cannot open a write path.
// Anything not listed is refused (deny by default).
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import type { StaffRole } from "@prisma/client";

export type Role = StaffRole;
export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** What AdminJS keeps as `currentAdmin` (req.session.adminUser): no secrets, it is sent to the page. */
export interface Staff {
  id: number;
  email: string;
  role: Role;
  /** Shown by AdminJS under the email in the top bar. */
  title: string;
}

const READ = { list: "viewer", show: "viewer", search: "viewer" } as const;

/** resource id → action name → the least role that may run it. */
export const POLICY: Readonly<Record<string, Readonly<Record<string, Role>>>> = {
  // refund: operators create refunds; approving one is checked again by core/refunds (an admin above
  // REFUND_APPROVAL_ABOVE_YUAN, never the requester).
  Order: { ...READ, exportCsv: "viewer", checkPayment: "operator", closeOrder: "operator", refund: "operator" },
  Refund: { ...READ, approveRefund: "operator", rejectRefund: "operator" },
  OrderDetail: READ,
  OrderEvent: READ,
  PaymentNotification: { ...READ, redrive: "operator" },
  BillBatch: { ...READ, reconcileNow: "operator", reconcileDate: "operator" },
  BillDifference: { ...READ, exportCsv: "viewer", trustAlipay: "operator", markResolved: "operator" },
  Course: { ...READ, new: "admin", edit: "admin" },
  User: READ,
  StaffUser: { list: "admin", show: "admin", search: "admin", edit: "admin" },
};

/** Back-office areas outside AdminJS's resources. */
export const AREAS = { queues: "operator", exportCsv: "viewer" } as const satisfies Record<string, Role>;

export function hasRole(staff: Pick<Staff, "role"> | null | undefined, least: Role): boolean {
  return !!staff && staff.role in RANK && RANK[staff.role] >= RANK[least];
}

export function can(staff: Pick<Staff, "role"> | null | undefined, resourceId: string, action: string): boolean {
  const least = POLICY[resourceId]?.[action];
  return least !== undefined && hasRole(staff, least);
}

/** AdminJS passes currentAdmin as an untyped object; accept only the shape the session writes. */
export function asStaff(currentAdmin: unknown): Staff | null {
  const c = currentAdmin as Partial<Staff> | null | undefined;
  if (!c || typeof c.id !== "number" || typeof c.email !== "string" || !ROLES.includes(c.role as Role)) return null;
  return c as Staff;
}

export class AccessDenied extends Error {
  readonly status = 403;
  constructor(what: string) {
    super(`forbidden: ${what}`);
    this.name = "AccessDenied";
  }
}

export function assertCan(currentAdmin: unknown, resourceId: string, action: string): Staff {
  const staff = asStaff(currentAdmin);
  if (!staff || !can(staff, resourceId, action)) throw new AccessDenied(`${resourceId}.${action}`);
  return staff;
}

/** `isAccessible` for an AdminJS action, from the policy table. */
export const allow =
  (resourceId: string, action: string) =>
  ({ currentAdmin }: { currentAdmin?: unknown }): boolean =>
    can(asStaff(currentAdmin), resourceId, action);

/** One of AdminJS's routes (AdminJS's Router.routes): method, path with {params}, the controller action. */
export interface AdminRoute {
  method: string;
  path: string;
  action: string;
}

/**
 * Refuses, with 403, any AdminJS API call the staff member's role does not allow. AdminJS itself
 * answers a refused action with HTTP 200 and an error notice (actionErrorHandler turns its
 * ForbiddenError into JSON), which a script or proxy reads as success — and until
 * SoftwareBrothers/adminjs#1707 that refusal even carried the record's data (issue #1706). This
 * guard makes the refusal explicit and happens before any handler, hook or query runs.
 *
 * It is registered on AdminJS's own route patterns (the `routes` given, converted the way
 * @adminjs/express converts them), on a router with Express's default matching, so it sees exactly
 * the requests AdminJS will run — whatever the spelling: Express matches paths case-insensitively,
 * with or without a trailing slash, and hands over parameters URL-decoded. A copy of the patterns
 * as regular expressions matched some spellings Express routes (`/API/…`, `…/closeOrder/`) and let
 * them through. Mount it on the same router, or one with the same options, as AdminJS's routes.
 */
export function actionGuard(routes: readonly AdminRoute[]): Router {
  const router = Router();
  const refuse = (res: Response, resourceId: string) =>
    res.status(403).json({ notice: { message: "forbiddenAction", type: "error", resourceId }, error: "forbidden" });
  for (const route of routes) {
    if (!route.path.startsWith("/api/resources/{resourceId}")) continue;
    const expressPath = route.path.replace(/{/g, ":").replace(/}/g, "");
    const guard = (req: Request, res: Response, next: NextFunction) => {
      const resourceId = String(req.params.resourceId ?? "");
      const action = route.action === "search" ? "search" : String(req.params.action ?? "");
      if (can(asStaff(req.session?.adminUser), resourceId, action)) return next();
      refuse(res, resourceId);
    };
    // Every method, not only the route's own: a method AdminJS does not route is refused here too.
    router.all(expressPath, guard);
  }
  return router;
}

/** For non-AdminJS areas (queues, export): 403 unless the role is at least `least`. */
export function requireRole(least: Role): RequestHandler {
  return (req, res, next) => {
    if (hasRole(asStaff(req.session?.adminUser), least)) return next();
    res.status(403).type("text/plain").send("forbidden");
  };
}
