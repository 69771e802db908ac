// Byte-exact extraction of the signed node of a gateway response (docs/alipay-protocol.md §1.6).
//
// Alipay signs the raw text of the `<method>_response` value as it wrote it, so the node must be cut
// out of the body, not re-serialized: re-serializing loses `\/` escapes, `\uXXXX` escapes, key order
// and spacing. The body is walked as JSON at the top level only, so it does not matter whether `sign`
// comes before or after the node, whether there is whitespace, or whether the data itself contains a
// "sign" key or braces inside strings (the Node SDK's getSignStr fails the sign-first case; Java and
// EasySDK brace-match like this). A duplicated root node is rejected (EasySDK SignContentExtractor):
// JSON.parse would keep the last one while a signature may cover the first.

export type ExtractedNode = {
  ok: true;
  /** Top-level key the node was found under: `<method>_response` or `error_response`. */
  nodeKey: string;
  /** The exact signed text: the object from `{` to its matching `}` (or a string's inner text). */
  nodeText: string;
  /** Decoded `sign` value, null when the body has none. */
  sign: string | null;
  /** JSON.parse of the node. */
  node: unknown;
  /** JSON.parse of the whole body (its other top-level members, e.g. alipay_cert_sn). */
  body: Record<string, unknown>;
};

export type ExtractionFailure = {
  ok: false;
  code: "malformed_json" | "response_node_not_found" | "duplicate_node" | "missing_sign";
  message: string;
};

type Member = { key: string; start: number; end: number };

const WS = new Set([" ", "\t", "\n", "\r"]);

/** The response node name for an API method: "alipay.trade.query" → "alipay_trade_query_response". */
export function responseKeyFor(method: string): string {
  return `${method.replaceAll(".", "_")}_response`;
}

export function extractResponseNode(rawBody: string, method: string): ExtractedNode | ExtractionFailure {
  if (typeof rawBody !== "string") return { ok: false, code: "malformed_json", message: "body is not text" };
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch (err) {
    return { ok: false, code: "malformed_json", message: `body is not JSON (${(err as Error).message})` };
  }
  const members = topLevelMembers(rawBody);
  if (!members) return { ok: false, code: "malformed_json", message: "body is not a JSON object" };

  const wanted = responseKeyFor(method);
  const nodeKey = members.some((m) => m.key === wanted) ? wanted : "error_response";
  const nodes = members.filter((m) => m.key === nodeKey);
  if (nodes.length === 0) {
    const seen = members.map((m) => m.key).join(", ") || "none";
    return { ok: false, code: "response_node_not_found", message: `no "${wanted}" or "error_response" in body (top-level keys: ${seen})` };
  }
  const signs = members.filter((m) => m.key === "sign");
  if (nodes.length > 1 || signs.length > 1) {
    return { ok: false, code: "duplicate_node", message: `body repeats "${nodes.length > 1 ? nodeKey : "sign"}"` };
  }

  // The node and sign values are the body's own members: with each key present once (checked
  // above), JSON.parse of the whole body holds exactly what parsing their spans would give.
  const top = body as Record<string, unknown>;
  const nodeRaw = rawBody.slice(nodes[0]!.start, nodes[0]!.end);
  const node: unknown = top[nodeKey];
  let nodeText: string;
  if (nodeRaw.startsWith("{")) {
    nodeText = nodeRaw;
  } else if (nodeRaw.startsWith('"')) {
    // Encrypted responses (AES) carry the node as a base64 string; the signed text is its content.
    nodeText = nodeRaw.slice(1, -1);
  } else {
    return { ok: false, code: "response_node_not_found", message: `"${nodeKey}" is neither an object nor a string` };
  }

  let sign: string | null = null;
  if (signs.length === 1) {
    const value: unknown = top.sign;
    if (typeof value !== "string") return { ok: false, code: "missing_sign", message: "sign is not a string" };
    sign = value;
  }
  return { ok: true, nodeKey, nodeText, sign, node, body: top };
}

// Walks the members of the top-level object of an already-validated JSON text, returning each key
// (decoded) with the raw span of its value. Returns null when the top level is not an object.
function topLevelMembers(text: string): Member[] | null {
  let i = 0;
  const skipWs = () => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  skipWs();
  if (text[i] !== "{") return null;
  i++;
  const members: Member[] = [];
  skipWs();
  if (text[i] === "}") return members;
  for (;;) {
    skipWs();
    const keyStart = i;
    i = skipString(text, i);
    const key = JSON.parse(text.slice(keyStart, i)) as string;
    skipWs();
    i++; // ':'
    skipWs();
    const start = i;
    i = skipValue(text, i);
    members.push({ key, start, end: i });
    skipWs();
    if (text[i] === ",") {
      i++;
      continue;
    }
    return members; // '}' (the text is valid JSON)
  }
}

/** Index just past the string starting at `i` (which is a `"`), honouring backslash escapes. */
function skipString(text: string, i: number): number {
  i++;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\\") i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  return i;
}

/** Index just past the JSON value starting at `i`; strings are skipped whole so braces in them don't count. */
function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '"') {
        i = skipString(text, i);
        continue;
      }
      if (ch === "{" || ch === "[") depth++;
      else if (ch === "}" || ch === "]") {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < text.length && !WS.has(text[i]!) && text[i] !== "," && text[i] !== "}" && text[i] !== "]") i++;
  return i;
}
