// Shared steps of the refund tests: a paid order on the stack, waiting for a refund's state.
import type { Refund, RefundState } from "@prisma/client";
import type { Stack } from "../../support/index.ts";
import { waitFor } from "../../support/index.ts";

export async function paidOrder(stack: Stack, priceFen: number): Promise<{ id: number; outTradeNo: string; totalFen: number; buyer: Awaited<ReturnType<Stack["newBuyer"]>> }> {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(priceFen);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  await stack.payAtSandbox(order.outTradeNo, payUrl);
  await stack.waitForStatus(order.id, "PAID");
  return { id: order.id, outTradeNo: order.outTradeNo, totalFen: order.totalFen, buyer };
}

export async function waitForRefund(stack: Stack, refundId: number, state: RefundState, timeoutMs = 20_000): Promise<Refund> {
  let last: Refund | null = null;
  await waitFor(`refund ${refundId} to be ${state}`, async () => {
    last = await stack.prisma.refund.findUnique({ where: { id: refundId } });
    return last?.state === state;
  }, { timeoutMs }).catch((e) => {
    throw new Error(`${(e as Error).message}; refund row: ${JSON.stringify(last)}`);
  });
  return last!;
}

/** Refunds the sandbox (the emulated Alipay) has actually made for a trade. */
export async function gatewayRefunds(stack: Stack, outTradeNo: string) {
  return (await stack.control.getTrade(outTradeNo)).refunds;
}
