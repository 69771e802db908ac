import { Router, urlencoded } from "express";
import type { GatewayError } from "./gateway/errors.ts";
import { formatBeijing } from "./time.ts";
import type { Buyer, TradeService } from "./trades.ts";
import type { Trade } from "./types.ts";

// The buyer-facing pages that stand in for Alipay's cashier (收银台). Plain HTML, no script, Chinese and
// English labels, stable ids for browser tests. After "Pay" the browser goes to return_url with the signed
// return parameters (docs/alipay-protocol.md §3) while the notify goes out in the background (§4). "Cancel" behaves
// like a buyer who leaves the real cashier: nothing happens to the trade (it stays WAIT_BUYER_PAY until it
// expires or is closed), the page only offers a way back.

export const CASHIER_PREFIX = "/sandbox/cashier";

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; background: #f5f5f5; margin: 0; color: #333; }
  header { background: #1677ff; color: #fff; padding: 12px 24px; font-size: 18px; }
  header small { opacity: .8; margin-left: 8px; }
  .banner { background: #fffbe6; border-bottom: 1px solid #ffe58f; padding: 8px 24px; font-size: 13px; }
  main { max-width: 640px; margin: 24px auto; background: #fff; border-radius: 8px; padding: 24px; box-shadow: 0 1px 3px rgba(0,0,0,.1); }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 8px 16px; }
  dt { color: #888; } dd { margin: 0; word-break: break-all; }
  .amount { font-size: 28px; color: #f5222d; font-weight: bold; }
  .actions { display: flex; gap: 12px; margin-top: 24px; }
  button { font-size: 16px; padding: 10px 24px; border-radius: 4px; border: 1px solid #d9d9d9; background: #fff; cursor: pointer; }
  button.primary { background: #1677ff; border-color: #1677ff; color: #fff; }
  .error { color: #f5222d; }
</style>
</head>
<body>
<header>支付宝 · 收银台 <small>Alipay cashier (coursepay sandbox)</small></header>
<div class="banner">本地沙箱，不涉及真实资金 · Local sandbox emulator — no real money moves.</div>
<main>
${body}
</main>
</body>
</html>`;
}

function orderDetails(t: Trade): string {
  return `<dl>
  <dt>订单名称 / Subject</dt><dd id="subject">${escapeHtml(t.subject)}</dd>
  <dt>金额 / Amount</dt><dd><span class="amount" id="amount">¥${t.totalAmount}</span> <span>元 (CNY)</span></dd>
  <dt>商户订单号 / Order no.</dt><dd id="out-trade-no">${escapeHtml(t.outTradeNo)}</dd>
  <dt>支付宝交易号 / Trade no.</dt><dd id="trade-no">${t.tradeNo}</dd>
  <dt>收款方 / Seller</dt><dd>${escapeHtml(t.sellerId)}</dd>
  ${t.expiresAt !== undefined ? `<dt>支付截止 / Pay before</dt><dd id="expires">${formatBeijing(t.expiresAt)} (北京时间 / Beijing time)</dd>` : ""}
</dl>`;
}

export function renderCashier(t: Trade, buyer: Buyer): string {
  const base = `${CASHIER_PREFIX}/${encodeURIComponent(t.tradeNo)}`;
  return page(
    `收银台 - ${t.subject}`,
    `<h1>确认付款 / Confirm payment</h1>
${orderDetails(t)}
<h2>买家账号 / Buyer account</h2>
<dl>
  <dt>账号 / Account</dt><dd id="buyer-logon-id">${escapeHtml(buyer.logonId)}</dd>
  <dt>用户ID / buyer_id</dt><dd id="buyer-id">${escapeHtml(buyer.id)}</dd>
  <dt>付款方式 / Pay with</dt><dd>账户余额 / Alipay balance</dd>
</dl>
<div class="actions">
  <form method="post" action="${base}/pay"><button type="submit" class="primary" id="pay">确认付款 / Pay ¥${t.totalAmount}</button></form>
  <form method="post" action="${base}/cancel"><button type="submit" id="cancel">取消 / Cancel</button></form>
</div>`,
  );
}

/** A page for a trade that cannot be paid any more (or was just paid without a return_url). */
export function renderStatus(t: Trade, headline: string): string {
  return page(
    headline,
    `<h1 id="status" data-trade-status="${t.status}">${escapeHtml(headline)}</h1>
${orderDetails(t)}
<p>交易状态 / Trade status: <code>${t.status}</code></p>
${merchantLink(t)}`,
  );
}

export function renderCancelled(t: Trade): string {
  return page(
    "已取消 / Payment cancelled",
    `<h1 id="status" data-trade-status="${t.status}">您已取消付款 / You left the payment</h1>
<p>订单未支付，仍可在截止时间前继续付款。The order is not paid; you can still pay before it expires.</p>
${orderDetails(t)}
<p><a id="back-to-cashier" href="${CASHIER_PREFIX}/${encodeURIComponent(t.tradeNo)}">返回收银台 / Back to the cashier</a></p>
${merchantLink(t)}`,
  );
}

/** The gateway's error page for a rejected page.pay request (what Alipay shows instead of the cashier). */
export function renderGatewayErrorPage(err: GatewayError): string {
  return page(
    "支付宝 - 错误 / Error",
    `<h1 class="error">抱歉，出错了 / Something went wrong</h1>
<dl id="gateway-error" data-code="${escapeHtml(err.code)}" data-sub-code="${escapeHtml(err.subCode)}">
  <dt>错误码 / Code</dt><dd id="error-code">${escapeHtml(err.code)} ${escapeHtml(err.msgText)}</dd>
  <dt>错误代码 / Sub code</dt><dd id="error-sub-code">${escapeHtml(err.subCode)}</dd>
  <dt>错误原因 / Reason</dt><dd id="error-sub-msg">${escapeHtml(err.subMsg)}</dd>
</dl>`,
  );
}

function merchantLink(t: Trade): string {
  if (!t.returnUrl) return "";
  // Not return_url itself: without signed parameters it is not a return. The merchant's site root is.
  return `<p><a id="back-to-merchant" href="${escapeHtml(new URL(t.returnUrl).origin)}/">返回商户 / Back to the shop</a></p>`;
}

export function returnRedirectUrl(t: Trade): string | null {
  if (!t.returnUrl || !t.returnParams) return null;
  const sep = t.returnUrl.includes("?") ? "&" : "?";
  // URLSearchParams encodes like the real redirect (space as "+", docs/alipay-protocol.md §3 example).
  return `${t.returnUrl}${sep}${new URLSearchParams(t.returnParams).toString()}`;
}

export function createCashierRouter(trades: TradeService, buyer: Buyer): Router {
  const router = Router();
  router.use(urlencoded({ extended: false, limit: "8kb" }));

  const tradeOf = (tradeNo: string) => trades.ledger.getTradeByTradeNo(tradeNo);

  router.get("/:tradeNo", (req, res) => {
    const t = tradeOf(req.params.tradeNo);
    if (!t) return void res.status(404).type("html").send(page("交易不存在", `<h1 class="error">交易不存在 / Trade not found</h1>`));
    trades.refresh(t);
    if (t.status === "WAIT_BUYER_PAY") return void res.type("html").send(renderCashier(t, buyer));
    res.type("html").send(renderStatus(t, t.status === "TRADE_CLOSED" ? "交易已关闭 / Trade closed" : "交易已支付 / Already paid"));
  });

  router.post("/:tradeNo/pay", (req, res) => {
    const t = tradeOf(req.params.tradeNo);
    if (!t) return void res.status(404).type("html").send(page("交易不存在", `<h1 class="error">交易不存在 / Trade not found</h1>`));
    const r = trades.pay(t, buyer);
    if (!r.ok) {
      return void res.status(409).type("html").send(renderStatus(t, `${r.subMsg} / ${r.subCode}`));
    }
    const target = returnRedirectUrl(t);
    if (target) return void res.redirect(303, target);
    res.type("html").send(renderStatus(t, "支付成功 / Payment successful"));
  });

  router.post("/:tradeNo/cancel", (req, res) => {
    const t = tradeOf(req.params.tradeNo);
    if (!t) return void res.status(404).type("html").send(page("交易不存在", `<h1 class="error">交易不存在 / Trade not found</h1>`));
    res.type("html").send(renderCancelled(trades.refresh(t)));
  });

  return router;
}
