// Courses and the buyer's orders. Every order route is scoped to the caller: another buyer's order is
// "not found", exactly like a missing one.
import { Router } from "express";
import type { Order, OrderDetail } from "@prisma/client";
import { fenToYuan } from "../../core/money/index.ts";
import { cancelOrder, createOrder, payUrlFor, type OrderDeps } from "../../core/orders/index.ts";
import { requestRefund, RefundRefusedError, type RefundDeps } from "../../core/refunds/index.ts";
import type { Refund } from "@prisma/client";
import { requireBuyer, type AuthedRequest } from "../auth.ts";
import { ApiError, validate } from "../errors.ts";
// Shared with the OpenAPI document (api/openapi.ts). CreateOrder accepts only course ids: any amount,
// price or total the client sends is stripped by zod and never read.
import { CreateOrderRequest as CreateOrder, OrderIdParam as OrderId, OrderListQuery as ListQuery, OrderPayQuery, RefundRequestBody } from "../schemas.ts";
import { channelFromUserAgent } from "../pay-channel.ts";
import { yuanToFen } from "../../core/money/index.ts";

type OrderWithItems = Order & { details?: (OrderDetail & { course?: { title: string } })[]; refunds?: Refund[] };

export function refundJson(r: Refund) {
  return {
    id: r.id, amountFen: r.amountFen, amount: fenToYuan(r.amountFen), state: r.state, source: r.source, reason: r.reason,
    rejectionReason: r.rejectionReason, createdAt: r.createdAt, succeededAt: r.succeededAt,
  };
}

export function orderJson(order: OrderWithItems, payUrl: string | null = null) {
  return {
    id: order.id,
    outTradeNo: order.outTradeNo,
    status: order.status,
    subject: order.subject,
    totalFen: order.totalFen,
    total: fenToYuan(order.totalFen),
    refundedFen: order.refundedFen,
    refunded: fenToYuan(order.refundedFen),
    refunds: order.refunds?.map(refundJson),
    createdAt: order.createdAt,
    expiresAt: order.expiresAt,
    paidAt: order.paidAt,
    closedAt: order.closedAt,
    items: order.details?.map((d) => ({ courseId: d.courseId, title: d.course?.title, priceFen: d.realPriceFen })),
    payUrl,
  };
}

export function orderRoutes(deps: { orders: OrderDeps; refunds?: RefundDeps; tokenSecret: string }): Router {
  const router = Router();
  const { prisma } = deps.orders;
  const auth = requireBuyer(deps.tokenSecret);
  const detailsInclude = { details: { include: { course: { select: { title: true } } } }, refunds: { orderBy: { id: "desc" } } } as const;

  router.get("/courses", async (_req, res) => {
    const courses = await prisma.course.findMany({ where: { active: true }, orderBy: { id: "asc" } });
    res.json({
      courses: courses.map((c) => ({ id: c.id, title: c.title, description: c.description, priceFen: c.priceFen, price: fenToYuan(c.priceFen) })),
    });
  });

  router.post("/orders", auth, async (req, res) => {
    const { buyerId } = req as AuthedRequest;
    const input = validate(CreateOrder, req.body ?? {}, "order");
    const channel = input.channel ?? channelFromUserAgent(req.get("user-agent"));
    const { order, payUrl } = await createOrder(deps.orders, { buyerId, courseIds: input.courseIds, channel });
    const withTitles = await prisma.order.findUnique({ where: { id: order.id }, include: detailsInclude });
    res.status(201).location(`/orders/${order.id}`).json({ order: orderJson(withTitles!, payUrl), payUrl });
  });

  router.get("/orders", auth, async (req, res) => {
    const { buyerId } = req as AuthedRequest;
    const q = validate(ListQuery, req.query, "query");
    const orders = await prisma.order.findMany({
      where: { buyerId, ...(q.before ? { id: { lt: q.before } } : {}) },
      orderBy: { id: "desc" },
      take: q.limit,
      include: detailsInclude,
    });
    const last = orders.at(-1);
    res.json({ orders: orders.map((o) => orderJson(o)), next: orders.length === q.limit && last ? `/orders?limit=${q.limit}&before=${last.id}` : null });
  });

  const findMine = async (req: AuthedRequest) => {
    const id = OrderId.safeParse(req.params.id);
    if (!id.success) throw new ApiError(404, "order not found");
    const order = await prisma.order.findFirst({ where: { id: id.data, buyerId: req.buyerId }, include: detailsInclude });
    if (!order) throw new ApiError(404, "order not found");
    return order;
  };

  router.get("/orders/:id", auth, async (req, res) => {
    const order = await findMine(req as AuthedRequest);
    const q = validate(OrderPayQuery, req.query, "query");
    res.json({ order: orderJson(order, payUrlFor(deps.orders, order, q.channel ?? channelFromUserAgent(req.get("user-agent")))) });
  });

  router.post("/orders/:id/cancel", auth, async (req, res) => {
    const { buyerId } = req as AuthedRequest;
    const mine = await findMine(req as AuthedRequest);
    if (mine.status !== "UNPAID") throw new ApiError(409, `order is ${mine.status} and cannot be cancelled`);
    const result = await cancelOrder(deps.orders, { orderId: mine.id, buyerId });
    const order = orderJson({ ...result.order, details: mine.details });
    switch (result.outcome) {
      case "cancelled":
        res.json({ order, outcome: result.outcome });
        return;
      case "unknown":
        res.status(503).json({ error: "Alipay did not confirm the close; nothing changed, try again shortly", order });
        return;
      default:
        // Alipay says it was paid (→ PAID), or something else settled it first.
        res.status(409).json({ error: `order is ${result.order.status} and cannot be cancelled`, outcome: result.outcome, order });
    }
  });

  router.post("/orders/:id/refund-requests", auth, async (req, res) => {
    const { buyerId } = req as AuthedRequest;
    const mine = await findMine(req as AuthedRequest);
    const input = validate(RefundRequestBody, req.body ?? {}, "refund request");
    if (!deps.refunds) throw new ApiError(503, "refunds are not available");
    try {
      const refund = await requestRefund(deps.refunds, {
        orderId: mine.id, buyerId, source: "buyer", actor: `buyer:${buyerId}`, reason: input.reason,
        amountFen: input.amount === undefined ? null : yuanToFen(input.amount),
      });
      const order = await prisma.order.findUnique({ where: { id: mine.id }, include: detailsInclude });
      res.status(201).json({ refund: refundJson(refund), order: orderJson(order!) });
    } catch (e) {
      if (e instanceof RefundRefusedError) throw new ApiError(e.status, e.message);
      throw e;
    }
  });

  return router;
}
