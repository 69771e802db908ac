// The pages' two static files (one script, one stylesheet), served under content-hashed names so
// they can be cached for a year: a new deploy changes the name, never the bytes behind a name.
// Read once at start; small enough to keep in memory.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RequestHandler } from "express";

interface Asset {
  /** e.g. app.3f2a9c1b0d.js */
  name: string;
  body: Buffer;
  type: string;
}

const DIR = join(import.meta.dirname, "assets");
const TYPES: Record<string, string> = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" };

function load(file: string): Asset {
  const body = readFileSync(join(DIR, file));
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 10);
  const dot = file.lastIndexOf(".");
  const ext = file.slice(dot + 1);
  return { name: `${file.slice(0, dot)}.${hash}.${ext}`, body, type: TYPES[ext]! };
}

const script = load("app.js");
const style = load("app.css");
const byName = new Map([script, style].map((a) => [a.name, a]));

export const ASSETS_PREFIX = "/assets";
export const assetUrls = { script: `${ASSETS_PREFIX}/${script.name}`, style: `${ASSETS_PREFIX}/${style.name}` } as const;

/** GET /assets/:name — only the current hashed names; anything else is a 404. */
export const serveAsset: RequestHandler = (req, res, next) => {
  const asset = byName.get(String(req.params.name));
  if (!asset) return next();
  res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.type(asset.type).send(asset.body);
};
