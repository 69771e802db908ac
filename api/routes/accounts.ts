// Buyer accounts: register and log in; both answer with a bearer token for the API.
import { Router } from "express";
import type { PrismaClient } from "@prisma/client";
import { hashPassword, verifyPassword } from "../../core/auth/password.ts";
import { issueToken } from "../auth.ts";
import { ApiError, validate } from "../errors.ts";
// Shared with the OpenAPI document (api/openapi.ts): one definition of what is accepted.
import { LoginRequest as Login, RegisterRequest as Register } from "../schemas.ts";

// A fixed hash to verify against when the email is unknown, so both failures take the same time.
let decoyHash: Promise<string> | null = null;

export function accountRoutes(deps: { prisma: PrismaClient; tokenSecret: string }): Router {
  const router = Router();
  const session = (buyer: { id: number; email: string; displayName: string }) => ({
    ...issueToken(deps.tokenSecret, buyer.id),
    buyer: { id: buyer.id, email: buyer.email, displayName: buyer.displayName },
  });

  router.post("/auth/register", async (req, res) => {
    const input = validate(Register, req.body, "registration");
    const passwordHash = await hashPassword(input.password);
    try {
      const buyer = await deps.prisma.user.create({ data: { email: input.email, passwordHash, displayName: input.displayName ?? "" } });
      res.status(201).json(session(buyer));
    } catch (e) {
      if ((e as { code?: string }).code === "P2002") throw new ApiError(409, "an account with this email already exists");
      throw e;
    }
  });

  router.post("/auth/login", async (req, res) => {
    const input = validate(Login, req.body, "login");
    const buyer = await deps.prisma.user.findUnique({ where: { email: input.email } });
    decoyHash ??= hashPassword("decoy-password-for-timing");
    const ok = await verifyPassword(input.password, buyer?.passwordHash ?? (await decoyHash));
    if (!buyer || !ok) throw new ApiError(401, "wrong email or password");
    res.json(session(buyer));
  });

  return router;
}
