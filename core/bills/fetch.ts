// Getting a day's bill from Alipay: ask for the download link, download it at once to a temporary
// file (the link works for 30 s; docs/bills.md). The answer is one of: the file, "no bill (yet)",
// or a failure to retry later. Nothing here touches the database.
import { createWriteStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { AlipayClient } from "../alipay/client.ts";
import type { BillType } from "./format.ts";

export type BillAlipay = Pick<AlipayClient, "billDownloadUrl">;

export type BillFetch =
  | { kind: "downloaded"; file: string; bytes: number; cleanup: () => Promise<void> }
  /** isp.bill_not_exist: not produced yet, or nothing happened that day. */
  | { kind: "not_exist" }
  | { kind: "failed"; reason: string };

/** isp.bill_not_exist, BILL_NOT_EXIST (older docs) and the aop./isv. prefixed spellings. */
export function isBillNotExist(subCode: string): boolean {
  return subCode.replace(/^(isp|aop|isv)\./i, "").toUpperCase() === "BILL_NOT_EXIST";
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

async function startsWithZipMagic(file: string): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(ZIP_MAGIC);
  } finally {
    await fh.close();
  }
}

export async function fetchBill(
  alipay: BillAlipay,
  req: { billType: BillType; billDate: string; timeoutMs?: number },
): Promise<BillFetch> {
  const dir = await mkdtemp(path.join(tmpdir(), "coursepay-bill-"));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const file = path.join(dir, `${req.billType}-${req.billDate}.csv.zip`);
  let lastReason = "";
  // An expired link answers with a page, not a zip: ask for a fresh link once.
  for (let attempt = 1; attempt <= 2; attempt++) {
    const answer = await alipay.billDownloadUrl({ billType: req.billType, billDate: req.billDate });
    if (answer.kind === "business_error") {
      await cleanup();
      if (isBillNotExist(answer.subCode)) return { kind: "not_exist" };
      return { kind: "failed", reason: `${answer.code} ${answer.subCode}: ${answer.subMsg}`.trim() };
    }
    if (answer.kind === "unknown") {
      await cleanup();
      return { kind: "failed", reason: answer.reason };
    }
    try {
      const res = await fetch(answer.billDownloadUrl, { signal: AbortSignal.timeout(req.timeoutMs ?? 300_000) });
      if (res.status !== 200 || !res.body) {
        lastReason = `download answered HTTP ${res.status}`;
        continue;
      }
      await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), createWriteStream(file));
      if (!(await startsWithZipMagic(file))) {
        lastReason = "download did not return a zip (link expired: 下载超时?)";
        continue;
      }
      const { size } = await stat(file);
      return { kind: "downloaded", file, bytes: size, cleanup };
    } catch (e) {
      lastReason = `download failed: ${(e as Error).message}`;
    }
  }
  await cleanup();
  return { kind: "failed", reason: lastReason };
}
