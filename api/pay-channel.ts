// Which Alipay cashier a buyer is sent to: the computer one (alipay.trade.page.pay, a QR code page) or
// the phone one (alipay.trade.wap.pay, which hands over to the Alipay app). Page pay on a phone shows a
// QR code the buyer cannot scan with the phone showing it, so phone browsers get wap pay. The guess is
// by User-Agent; the buyer can always switch (the pages' "pay on computer / phone" link, or `channel`
// in the API), and the choice is kept in a cookie — a preference, never identity (like the language).
import type { Request, Response } from "express";
import { z } from "zod";
import type { PayChannel } from "../core/alipay/client.ts";
import { cookieValue } from "./pages/i18n.ts";

export type { PayChannel };
export const PAY_CHANNELS = ["page", "wap"] as const satisfies readonly PayChannel[];
export const PayChannelSchema = z.enum(PAY_CHANNELS);
export const PAY_CHANNEL_COOKIE = "coursepay_pay_with";

// Phones and tablets: iOS/iPadOS (iPad Safari may claim to be a Mac, and then counts as a computer, where
// the QR page still works), Android, HarmonyOS, and the generic "Mobi" token browsers put on phones.
const PHONE_UA = /\b(?:iPhone|iPod|iPad|Android|HarmonyOS|OpenHarmony|Windows Phone|Mobile|Mobi)\b/i;

export function isPhoneUserAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && PHONE_UA.test(userAgent);
}

export function channelFromUserAgent(userAgent: string | undefined): PayChannel {
  return isPhoneUserAgent(userAgent) ? "wap" : "page";
}

/**
 * The buyer's cashier: `?pay=wap|page` (the switch link; remembered in a cookie), else the cookie,
 * else the User-Agent's guess.
 */
export function payChannelOf(req: Request, res?: Response): PayChannel {
  const asked = PayChannelSchema.safeParse(req.query.pay);
  if (asked.success) {
    res?.cookie(PAY_CHANNEL_COOKIE, asked.data, { path: "/", sameSite: "lax", maxAge: 365 * 24 * 3600 * 1000, httpOnly: false });
    return asked.data;
  }
  const kept = PayChannelSchema.safeParse(cookieValue(req, PAY_CHANNEL_COOKIE));
  return kept.success ? kept.data : channelFromUserAgent(req.get("user-agent"));
}
