// coursepay buyer pages: the one script every page loads (document.body.dataset.page says which
// behaviour runs). No framework, no build step, nothing from another origin.
//
// Identity is the buyer API's bearer token, kept in localStorage and sent in the Authorization
// header of fetch() calls to the JSON API. No cookie ever authenticates a request, so a forged
// cross-site form or link can do nothing on the buyer's behalf (no CSRF surface).
// Everything from the API is put into the page with textContent, never innerHTML.
"use strict";

(function () {
  var dataBlock = document.getElementById("page-data");
  if (!dataBlock) return;
  var data = JSON.parse(dataBlock.textContent || "{}");
  var t = data.t;

  // ---- small helpers --------------------------------------------------------------------------

  function fmt(template, vars) {
    return template.replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : m;
    });
  }

  /** Integer fen → "12.30", without floating point (the server's fenToYuan, in the browser). */
  function yuan(fen) {
    return Math.floor(fen / 100) + "." + String(fen % 100).padStart(2, "0");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c) node.appendChild(c);
    });
    return node;
  }

  function show(node, text) {
    if (!node) return;
    node.textContent = text;
    node.hidden = !text;
  }

  function when(iso) {
    return new Date(iso).toLocaleString(data.locale, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }

  /** Only same-site paths: never follow ?next= to another origin. */
  function safeNext(value) {
    return typeof value === "string" && /^\/(?![/\\])[^\\\s]*$/.test(value) ? value : "/";
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  // ---- session: the bearer token ----------------------------------------------------------------

  var SESSION_KEY = "coursepay.session";
  var session = {
    get: function () {
      try {
        var s = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
        if (s && typeof s.token === "string" && Date.parse(s.expiresAt) > Date.now()) return s;
      } catch (e) {
        /* unreadable: treated as signed out */
      }
      localStorage.removeItem(SESSION_KEY);
      return null;
    },
    set: function (answer) {
      localStorage.setItem(SESSION_KEY, JSON.stringify({ token: answer.token, expiresAt: answer.expiresAt, email: answer.buyer.email }));
    },
    clear: function () {
      localStorage.removeItem(SESSION_KEY);
    },
  };

  function goSignin() {
    location.assign("/signin?next=" + encodeURIComponent(location.pathname + location.search));
  }

  // The result page's URL names the out_trade_no; the API addresses orders by id. Checkout remembers
  // the pair, so the common case needs no lookup.
  var ORDER_IDS_KEY = "coursepay.orderIds";
  var orderIds = {
    get: function (outTradeNo) {
      try {
        return JSON.parse(localStorage.getItem(ORDER_IDS_KEY) || "{}")[outTradeNo] || null;
      } catch (e) {
        return null;
      }
    },
    remember: function (order) {
      var all;
      try {
        all = JSON.parse(localStorage.getItem(ORDER_IDS_KEY) || "{}");
      } catch (e) {
        all = {};
      }
      all[order.outTradeNo] = order.id;
      var keys = Object.keys(all);
      if (keys.length > 50) delete all[keys[0]]; // bounded: only recent orders matter
      localStorage.setItem(ORDER_IDS_KEY, JSON.stringify(all));
    },
  };

  // ---- the JSON API ------------------------------------------------------------------------------

  function ApiError(status, body) {
    this.status = status;
    this.body = body || {};
  }

  function api(method, path, body) {
    var s = session.get();
    var headers = { Accept: "application/json" };
    if (s) headers.Authorization = "Bearer " + s.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store", credentials: "omit" })
      .catch(function () {
        throw new ApiError(0, null);
      })
      .then(function (res) {
        return res.json().catch(function () {
          return null;
        }).then(function (payload) {
          if (res.status === 401) session.clear();
          if (!res.ok) throw new ApiError(res.status, payload);
          return payload;
        });
      });
  }

  /** A sentence for the buyer about a failed call. */
  function problem(err) {
    if (!(err instanceof ApiError)) return fmt(t.genericError, { message: String(err && err.message ? err.message : err) });
    if (err.status === 0) return t.networkError;
    var details = Array.isArray(err.body.details)
      ? err.body.details.map(function (d) {
          return d.path + ": " + d.message;
        }).join("; ")
      : "";
    if (err.status === 400) return fmt(t.invalidInput, { message: details || err.body.error || "" });
    return fmt(t.genericError, { message: err.body.error || "HTTP " + err.status });
  }

  // ---- header: who is signed in ----------------------------------------------------------------

  function renderAccount() {
    var box = document.getElementById("account");
    var s = session.get();
    if (!box || !s) return;
    var out = el("button", { type: "button", class: "link", id: "signout", text: data.nav.signout });
    out.addEventListener("click", function () {
      session.clear();
      location.assign("/");
    });
    box.replaceChildren(el("span", { id: "signed-in-as", text: fmt(t.signedInAs, { email: s.email }) }), document.createTextNode(" "), out);
  }

  // ---- pages -----------------------------------------------------------------------------------

  function catalog() {
    var form = document.getElementById("catalog-form");
    var summary = document.getElementById("selected-summary");
    var button = document.getElementById("buy-selected");
    if (!form || !summary || !button) return;
    function update() {
      var picked = Array.prototype.slice.call(form.querySelectorAll("input[name=course]:checked"));
      var total = picked.reduce(function (sum, box) {
        return sum + Number(box.closest("[data-price-fen]").getAttribute("data-price-fen"));
      }, 0);
      summary.textContent = picked.length ? fmt(summary.getAttribute("data-template"), { count: picked.length, total: yuan(total) }) : "";
      button.disabled = picked.length === 0;
    }
    form.addEventListener("change", update);
    update();
  }

  function signin() {
    function wire(formId, errorId, path, messages) {
      var form = document.getElementById(formId);
      var error = document.getElementById(errorId);
      if (!form) return;
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var fields = new FormData(form);
        var body = {};
        fields.forEach(function (v, k) {
          if (v !== "") body[k] = String(v);
        });
        var submit = form.querySelector("button[type=submit]");
        submit.disabled = true;
        show(error, "");
        api("POST", path, body)
          .then(function (answer) {
            session.set(answer);
            location.assign(safeNext(data.next));
          })
          .catch(function (err) {
            submit.disabled = false;
            show(error, err instanceof ApiError && messages[err.status] ? messages[err.status] : problem(err));
          });
      });
    }
    wire("signin-form", "signin-error", "/auth/login", { 401: t.wrongPassword });
    wire("register-form", "register-error", "/auth/register", { 409: t.emailTaken });
  }

  function checkout() {
    var pay = document.getElementById("pay");
    var error = document.getElementById("checkout-error");
    if (!pay) return;
    pay.addEventListener("click", function () {
      if (!session.get()) return goSignin();
      var courseIds = pay.getAttribute("data-course-ids").split(",").map(Number);
      pay.disabled = true;
      show(error, "");
      var label = pay.textContent;
      pay.textContent = t.paying;
      // channel: the cashier the page chose (phone → wap pay, computer → page pay; the buyer can switch).
      api("POST", "/orders", { courseIds: courseIds, channel: data.payChannel })
        .then(function (answer) {
          orderIds.remember(answer.order);
          // Alipay's cashier: a GET to the signed pay URL (another origin).
          location.assign(answer.payUrl);
        })
        .catch(function (err) {
          if (err instanceof ApiError && err.status === 401) return goSignin();
          pay.disabled = false;
          pay.textContent = label;
          show(error, problem(err));
        });
    });
  }

  // Result page: poll the order until Alipay's confirmation (via notify or reconciliation) has been
  // applied. Quick at first (the notify usually lands within seconds), then backing off.
  var PAID = ["PAID", "PARTIALLY_REFUNDED", "REFUNDED"];
  var OVER = ["CLOSED", "CANCELLED"];
  var SLOW_AFTER_MS = 2 * 60 * 1000;
  var GIVE_UP_AFTER_MS = 30 * 60 * 1000;

  function result() {
    var box = document.getElementById("result");
    if (!box || data.state !== "confirming" || !data.outTradeNo) return;
    var started = Date.now();

    function setState(state, title, detail) {
      box.setAttribute("data-state", state);
      document.getElementById("result-title").textContent = title;
      document.getElementById("result-detail").textContent = detail;
    }
    function showOrder(order) {
      var statusNode = document.getElementById("result-status");
      document.getElementById("result-subject").textContent = order.subject;
      document.getElementById("result-amount").textContent = "¥" + order.total;
      statusNode.textContent = t.status[order.status] || order.status;
      statusNode.setAttribute("data-status", order.status);
    }
    function settled(order) {
      if (PAID.indexOf(order.status) >= 0) {
        setState("paid", t.paid, fmt(t.paidDetail, { total: order.total }));
        return true;
      }
      if (OVER.indexOf(order.status) >= 0) {
        setState("closed", t.closed, fmt(t.closedDetail, { status: t.status[order.status] }));
        return true;
      }
      if (Date.now() - started > SLOW_AFTER_MS) setState("slow", t.slow, t.slowDetail);
      return false;
    }
    function needSignin() {
      setState("signin", t.signinNeeded, t.signinNeededDetail);
      var link = el("a", { href: "/signin?next=" + encodeURIComponent(location.pathname), class: "button", id: "result-signin", text: data.nav.signin });
      document.getElementById("result-detail").appendChild(el("br"));
      document.getElementById("result-detail").appendChild(link);
    }

    /** The order's id: from the page, from checkout's memory, or by looking through my orders. */
    function findOrderId() {
      var known = data.orderId || orderIds.get(data.outTradeNo);
      if (known) return Promise.resolve(known);
      function page(path, left) {
        return api("GET", path).then(function (answer) {
          var hit = answer.orders.filter(function (o) {
            return o.outTradeNo === data.outTradeNo;
          })[0];
          if (hit) return hit.id;
          return answer.next && left > 1 ? page(answer.next, left - 1) : null;
        });
      }
      return page("/orders?limit=100", 5);
    }

    function poll(id, delay) {
      return api("GET", "/orders/" + id)
        .then(function (answer) {
          showOrder(answer.order);
          return settled(answer.order);
        })
        .catch(function (err) {
          if (err instanceof ApiError && (err.status === 401 || err.status === 404)) throw err;
          return false; // transient (network, 5xx): keep asking
        })
        .then(function (done) {
          if (done || Date.now() - started > GIVE_UP_AFTER_MS) return;
          return sleep(delay).then(function () {
            return poll(id, Math.min(delay * 1.5, Date.now() - started > SLOW_AFTER_MS ? 15000 : 5000));
          });
        });
    }

    if (!session.get()) return needSignin();
    findOrderId()
      .then(function (id) {
        if (!id) throw new ApiError(404, null);
        return poll(id, 1000);
      })
      .catch(function (err) {
        if (err instanceof ApiError && err.status === 401) return needSignin();
        if (err instanceof ApiError && err.status === 404) return setState("notfound", t.notFound, t.notFoundDetail);
        setState("slow", t.slow, problem(err));
      });
  }

  function orders() {
    var table = document.getElementById("orders-table");
    var body = document.getElementById("orders-body");
    var message = document.getElementById("orders-message");
    var more = document.getElementById("orders-more");
    if (!table || !body) return;
    if (!session.get()) return goSignin();
    // ?order=: back from Alipay's phone cashier without paying (wap pay's quit_url) — mark that order.
    var focusOrder = new URLSearchParams(location.search).get("order");

    function payable(order) {
      return order.status === "UNPAID" && Date.parse(order.expiresAt) > Date.now();
    }

    function row(order) {
      var actions = el("td", { class: "row-actions" });
      if (payable(order)) {
        var payAgain = el("button", { type: "button", class: "primary pay-again", text: t.payAgain, title: fmt(t.payBefore, { time: when(order.expiresAt) }) });
        payAgain.addEventListener("click", function () {
          payAgain.disabled = true;
          show(message, t.paying);
          // A freshly signed URL for this order (the list does not carry one).
          api("GET", "/orders/" + order.id + "?channel=" + encodeURIComponent(data.payChannel || "page"))
            .then(function (answer) {
              if (!answer.order.payUrl) {
                replace(answer.order);
                return show(message, t.cannotPay);
              }
              orderIds.remember(answer.order);
              location.assign(answer.order.payUrl);
            })
            .catch(function (err) {
              payAgain.disabled = false;
              show(message, problem(err));
            });
        });
        var cancel = el("button", { type: "button", class: "secondary cancel", text: t.cancel });
        cancel.addEventListener("click", function () {
          if (!window.confirm(fmt(t.cancelConfirm, { outTradeNo: order.outTradeNo }))) return;
          cancel.disabled = true;
          api("POST", "/orders/" + order.id + "/cancel")
            .then(function (answer) {
              replace(answer.order);
              show(message, fmt(t.cancelled, { outTradeNo: order.outTradeNo }));
            })
            .catch(function (err) {
              // 409: settled meanwhile (maybe paid); the answer carries the order as it now is.
              if (err instanceof ApiError && err.body.order) replace(err.body.order);
              else cancel.disabled = false;
              show(message, problem(err));
            });
        });
        actions.append(payAgain, cancel);
      }
      // Refunds: the amount refunded so far, each refund's state, and the buyer's own request
      // (the server decides whether the refund window is still open).
      var refunds = order.refunds || [];
      var refundInfo = el("div", { class: "refunds" });
      if (order.refundedFen > 0) refundInfo.append(el("span", { class: "refunded-amount", text: fmt(t.refundedAmount, { amount: order.refunded }) }));
      refunds.forEach(function (r) {
        if (r.state === "SUCCEEDED") return;
        refundInfo.append(el("span", { class: "refund-state refund-" + r.state, text: fmt(t.refundState[r.state] || r.state, { amount: r.amount, reason: r.rejectionReason || "" }) }));
      });
      var waiting = refunds.some(function (r) { return r.state === "AWAITING_APPROVAL"; });
      if ((order.status === "PAID" || order.status === "PARTIALLY_REFUNDED") && !waiting) {
        var ask = el("button", { type: "button", class: "secondary request-refund", text: t.requestRefund });
        // A form of its own under the button (reason required); the server decides the refund window.
        ask.addEventListener("click", function () {
          if (actions.querySelector("form.refund-form")) return;
          ask.hidden = true;
          var id = "refund-reason-" + Number(order.id);
          var reason = el("textarea", { id: id, name: "reason", required: "", maxlength: "256", rows: "3", placeholder: t.refundReasonPlaceholder });
          var error = el("p", { class: "error refund-error", role: "alert" });
          error.hidden = true;
          var submit = el("button", { type: "submit", class: "primary", text: t.refundSubmit });
          var back = el("button", { type: "button", class: "secondary", text: t.refundBack });
          var form = el("form", { class: "refund-form", novalidate: "" }, [
            el("label", { for: id, text: fmt(t.refundReasonLabel, { outTradeNo: order.outTradeNo }) }), reason, error, el("div", { class: "form-actions" }, [submit, back]),
          ]);
          back.addEventListener("click", function () {
            form.remove();
            ask.hidden = false;
          });
          form.addEventListener("submit", function (e) {
            e.preventDefault();
            var text = reason.value.trim();
            if (!text) {
              show(error, t.refundReasonRequired);
              reason.focus();
              return;
            }
            submit.disabled = true;
            show(error, "");
            api("POST", "/orders/" + order.id + "/refund-requests", { reason: text })
              .then(function (answer) {
                replace(answer.order);
                show(message, fmt(t.refundRequested, { outTradeNo: order.outTradeNo }));
              })
              .catch(function (err) {
                submit.disabled = false;
                // 403: the refund window (REFUND_WINDOW_DAYS after payment) has closed.
                show(error, err instanceof ApiError && err.status === 403 ? t.refundWindowClosed : problem(err));
              });
          });
          actions.append(form);
          reason.focus();
        });
        actions.append(ask);
      }
      var titles = (order.items || []).map(function (i) {
        return i.title;
      }).filter(Boolean);
      var focused = order.outTradeNo === focusOrder;
      return el("tr", { "data-out-trade-no": order.outTradeNo, "data-order-id": String(order.id), "data-status": order.status, class: focused ? "focused" : "" }, [
        el("td", {}, [el("code", { text: order.outTradeNo })]),
        el("td", {}, [el("span", { class: "subject", text: titles.length ? titles.join(" · ") : order.subject })]),
        el("td", { class: "num amount", text: "¥" + order.total }),
        el("td", {}, [el("span", { class: "status status-" + order.status, text: t.status[order.status] || order.status }), refundInfo]),
        el("td", { class: "created", text: when(order.createdAt) }),
        actions,
      ]);
    }

    function replace(order) {
      var old = body.querySelector('tr[data-order-id="' + Number(order.id) + '"]');
      if (old) old.replaceWith(row(order));
    }

    function load(path) {
      more.hidden = true;
      return api("GET", path)
        .then(function (answer) {
          answer.orders.forEach(function (o) {
            body.appendChild(row(o));
          });
          table.hidden = body.children.length === 0;
          show(message, body.children.length === 0 ? t.noOrders : "");
          more.hidden = !answer.next;
          more.onclick = function () {
            load(answer.next);
          };
        })
        .catch(function (err) {
          if (err instanceof ApiError && err.status === 401) return goSignin();
          show(message, problem(err));
        });
    }
    load("/orders?limit=20");
  }

  renderAccount();
  var pages = { catalog: catalog, signin: signin, checkout: checkout, result: result, orders: orders };
  if (pages[data.page]) pages[data.page]();
})();
