// The buyer API's shapes, in one place: the routes validate requests with these schemas and
// api/openapi.ts publishes the same schemas as the OpenAPI document, so the document cannot drift
// from what the server accepts. Response schemas describe the JSON the routes send (dates as ISO
// strings, money as integer fen plus a yuan string); the OpenAPI test checks real responses
// against them.
import { z } from "zod";
import { INT4_MAX } from "../core/db/index.ts";

// ---- requests ------------------------------------------------------------------------------------

const Email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email().max(254))
  .meta({ description: "An email address (trimmed and lower-cased before it is checked)", example: "buyer@example.com" });

export const RegisterRequest = z
  .object({
    email: Email,
    password: z.string().min(8, "at least 8 characters").max(200),
    displayName: z.string().trim().max(100).optional(),
  })
  .meta({ id: "RegisterRequest", description: "A new buyer account" });

export const LoginRequest = z
  .object({ email: Email, password: z.string().min(1).max(200) })
  .meta({ id: "LoginRequest" });

/** Which Alipay cashier `payUrl` opens; default: by the request's User-Agent (phones get wap pay). */
const PayChannelField = z.enum(["page", "wap"]).optional().meta({
  description: "`page`: alipay.trade.page.pay (computer cashier). `wap`: alipay.trade.wap.pay (phone browser cashier). " +
    "Absent: `wap` for a phone User-Agent, else `page`. Same order, notify and reconciliation either way.",
});

export const OrderPayQuery = z.object({ channel: PayChannelField });

// Only course ids: any amount, price or total the client sends is stripped by zod and never read.
export const CreateOrderRequest = z
  .object({
    courseIds: z.array(z.number().int().positive().max(INT4_MAX, "no such course")).min(1, "choose at least one course").max(50),
    channel: PayChannelField,
  })
  .meta({ id: "CreateOrderRequest", description: "The courses to buy. Prices come from the server; any amount sent is ignored." });

/** Path parameter `:id` of /orders/:id (int4 range: larger ids cannot exist). */
export const OrderIdParam = z.coerce.number().int().positive().max(INT4_MAX).meta({ description: "Order id" });

export const OrderListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: "Orders per page" }),
  /** keyset: orders with id < before (newest first) */
  before: z.coerce.number().int().positive().max(INT4_MAX).optional().meta({ description: "Only orders with an id below this (the `next` link sets it)" }),
});

// ---- responses -----------------------------------------------------------------------------------

const Timestamp = z.iso.datetime();
const Yuan = z.string().regex(/^\d+\.\d{2}$/).meta({ description: "Amount in yuan, two decimals", example: "99.00" });

export const ORDER_STATUSES = ["UNPAID", "PAID", "CANCELLED", "CLOSED", "PARTIALLY_REFUNDED", "REFUNDED"] as const;

export const Session = z
  .object({
    token: z.string().meta({ description: "Bearer token for the Authorization header" }),
    expiresAt: Timestamp,
    buyer: z.object({ id: z.number().int(), email: z.string(), displayName: z.string() }),
  })
  .meta({ id: "Session" });

export const Course = z
  .object({ id: z.number().int(), title: z.string(), description: z.string(), priceFen: z.number().int(), price: Yuan })
  .meta({ id: "Course" });

export const CourseList = z.object({ courses: z.array(Course) }).meta({ id: "CourseList" });

export const REFUND_STATES = ["AWAITING_APPROVAL", "QUEUED", "SUBMITTED", "UNKNOWN", "SUCCEEDED", "FAILED", "REJECTED"] as const;

export const Refund = z
  .object({
    id: z.number().int(),
    amountFen: z.number().int(),
    amount: Yuan,
    state: z.enum(REFUND_STATES).meta({ description: "AWAITING_APPROVAL (staff decide), QUEUED/SUBMITTED/UNKNOWN (being refunded), SUCCEEDED, FAILED, REJECTED" }),
    source: z.enum(["staff", "buyer", "external"]).meta({ description: "staff, buyer, or external (made outside coursepay, e.g. in Alipay's merchant console)" }),
    reason: z.string(),
    rejectionReason: z.string().nullable(),
    createdAt: Timestamp,
    succeededAt: Timestamp.nullable(),
  })
  .meta({ id: "Refund" });

export const Order = z
  .object({
    id: z.number().int(),
    outTradeNo: z.string(),
    status: z.enum(ORDER_STATUSES),
    subject: z.string(),
    totalFen: z.number().int(),
    total: Yuan,
    refundedFen: z.number().int(),
    refunded: Yuan.meta({ description: "Amount refunded so far, in yuan" }),
    refunds: z.array(Refund).optional().meta({ description: "The order's refunds and refund requests, newest first" }),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    paidAt: Timestamp.nullable(),
    closedAt: Timestamp.nullable(),
    items: z.array(z.object({ courseId: z.number().int(), title: z.string().optional(), priceFen: z.number().int() })).optional(),
    payUrl: z.string().nullable().meta({ description: "Alipay page-pay URL while the order can be paid" }),
  })
  .meta({ id: "Order" });

export const OrderCreated = z.object({ order: Order, payUrl: z.string() }).meta({ id: "OrderCreated" });
export const OrderEnvelope = z.object({ order: Order }).meta({ id: "OrderEnvelope" });
export const OrderList = z
  .object({ orders: z.array(Order), next: z.string().nullable().meta({ description: "Path of the next page, or null" }) })
  .meta({ id: "OrderList" });
export const CancelResult = z.object({ order: Order, outcome: z.string() }).meta({ id: "CancelResult" });
export const RefundRequestCreated = z.object({ refund: Refund, order: Order }).meta({ id: "RefundRequestCreated" });

export const ErrorBody = z
  .object({
    error: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional().meta({ description: "One entry per invalid field" }),
    requestId: z.string().optional().meta({ description: "Quote it when reporting a problem: every log line of the request carries it" }),
    outcome: z.string().optional(),
    order: Order.optional(),
  })
  .meta({ id: "Error" });

export const Health = z.object({ role: z.string(), status: z.string() }).meta({ id: "Health" });
export const Readiness = z
  .object({ role: z.string(), status: z.string(), checks: z.record(z.string(), z.string()).meta({ description: "database, redis: up or down (why)" }) })
  .meta({ id: "Readiness" });

/** Every named schema: the components of the OpenAPI document, split by direction (see openapi.ts). */
export const RefundRequestBody = z
  .object({
    reason: z.string().trim().min(1).max(256).meta({ description: "Why the buyer wants the money back (required)" }),
    amount: z.string().regex(/^(0|[1-9]\d{0,9})(\.\d{1,2})?$/).optional().meta({ description: "Yuan, at most two decimals; default: everything not yet refunded" }),
  })
  .strict()
  .meta({ id: "RefundRequest" });

export const REQUEST_SCHEMAS = [RegisterRequest, LoginRequest, CreateOrderRequest, RefundRequestBody];
export const RESPONSE_SCHEMAS = [Session, Course, CourseList, Refund, Order, OrderCreated, OrderEnvelope, OrderList, CancelResult, RefundRequestCreated, ErrorBody, Health, Readiness];
