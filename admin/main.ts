import { openRoleContext, serveHttp } from "../core/runtime/role.ts";
import { createAdminApp } from "./app.ts";

const ctx = openRoleContext("admin", { needAlipayKeys: true });
await serveHttp(ctx, await createAdminApp(ctx), ctx.config.ports.admin);
ctx.lifecycle.listenSignals();
