import type { ActiveFault, FaultBodyInput, NotifyAttempt, NotifyRecord, RefundRecord, SandboxCertInfo, SandboxInfo, Trade } from "./types.ts";

// Typed client of the sandbox control API (control.ts), for tests, benches and demo scripts.
// Uses only fetch and type imports, so it loads nothing of the server.

export class SandboxControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`sandbox control ${status} ${code}: ${message}`);
    this.name = "SandboxControlError";
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export class SandboxControl {
  readonly baseUrl: string;

  /** `baseUrl` is the sandbox root, e.g. http://127.0.0.1:3003 */
  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/sandbox/control${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const data = text ? (JSON.parse(text) as unknown) : {};
    if (!res.ok) {
      const err = (data as { error?: { code?: string; message?: string } }).error ?? {};
      throw new SandboxControlError(res.status, err.code ?? "error", err.message ?? text);
    }
    return data as T;
  }

  info(): Promise<SandboxInfo> {
    return this.call("GET", "/info");
  }

  /** The sandbox's Alipay public key (PEM), what the merchant verifies with. */
  async alipayPublicKey(): Promise<string> {
    const res = await fetch(`${this.baseUrl}/sandbox/alipay-public-key`);
    if (!res.ok) throw new SandboxControlError(res.status, "error", await res.text());
    return res.text();
  }

  /**
   * Opens a pay URL (page pay or wap pay) like a browser would (GET): the cashier's login step. Creates
   * nothing — at Alipay, as here, the trade exists only once the buyer logs in (`openCashier`).
   * Returns the login page HTML; throws if the gateway rejected the URL.
   */
  async openPayUrl(payUrl: string): Promise<string> {
    const res = await fetch(payUrl);
    const html = await res.text();
    if (res.status !== 200) {
      const sub = /data-sub-code="([^"]*)"/.exec(html)?.[1] ?? "unknown";
      throw new SandboxControlError(res.status, sub, "the gateway rejected the pay URL");
    }
    return html;
  }

  /**
   * Opens a pay URL and logs in at the cashier, as a buyer does: this creates the trade
   * (WAIT_BUYER_PAY). Returns the pay step's HTML; throws if the gateway refused either step.
   */
  async openCashier(payUrl: string, login: { logonId?: string; password?: string } = {}): Promise<string> {
    return this.logIn(await this.openPayUrl(payUrl), payUrl, login);
  }

  /**
   * Submits the login form of a cashier login page (`loginPage`, served at `pageUrl`), as the buyer's
   * browser would. Returns the pay step's HTML; throws if the cashier refused the login.
   */
  async logIn(loginPage: string, pageUrl: string, login: { logonId?: string; password?: string } = {}): Promise<string> {
    const form = /<form method="post" action="([^"]+)" id="login-form">/.exec(loginPage);
    const request = /<input type="hidden" name="request" value="([^"]*)">/.exec(loginPage);
    if (!form || !request) throw new SandboxControlError(200, "no_login_form", "the cashier page has no login form");
    const res = await fetch(new URL(unescapeHtml(form[1]!), pageUrl), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ request: unescapeHtml(request[1]!), logon_id: login.logonId ?? "sandbox-buyer@example.com", password: login.password ?? "111111" }),
    });
    const html = await res.text();
    if (res.status !== 200) {
      const sub = /data-sub-code="([^"]*)"/.exec(html)?.[1] ?? "unknown";
      throw new SandboxControlError(res.status, sub, "the cashier refused the login");
    }
    return html;
  }

  async listTrades(): Promise<Trade[]> {
    return (await this.call<{ trades: Trade[] }>("GET", "/trades")).trades;
  }

  async getTrade(outTradeNo: string): Promise<Trade> {
    return (await this.call<{ trade: Trade }>("GET", `/trades/${encodeURIComponent(outTradeNo)}`)).trade;
  }

  /** Pays without a browser. `returnUrl` is where the cashier would have redirected (signed params included). */
  pay(outTradeNo: string, buyer: { buyerId?: string; buyerLogonId?: string } = {}): Promise<{ trade: Trade; returnUrl: string | null }> {
    return this.call("POST", `/trades/${encodeURIComponent(outTradeNo)}/pay`, buyer);
  }

  /** Closes an unpaid trade (like alipay.trade.close). */
  async close(outTradeNo: string): Promise<Trade> {
    return (await this.call<{ trade: Trade }>("POST", `/trades/${encodeURIComponent(outTradeNo)}/close`, {})).trade;
  }

  /** The refund window ends: a paid trade becomes TRADE_FINISHED (notified). */
  async finish(outTradeNo: string): Promise<Trade> {
    return (await this.call<{ trade: Trade }>("POST", `/trades/${encodeURIComponent(outTradeNo)}/finish`, {})).trade;
  }

    /** Expires an unpaid trade now: TRADE_CLOSED + notify, as if time_expire had passed. */
  async expire(outTradeNo: string): Promise<Trade> {
    return (await this.call<{ trade: Trade }>("POST", `/trades/${encodeURIComponent(outTradeNo)}/expire`, {})).trade;
  }

  /** A refund made in Alipay's merchant console (not through alipay.trade.refund): applied and notified. */
  async consoleRefund(outTradeNo: string, body: { refundFen: number; outRequestNo?: string; withoutOutBizNo?: boolean }): Promise<{ trade: Trade; refund: RefundRecord }> {
    return this.call("POST", `/trades/${encodeURIComponent(outTradeNo)}/refund`, body);
  }

  /** Redelivers the latest (or given) notification now; `fresh` sends a new notification of the current state. */
  renotify(outTradeNo: string, opts: { id?: string; fresh?: boolean } = {}): Promise<{ notify: NotifyRecord; attempts?: NotifyAttempt[] }> {
    return this.call("POST", `/trades/${encodeURIComponent(outTradeNo)}/renotify`, opts);
  }

  async notifies(outTradeNo?: string): Promise<NotifyRecord[]> {
    const q = outTradeNo === undefined ? "" : `?outTradeNo=${encodeURIComponent(outTradeNo)}`;
    return (await this.call<{ notifies: NotifyRecord[] }>("GET", `/notifies${q}`)).notifies;
  }

  /** Polls the notifications of a trade until `predicate` holds; returns them. */
  async waitForNotifies(outTradeNo: string, predicate: (n: NotifyRecord[]) => boolean, opts: WaitOptions = {}): Promise<NotifyRecord[]> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    for (;;) {
      const list = await this.notifies(outTradeNo);
      if (predicate(list)) return list;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for notifications of ${outTradeNo}; have: ${JSON.stringify(list.map((n) => ({ status: n.tradeStatus, state: n.state, attempts: n.attempts.length })))}`);
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
    }
  }

  async addFaults(body: FaultBodyInput): Promise<ActiveFault[]> {
    return (await this.call<{ added: ActiveFault[] }>("POST", "/faults", body)).added;
  }

  listFaults(): Promise<{ faults: ActiveFault[]; held: { faultId: string; held: number }[] }> {
    return this.call("GET", "/faults");
  }

  /** Clears all faults, or only those of one out_trade_no. Held (reordered) notifications are released. */
  async clearFaults(outTradeNo?: string): Promise<ActiveFault[]> {
    const q = outTradeNo === undefined ? "" : `?outTradeNo=${encodeURIComponent(outTradeNo)}`;
    return (await this.call<{ removed: ActiveFault[] }>("DELETE", `/faults${q}`)).removed;
  }

  /** Certificate mode: serial numbers, file paths and PEMs of the three certificates (409 in key mode). */
  certs(): Promise<SandboxCertInfo> {
    return this.call("GET", "/certs");
  }

  /** Certificate mode: Alipay rotates its certificate; returns the previous and the new SN. */
  rotateAlipayCert(): Promise<{ previousSn: string; sn: string }> {
    return this.call("POST", "/certs/rotate", {});
  }

  async reset(): Promise<void> {
    await this.call("POST", "/reset", {});
  }
}

/** The inverse of the cashier's escapeHtml (& < > "). */
function unescapeHtml(s: string): string {
  return s.replaceAll("&quot;", '"').replaceAll("&gt;", ">").replaceAll("&lt;", "<").replaceAll("&amp;", "&");
}
