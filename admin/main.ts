import { openRoleContext, serveHttp } from "../core/runtime/role.ts";
import { createAdminApp } from "./app.ts";

const ctx = openRoleContext("admin", { needAlipayKeys: true });
// Bundle the custom components before listening, so the first page load does not wait for it.
await serveHttp(ctx, await createAdminApp(ctx, { prebuildBundle: true }), ctx.config.ports.admin);
ctx.lifecycle.listenSignals();
