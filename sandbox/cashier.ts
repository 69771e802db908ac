import { Router, urlencoded } from "express";
import type { GatewayError } from "./gateway/errors.ts";
import { fenToYuan } from "../core/money/index.ts";
import { formatBeijing } from "./time.ts";
import type { Buyer, NewTrade, TradeService } from "./trades.ts";
import type { Trade } from "./types.ts";

// The buyer-facing pages that stand in for Alipay's cashier (收银台). Plain HTML, no script, Chinese and
// English labels, stable ids for browser tests. Two steps, as at Alipay: log in (account + password; the
// trade is created only now, gateway/checkout.ts), then pay. After "Pay" the browser goes to return_url
// with the signed return parameters (docs/alipay-protocol.md §3) while the notify goes out in the
// background (§4). "Cancel" behaves like a buyer who leaves the real cashier: nothing happens to the
// trade (it stays WAIT_BUYER_PAY until it expires or is closed), the page only offers a way back.
//
// wap pay (product QUICK_WAP_WAY) gets the phone cashier: the same steps on a phone-sized page, where
// Alipay would offer to open the Alipay app first, and "quit" leads to the merchant's quit_url.

export const CASHIER_PREFIX = "/sandbox/cashier";

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

const WAP = "QUICK_WAP_WAY";

/** The phone cashier's CSS on top of the computer one: one column, full width, thumb-sized buttons. */
const PHONE_CSS = `
  body.phone header { padding: 10px 16px; font-size: 16px; }
  body.phone .banner { padding: 6px 16px; font-size: 12px; }
  body.phone main { max-width: none; margin: 0; border-radius: 0; padding: 16px; box-shadow: none; }
  body.phone dl { grid-template-columns: 1fr; gap: 2px; }
  body.phone dd { margin-bottom: 8px; }
  body.phone .actions { flex-direction: column; }
  body.phone .actions form, body.phone .actions a { width: 100%; }
  body.phone button, body.phone .actions a.button { width: 100%; padding: 14px; font-size: 17px; }
  body.phone input { font-size: 17px; }
`;

function page(title: string, body: string, phone = false): string {
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
  label { display: block; margin: 12px 0 4px; color: #666; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: 10px; font-size: 16px; border: 1px solid #d9d9d9; border-radius: 4px; }
  a.button { display: inline-block; box-sizing: border-box; text-align: center; text-decoration: none; color: #333; font-size: 16px; padding: 10px 24px; border-radius: 4px; border: 1px solid #d9d9d9; background: #fff; }
  .app-handoff { background: #e6f4ff; border: 1px solid #91caff; border-radius: 6px; padding: 12px; margin: 16px 0; font-size: 14px; }
${phone ? PHONE_CSS : ""}</style>
</head>
<body class="${phone ? "phone" : "computer"}">
<header>支付宝 · ${phone ? "手机收银台" : "收银台"} <small>${phone ? "Alipay phone cashier" : "Alipay cashier"} (coursepay sandbox)</small></header>
<div class="banner">本地沙箱，不涉及真实资金 · Local sandbox emulator — no real money moves.</div>
<main>
${body}
</main>
</body>
</html>`;
}

/** The order as the cashier shows it: a trade, or (login step) the request that will become one. */
type Shown = Pick<Trade, "subject" | "outTradeNo" | "expiresAt"> & { totalAmount: string; tradeNo?: string; sellerId?: string };

function orderDetails(t: Shown): string {
  return `<dl>
  <dt>订单名称 / Subject</dt><dd id="subject">${escapeHtml(t.subject)}</dd>
  <dt>金额 / Amount</dt><dd><span class="amount" id="amount">¥${t.totalAmount}</span> <span>元 (CNY)</span></dd>
  <dt>商户订单号 / Order no.</dt><dd id="out-trade-no">${escapeHtml(t.outTradeNo)}</dd>
  ${t.tradeNo ? `<dt>支付宝交易号 / Trade no.</dt><dd id="trade-no">${t.tradeNo}</dd>` : ""}
  ${t.sellerId ? `<dt>收款方 / Seller</dt><dd>${escapeHtml(t.sellerId)}</dd>` : ""}
  ${t.expiresAt !== undefined ? `<dt>支付截止 / Pay before</dt><dd id="expires">${formatBeijing(t.expiresAt)} (北京时间 / Beijing time)</dd>` : ""}
</dl>`;
}

/** wap pay's way out: the merchant's quit_url (Alipay's phone cashier "放弃付款"). */
function quitLink(quitUrl: string | undefined): string {
  return quitUrl ? `<a class="button" id="quit" href="${escapeHtml(quitUrl)}">放弃付款 / Quit</a>` : "";
}

/**
 * Step 1, the page a pay URL opens: the order and a login form. Nothing exists at Alipay yet; the form
 * carries the signed request (`request`) so the login step can check it again and create the trade.
 */
export function renderLogin(c: NewTrade, params: Record<string, string>, buyer: Buyer, error?: string): string {
  const phone = c.productCode === WAP;
  return page(
    `${phone ? "手机收银台" : "收银台"} - ${c.subject}`,
    `<h1>登录付款 / Log in to pay</h1>
${orderDetails({ ...c, totalAmount: fenToYuan(c.totalFen) })}
${phone ? `<div class="app-handoff" id="app-handoff">在真实的支付宝中，这里会先尝试打开支付宝 App。沙箱中请在浏览器内登录付款。<br>Real Alipay first tries to open the Alipay app here; in the sandbox, log in and pay in the browser.</div>` : ""}
${error ? `<p class="error" id="login-error">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${CASHIER_PREFIX}/login" id="login-form">
  <input type="hidden" name="request" value="${escapeHtml(new URLSearchParams(params).toString())}">
  <label for="logon-id">支付宝账户名 / Alipay account</label>
  <input type="text" id="logon-id" name="logon_id" value="${escapeHtml(buyer.logonId)}" autocomplete="username" required>
  <label for="password">登录密码 / Password <small>(沙箱: 任意 / sandbox: anything)</small></label>
  <input type="password" id="password" name="password" value="111111" autocomplete="current-password" required>
  <div class="actions">
    <button type="submit" class="primary" id="login">登录 / Log in</button>
    ${phone ? quitLink(c.quitUrl) : ""}
  </div>
</form>`,
    phone,
  );
}

/** Step 2, after the login: the trade exists; confirm the payment. */
export function renderCashier(t: Trade, buyer: Buyer): string {
  const base = `${CASHIER_PREFIX}/${encodeURIComponent(t.tradeNo)}`;
  const phone = t.productCode === WAP;
  return page(
    `${phone ? "手机收银台" : "收银台"} - ${t.subject}`,
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
  ${phone ? quitLink(t.quitUrl) : ""}
</div>`,
    phone,
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
    t.productCode === WAP,
  );
}

export function renderCancelled(t: Trade): string {
  return page(
    "已取消 / Payment cancelled",
    `<h1 id="status" data-trade-status="${t.status}">您已取消付款 / You left the payment</h1>
<p>订单未支付，仍可在截止时间前继续付款。The order is not paid; you can still pay before it expires.</p>
${orderDetails(t)}
<p><a id="back-to-cashier" href="${CASHIER_PREFIX}/${encodeURIComponent(t.tradeNo)}">返回收银台 / Back to the cashier</a></p>
${t.productCode === WAP && t.quitUrl ? `<p>${quitLink(t.quitUrl)}</p>` : merchantLink(t)}`,
    t.productCode === WAP,
  );
}

/** The gateway's error page for a rejected page.pay / wap.pay request (what Alipay shows instead of the cashier). */
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
