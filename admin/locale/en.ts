// English back-office translations, merged over AdminJS's own (adminjs/lib/locale/en). The shape
// of this object is the contract zh-CN.ts must match key for key (see Translations below).
//
// Key conventions AdminJS looks up (adminjs/lib/utils/translate-functions.factory.js):
//   labels.<ResourceId>               resource name in the sidebar and headers
//   labels.<navigation group>         sidebar group
//   labels.<property>.<ENUM VALUE>    enum badges and filter options (DefaultPropertyValue, filter.js)
//   resources.<ResourceId>.properties.<property>   column / field names
//   actions.<action>, messages.<key>, components.<Component>.<key>

const yesNo = { true: "Yes", false: "No" };

const orderStatus = {
  UNPAID: "Unpaid",
  PAID: "Paid",
  CANCELLED: "Cancelled",
  CLOSED: "Closed",
  PARTIALLY_REFUNDED: "Partially refunded",
  REFUNDED: "Refunded",
};

const en = {
  labels: {
    dashboard: "Dashboard",
    payments: "Payments",
    catalog: "Catalog",
    people: "People",
    Order: "Orders",
    OrderDetail: "Order lines",
    OrderEvent: "Order events",
    PaymentNotification: "Alipay notifications",
    Course: "Courses",
    User: "Buyers",
    StaffUser: "Staff",
    status: orderStatus,
    fromStatus: orderStatus,
    toStatus: orderStatus,
    source: {
      notify: "Alipay notify",
      return: "Buyer return",
      reconcile: "Reconciliation",
      buyer: "Buyer",
      staff: "Staff",
      expiry: "Expiry",
      system: "System",
    },
    outcome: {
      pending: "Pending",
      applied: "Applied",
      duplicate: "Duplicate",
      ignored: "Ignored",
      rejected: "Rejected",
      anomaly: "Anomaly",
      failed: "Failed",
    },
    needsReview: yesNo,
    verified: yesNo,
    active: yesNo,
    disabled: yesNo,
    role: { viewer: "Viewer", operator: "Operator", admin: "Administrator" },
  },
  actions: {
    checkPayment: "Query Alipay now",
    closeOrder: "Close order",
    redrive: "Re-drive notify",
    exportCsv: "Export CSV",
  },
  buttons: {
    confirmCommand: "Confirm",
    download: "Download",
  },
  messages: {
    invalidCredentials: "Wrong email or password",
    tooManyRequests: "Too many failed logins. Wait 15 minutes and try again.",
    forbiddenAction: "Your role does not allow this action",
    commandDone: "{{summary}}",
    commandFailed: "Not done: {{summary}}",
    commandUnavailable: "This action is not available yet",
    checkPaymentIntro: "Ask Alipay (alipay.trade.query) for this order's trade now and apply the answer. Nothing changes if Alipay's answer is unknown.",
    closeOrderIntro: "Close the trade at Alipay first, then close the order here. A paid trade is never closed.",
    redriveIntro: "Put this notification back on the queue so the worker applies it again. Applying is idempotent.",
    reasonLabel: "Reason (recorded in the timeline)",
    exportIntro: "Download the orders matching the current filters as CSV (UTF-8, amounts in yuan).",
    commandOutcome: {
      paid: "The order is now paid",
      closed: "The order is closed",
      cancelled: "The order is cancelled",
      refunded: "The order is refunded",
      anomaly: "Alipay's answer does not match the order: recorded for review",
      unchanged: "Nothing to change",
      unknown: "Alipay's answer is not known yet: nothing changed, it will be asked again",
      redriven: "The notification is queued again",
      notFound: "Not found",
      refused: "Refused",
      error: "Failed, see the server log",
    },
  },
  properties: {
    id: "ID",
    createdAt: "Created",
  },
  resources: {
    Order: {
      properties: {
        outTradeNo: "Out trade no.",
        buyer: "Buyer",
        subject: "Subject",
        totalFen: "Total (¥)",
        refundedFen: "Refunded (¥)",
        status: "Status",
        tradeNo: "Alipay trade no.",
        buyerAlipayId: "Buyer Alipay id",
        paidAt: "Paid at",
        closedAt: "Closed at",
        expiresAt: "Expires at",
        nextCheckAt: "Next check",
        checkAttempts: "Checks",
        needsReview: "Needs review",
        createdAt: "Created",
        updatedAt: "Updated",
        q: "Search (out trade no., trade no., buyer email, id)",
        lines: "Courses",
        timeline: "Timeline",
        callbacks: "Alipay notifications",
      },
    },
    OrderDetail: {
      properties: { order: "Order", course: "Course", priceFen: "List price (¥)", realPriceFen: "Price paid (¥)" },
    },
    OrderEvent: {
      properties: {
        order: "Order",
        type: "Event",
        fromStatus: "From",
        toStatus: "To",
        source: "Source",
        actor: "By",
        notificationId: "Notification",
        payload: "Details",
        createdAt: "At",
      },
    },
    PaymentNotification: {
      properties: {
        kind: "Kind",
        rawBody: "Raw body",
        verified: "Signature verified",
        reason: "Reason",
        notifyId: "Notify id",
        outTradeNo: "Out trade no.",
        order: "Order",
        tradeNo: "Alipay trade no.",
        tradeStatus: "Trade status",
        totalFen: "Amount (¥)",
        refundFen: "Refund (¥)",
        receivedAt: "Received",
        processedAt: "Processed",
        outcome: "Outcome",
        attempts: "Attempts",
        lastError: "Last error",
      },
    },
    Course: {
      properties: { title: "Title", description: "Description", priceFen: "Price (fen, 1 yuan = 100)", active: "On sale" },
    },
    User: {
      properties: { email: "Email", displayName: "Name" },
    },
    StaffUser: {
      properties: { email: "Email", role: "Role", disabled: "Disabled", lastLoginAt: "Last login" },
    },
  },
  components: {
    LanguageSelector: { availableLanguages: { "zh-CN": "简体中文", en: "English" } },
    Login: {
      welcomeHeader: "coursepay back office",
      welcomeMessage: "Orders, Alipay callbacks and reconciliation, for the shop's staff.",
      properties: { email: "Email", password: "Password" },
      loginButton: "Log in",
    },
    Timeline: {
      empty: "No events yet",
      by: "by {{actor}}",
      types: {
        created: "Order created",
        paid: "Paid",
        closed: "Closed",
        cancelled: "Cancelled by the buyer",
        refunded: "Refunded",
        partially_refunded: "Partially refunded",
        payment_checked: "Alipay queried",
        close_requested: "Close requested",
        notification_redriven: "Notification re-driven",
        anomaly: {
          paid_after_close: "Anomaly: paid after close",
          amount_mismatch: "Anomaly: amount mismatch",
          merchant_mismatch: "Anomaly: merchant mismatch",
          trade_no_mismatch: "Anomaly: trade no. mismatch",
          unexpected_status: "Anomaly: contradictory status",
        },
      },
    },
    Dashboard: {
      title: "Today at a glance",
      paidToday: "Paid today",
      revenueToday: "Revenue today",
      unpaid: "Unpaid, pending",
      needsReview: "Need review",
      anomalies: "Recent anomalies",
      noAnomalies: "Nothing to review",
      queues: "Queues",
      queue: "Queue",
      waiting: "Waiting",
      active: "Active",
      delayed: "Delayed",
      failed: "Failed",
      openQueues: "Open the queue board",
      queuesUnavailable: "Queue status unavailable",
      sweep: "Last reconciliation sweep",
      noSweep: "No sweep has run yet",
      sweepFields: { enqueued: "Payment checks queued", batches: "Batches", slot: "Slot", worker: "Worker pid", error: "Error" },
      reconciled24h: "Reconciliation and expiry, last 24 hours",
      chart: "Orders and revenue, last 14 days",
      orders: "Orders",
      revenue: "Revenue (¥)",
      generatedAt: "As of {{time}}",
    },
    Export: { download: "Download CSV", filtersApplied: "Filters applied: {{count}}", noFilters: "No filters: every order" },
  },
};

type DeepStrings<T> = { [K in keyof T]: T[K] extends string ? string : DeepStrings<T[K]> };
/** The shape every locale must have: the same keys as English, any strings. */
export type Translations = DeepStrings<typeof en>;

export default en satisfies Translations;
