// Declarations for the two packages the admin uses that ship none. Only what the admin calls.

// AdminJS's bundler entry point ("adminjs/bundler" in its package exports). Used by bundle.ts.
declare module "adminjs/bundler" {
  import type AdminJS from "adminjs";
  export const componentsBundler: { inputOptions: Record<string, unknown>; outputOptions: Record<string, unknown> };
  export class AssetBundler {
    constructor(input: Record<string, unknown>, output: Record<string, unknown>);
    build(): Promise<void>;
  }
  export function generateUserComponentEntry(admin: AdminJS, entryPath: string): string;
}

// express-formidable 1.2 (the body parser @adminjs/express expects: it reads req.fields/req.files).
declare module "express-formidable" {
  import type { RequestHandler } from "express";
  export default function formidableMiddleware(options?: { maxFileSize?: number; maxFieldsSize?: number; multiples?: boolean }): RequestHandler;
}
