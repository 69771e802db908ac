// The buyer pages' words, in 简体中文 (the default: the shop sells to Chinese buyers) and English.
// The language is chosen by ?lang=en|zh-CN, remembered in a cookie so server-rendered pages come out
// in it on the next visit. That cookie carries a preference only — never identity — so it adds no
// CSRF surface; buyer identity stays in the bearer token in localStorage.
// `client` is the part the browser script needs (status labels, messages it shows after a fetch);
// it is handed to the page as a JSON data block.
import type { Request, Response } from "express";
import { ORDER_STATUS_ZH } from "../../core/orders/status-labels.ts";

export const LOCALES = ["zh-CN", "en"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "zh-CN";
export const LANG_COOKIE = "coursepay_lang";

const en = {
  site: { name: "coursepay", tagline: "Online courses, paid with Alipay" },
  nav: { catalog: "Courses", orders: "My orders", signin: "Sign in", signout: "Sign out", language: "中文", languageLocale: "zh-CN" },
  catalog: {
    title: "All courses",
    intro: "Pick one or more courses and pay with Alipay. Prices are in yuan (CNY).",
    select: "Select",
    buyNow: "Buy now",
    buySelected: "Buy selected courses",
    selectedTotal: "Selected: {count} · ¥{total}",
    empty: "No courses are on sale right now.",
  },
  signin: {
    title: "Sign in",
    signinHeading: "Sign in",
    registerHeading: "New here? Create an account",
    email: "Email",
    password: "Password",
    passwordHint: "At least 8 characters",
    displayName: "Name (optional)",
    signinButton: "Sign in",
    registerButton: "Create account",
  },
  checkout: {
    title: "Review your order",
    course: "Course",
    price: "Price",
    total: "Total",
    pay: "Pay ¥{total} with Alipay",
    note: "You will be taken to Alipay's cashier. The price is set by the shop, not by this page.",
    none: "No course selected.",
    unavailable: "Some of the chosen courses are no longer on sale and were left out.",
    back: "Back to the courses",
  },
  payWith: {
    label: "Pay on",
    wap: "this phone: Alipay's phone cashier opens (and offers the Alipay app).",
    page: "a computer: Alipay's cashier shows a QR code to scan with the Alipay app, or lets you log in.",
    toWap: "Pay on a phone instead",
    toPage: "Pay on a computer instead",
  },
  result: {
    title: "Payment result",
    heading: "Order {outTradeNo}",
    note: "Returning from Alipay does not by itself confirm a payment: this page asks the shop until Alipay's confirmation has arrived.",
    toOrders: "Go to my orders",
    unverified: "This link could not be verified",
    unverifiedDetail: "If you paid, your order updates by itself: check My orders in a moment.",
  },
  orders: {
    title: "My orders",
    orderNo: "Order no.",
    courses: "Courses",
    amount: "Amount",
    status: "Status",
    created: "Created",
    actions: "",
    more: "Show older orders",
  },
  client: {
    status: {
      UNPAID: "Unpaid",
      PAID: "Paid",
      CANCELLED: "Cancelled",
      CLOSED: "Closed (expired)",
      PARTIALLY_REFUNDED: "Partially refunded",
      REFUNDED: "Refunded",
    },
    signedInAs: "Signed in as {email}",
    confirming: "Confirming your payment…",
    confirmingDetail: "We are waiting for Alipay's confirmation. This usually takes a few seconds.",
    slow: "Still confirming",
    slowDetail: "Alipay's confirmation is taking longer than usual. You can leave this page: the order updates by itself, check My orders later.",
    paid: "Payment received",
    paidDetail: "Thank you! Your payment of ¥{total} is confirmed.",
    closed: "Order closed",
    closedDetail: "This order is {status}. No payment was taken for it.",
    notFound: "Order not found",
    notFoundDetail: "This order does not exist or belongs to another account.",
    signinNeeded: "Sign in to see this order",
    signinNeededDetail: "Your payment is being processed either way.",
    payAgain: "Pay now",
    payBefore: "Pay before {time}",
    cancel: "Cancel order",
    cancelConfirm: "Cancel order {outTradeNo}?",
    cancelled: "Order {outTradeNo} was cancelled.",
    refundedAmount: "Refunded ¥{amount}",
    refundState: {
      AWAITING_APPROVAL: "Refund requested, waiting for the shop", QUEUED: "Refund in progress", SUBMITTED: "Refund in progress",
      UNKNOWN: "Refund in progress", SUCCEEDED: "Refund of ¥{amount} done", FAILED: "Refund failed, the shop will contact you", REJECTED: "Refund request declined: {reason}",
    },
    requestRefund: "Ask for a refund",
    refundReasonLabel: "Why do you want a refund of order {outTradeNo}?",
    refundReasonPlaceholder: "e.g. bought twice, course not as described",
    refundReasonRequired: "Please give a reason for the refund.",
    refundSubmit: "Send refund request",
    refundBack: "Cancel",
    refundWindowClosed: "The refund window for this order has closed: a refund can only be requested within a limited number of days after payment. Please contact the shop.",
    refundRequested: "Your refund request for order {outTradeNo} was sent to the shop.",
    noOrders: "You have no orders yet.",
    loading: "Loading…",
    paying: "Opening Alipay…",
    networkError: "The shop could not be reached. Check your connection and try again.",
    genericError: "Something went wrong: {message}",
    wrongPassword: "Wrong email or password.",
    emailTaken: "An account with this email already exists. Sign in instead.",
    invalidInput: "Please check the form: {message}",
    cannotPay: "This order can no longer be paid.",
  },
};

export type Messages = typeof en;
export type ClientMessages = Messages["client"];
export type StatusName = keyof ClientMessages["status"];

const zhCN: Messages = {
  site: { name: "coursepay", tagline: "在线课程 · 支付宝付款" },
  nav: { catalog: "课程", orders: "我的订单", signin: "登录", signout: "退出", language: "English", languageLocale: "en" },
  catalog: {
    title: "全部课程",
    intro: "选择一门或多门课程，使用支付宝付款。价格单位：元。",
    select: "选择",
    buyNow: "立即购买",
    buySelected: "购买所选课程",
    selectedTotal: "已选 {count} 门 · ¥{total}",
    empty: "暂无在售课程。",
  },
  signin: {
    title: "登录",
    signinHeading: "登录",
    registerHeading: "还没有账号？注册",
    email: "邮箱",
    password: "密码",
    passwordHint: "至少 8 个字符",
    displayName: "昵称（可选）",
    signinButton: "登录",
    registerButton: "注册",
  },
  checkout: {
    title: "确认订单",
    course: "课程",
    price: "价格",
    total: "合计",
    pay: "使用支付宝支付 ¥{total}",
    note: "您将跳转到支付宝收银台。价格由商店确定，而非本页面。",
    none: "未选择课程。",
    unavailable: "部分所选课程已下架，已从订单中移除。",
    back: "返回课程列表",
  },
  payWith: {
    label: "付款方式",
    wap: "手机付款：将打开支付宝手机收银台（可唤起支付宝 App）。",
    page: "电脑付款：支付宝收银台显示二维码，用支付宝 App 扫码，或登录账户付款。",
    toWap: "改用手机付款",
    toPage: "改用电脑付款",
  },
  result: {
    title: "支付结果",
    heading: "订单 {outTradeNo}",
    note: "从支付宝返回本身并不代表支付成功：本页会持续查询，直到收到支付宝的确认。",
    toOrders: "查看我的订单",
    unverified: "无法验证此链接",
    unverifiedDetail: "如果您已付款，订单会自动更新，请稍后在“我的订单”中查看。",
  },
  orders: {
    title: "我的订单",
    orderNo: "订单号",
    courses: "课程",
    amount: "金额",
    status: "状态",
    created: "下单时间",
    actions: "",
    more: "查看更早的订单",
  },
  client: {
    status: ORDER_STATUS_ZH,
    signedInAs: "已登录：{email}",
    confirming: "正在确认支付…",
    confirmingDetail: "正在等待支付宝的确认，通常只需几秒钟。",
    slow: "仍在确认中",
    slowDetail: "支付宝的确认比平时慢。您可以离开本页，订单会自动更新，稍后请在“我的订单”中查看。",
    paid: "支付成功",
    paidDetail: "感谢购买！您已成功支付 ¥{total}。",
    closed: "订单已关闭",
    closedDetail: "该订单状态为“{status}”，未产生扣款。",
    notFound: "订单不存在",
    notFoundDetail: "该订单不存在或属于其他账号。",
    signinNeeded: "登录后查看此订单",
    signinNeededDetail: "无论是否登录，您的付款都会被处理。",
    payAgain: "继续支付",
    payBefore: "请在 {time} 前支付",
    cancel: "取消订单",
    cancelConfirm: "确定取消订单 {outTradeNo} 吗？",
    cancelled: "订单 {outTradeNo} 已取消。",
    refundedAmount: "已退款 ¥{amount}",
    refundState: {
      AWAITING_APPROVAL: "已申请退款，等待商家处理", QUEUED: "退款处理中", SUBMITTED: "退款处理中",
      UNKNOWN: "退款处理中", SUCCEEDED: "已退款 ¥{amount}", FAILED: "退款失败，商家会与您联系", REJECTED: "退款申请未通过：{reason}",
    },
    requestRefund: "申请退款",
    refundReasonLabel: "请填写订单 {outTradeNo} 的退款原因：",
    refundReasonPlaceholder: "例如：重复购买、课程与描述不符",
    refundReasonRequired: "请填写退款原因。",
    refundSubmit: "提交退款申请",
    refundBack: "取消",
    refundWindowClosed: "该订单已超过可申请退款的期限（仅在付款后的规定天数内可申请），如有疑问请联系商家。",
    refundRequested: "订单 {outTradeNo} 的退款申请已提交给商家。",
    noOrders: "您还没有订单。",
    loading: "加载中…",
    paying: "正在打开支付宝…",
    networkError: "无法连接到商店，请检查网络后重试。",
    genericError: "出错了：{message}",
    wrongPassword: "邮箱或密码错误。",
    emailTaken: "该邮箱已注册，请直接登录。",
    invalidInput: "请检查填写的内容：{message}",
    cannotPay: "该订单已无法支付。",
  },
};

const MESSAGES: Record<Locale, Messages> = { "zh-CN": zhCN, en };

export function messages(locale: Locale): Messages {
  return MESSAGES[locale];
}

/** "{n} 门" + {n: 2} → "2 门". The browser script has the same one-liner. */
export function format(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export function parseLocale(value: unknown): Locale | null {
  if (typeof value !== "string") return null;
  const v = value.trim().toLowerCase();
  if (v === "en" || v.startsWith("en-")) return "en";
  if (v === "zh" || v.startsWith("zh-")) return "zh-CN";
  return null;
}

export function cookieValue(req: Request, name: string): string | undefined {
  // No cookie-parser dependency for one cookie: the header is `a=1; b=2`.
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** ?lang= wins (and is remembered), then the cookie, then zh-CN. */
export function localeOf(req: Request, res?: Response): Locale {
  const asked = parseLocale(req.query.lang);
  if (asked) {
    res?.cookie(LANG_COOKIE, asked, { path: "/", sameSite: "lax", maxAge: 365 * 24 * 3600 * 1000, httpOnly: false });
    return asked;
  }
  return parseLocale(cookieValue(req, LANG_COOKIE)) ?? DEFAULT_LOCALE;
}
