// The viewer of the buyer API's OpenAPI document (served at /api/docs/viewer.js). It reads the
// document, lists the operations by tag with their parameters, bodies and responses, and can send a
// request ("Try it") from the browser to this same origin. Self-made so that nothing is loaded from
// another origin; a plain script, not inline, so the page keeps CSP script-src 'self'. Everything
// from the document or a response is put into the page with textContent, never innerHTML.
"use strict";

(function () {
  var root = document.getElementById("docs");
  if (!root) return;
  var TOKEN_KEY = "coursepay.docs.token";
  var spec = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  /** Follows a local $ref (#/components/schemas/X); anything else is returned as is. */
  function resolve(schema) {
    var seen = 0;
    while (schema && schema.$ref && seen++ < 20) {
      var parts = schema.$ref.replace(/^#\//, "").split("/");
      schema = parts.reduce(function (node, key) { return node && node[key]; }, spec);
    }
    return schema || {};
  }

  /** A plausible value for a schema, to pre-fill request bodies. */
  function example(schema, depth) {
    schema = resolve(schema);
    if (depth > 6) return null;
    if (schema.example !== undefined) return schema.example;
    if (schema.default !== undefined) return schema.default;
    if (schema.enum) return schema.enum[0];
    var type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === "object" || schema.properties) {
      var out = {};
      Object.keys(schema.properties || {}).forEach(function (k) { out[k] = example(schema.properties[k], (depth || 0) + 1); });
      return out;
    }
    if (type === "array") return [example(schema.items || {}, (depth || 0) + 1)];
    if (type === "integer" || type === "number") return schema.minimum !== undefined ? schema.minimum : 1;
    if (type === "boolean") return true;
    if (schema.format === "email") return "buyer@example.com";
    if (type === "string") return schema.minLength ? new Array(schema.minLength + 1).join("x") : "";
    return null;
  }

  function schemaBlock(schema) {
    var r = schema && schema.$ref ? schema.$ref.split("/").pop() + " " : "";
    return el("pre", { text: r + JSON.stringify(resolve(schema), null, 2) });
  }

  function authBox() {
    var saved = sessionStorage.getItem(TOKEN_KEY);
    if (!saved) {
      try {
        // The buyer pages keep the signed-in buyer's session here.
        saved = (JSON.parse(localStorage.getItem("coursepay.session") || "null") || {}).token || "";
      } catch (e) {
        saved = "";
      }
    }
    var input = el("input", { id: "token", placeholder: "token from POST /auth/login", value: saved || "" });
    input.addEventListener("change", function () { sessionStorage.setItem(TOKEN_KEY, input.value.trim()); });
    return el("div", { class: "auth" }, [el("label", { for: "token", text: "Bearer token (sent by operations marked [token])" }), input]);
  }

  function tryIt(path, method, op) {
    var form = el("form", {});
    var inputs = {};
    (op.parameters || []).forEach(function (p) {
      var id = "p-" + method + path + "-" + p.name;
      inputs[p.name] = { param: p, input: el("input", { id: id, placeholder: p.in + (p.required ? ", required" : "") }) };
      form.appendChild(el("label", { for: id, text: p.name + " (" + p.in + ")" }));
      form.appendChild(inputs[p.name].input);
    });
    var body = null;
    var media = op.requestBody && op.requestBody.content;
    if (media) {
      var json = media["application/json"];
      body = el("textarea", { rows: "6" });
      body.value = json ? JSON.stringify(example(json.schema, 0), null, 2) : "";
      form.appendChild(el("label", { text: "Body (" + Object.keys(media)[0] + ")" }));
      form.appendChild(body);
    }
    var result = el("pre", { hidden: "" });
    form.appendChild(el("button", { type: "submit", text: "Send" }));
    form.appendChild(result);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var url = path;
      var query = new URLSearchParams();
      Object.keys(inputs).forEach(function (name) {
        var v = inputs[name].input.value;
        if (inputs[name].param.in === "path") url = url.replace("{" + name + "}", encodeURIComponent(v));
        else if (v) query.append(name, v);
      });
      if (String(query)) url += "?" + query;
      var headers = { accept: "application/json" };
      var token = (document.getElementById("token") || {}).value;
      if (op.security && token) headers.authorization = "Bearer " + token.trim();
      if (body) headers["content-type"] = Object.keys(media)[0];
      result.hidden = false;
      result.textContent = method.toUpperCase() + " " + url + " …";
      fetch(url, { method: method.toUpperCase(), headers: headers, body: body ? body.value : undefined })
        .then(function (res) {
          return res.text().then(function (text) {
            var shown = text;
            try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
            result.textContent = res.status + " " + res.statusText + "\nX-Request-Id: " + (res.headers.get("x-request-id") || "-") + "\n\n" + shown;
          });
        })
        .catch(function (e) { result.textContent = "request failed: " + e.message; });
    });
    return form;
  }

  function operation(path, method, op) {
    var body = el("div", { class: "body" });
    if (op.description) body.appendChild(el("p", { text: op.description }));
    if (op.parameters && op.parameters.length) {
      body.appendChild(el("h4", { text: "Parameters" }));
      body.appendChild(el("ul", {}, op.parameters.map(function (p) {
        return el("li", {}, [el("code", { text: p.name }), " in " + p.in + (p.required ? " (required)" : "") + (p.description ? ": " + p.description : "") + " ", el("code", { text: JSON.stringify(p.schema) })]);
      })));
    }
    if (op.requestBody) {
      body.appendChild(el("h4", { text: "Request body" }));
      Object.keys(op.requestBody.content).forEach(function (type) {
        body.appendChild(el("div", { text: type }));
        body.appendChild(schemaBlock(op.requestBody.content[type].schema));
      });
    }
    body.appendChild(el("h4", { text: "Responses" }));
    Object.keys(op.responses).forEach(function (status) {
      var r = op.responses[status];
      body.appendChild(el("div", {}, [el("strong", { text: status }), " " + r.description]));
      Object.keys(r.content || {}).forEach(function (type) {
        var schema = r.content[type].schema;
        if (schema && (schema.$ref || schema.type === "object")) body.appendChild(schemaBlock(schema));
        else body.appendChild(el("div", { text: type }));
      });
    });
    body.appendChild(el("h4", { text: "Try it" }));
    body.appendChild(tryIt(path, method, op));
    return el("details", { class: "op", id: op.operationId }, [
      el("summary", {}, [
        el("span", { class: "method " + method, text: method }),
        el("span", { class: "path", text: path + (op.security ? "  [token]" : "") }),
        el("span", { class: "summary", text: op.summary || "" }),
      ]),
      body,
    ]);
  }

  function render() {
    root.textContent = "";
    if (spec.info && spec.info.description) root.appendChild(el("p", { text: spec.info.description }));
    root.appendChild(el("p", {}, ["Document: ", el("a", { href: root.dataset.spec, text: root.dataset.spec }), " (OpenAPI " + spec.openapi + ", version " + spec.info.version + ")"]));
    root.appendChild(authBox());
    (spec.tags || []).forEach(function (tag) {
      root.appendChild(el("h2", { class: "tag", text: tag.name }));
      Object.keys(spec.paths).forEach(function (path) {
        Object.keys(spec.paths[path]).forEach(function (method) {
          var op = spec.paths[path][method];
          if ((op.tags || [])[0] === tag.name) root.appendChild(operation(path, method, op));
        });
      });
    });
    root.appendChild(el("h2", { class: "tag", text: "Schemas" }));
    Object.keys((spec.components || {}).schemas || {}).forEach(function (name) {
      root.appendChild(el("details", { class: "op", id: "schema-" + name }, [
        el("summary", {}, [el("span", { class: "path", text: name })]),
        el("div", { class: "body" }, [schemaBlock(spec.components.schemas[name])]),
      ]));
    });
  }

  fetch(root.dataset.spec, { headers: { accept: "application/json" } })
    .then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    })
    .then(function (doc) {
      spec = doc;
      render();
    })
    .catch(function (e) {
      root.textContent = "Could not load the API document: " + e.message;
    });
})();
