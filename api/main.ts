import { openRoleContext, serveHttp } from "../core/runtime/role.ts";
import { createApiApp } from "./app.ts";

const ctx = openRoleContext("api");
await serveHttp(ctx, createApiApp(ctx), ctx.config.ports.api);
ctx.lifecycle.listenSignals();
