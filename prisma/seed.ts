// Demo data for local runs: a few courses, a demo buyer and a staff admin. Idempotent: re-running
// adds nothing that exists. Generated passwords are printed once, here, and stored only as hashes.
// Plain SQL through pg (tables and columns as prisma/schema.prisma maps them): `npm start` runs this
// at every start, and Prisma's client (its query compiler is WebAssembly) cost the launcher ~0.6 s
// of CPU for three look-ups (docs/benchmarks.md "Start-up").
import pg from "pg";
import { generatePassword, hashPassword } from "../core/auth/password.ts";

const COURSES = [
  { title: "Python 入门 / Python for Beginners", description: "从零开始学 Python。", priceFen: 9900 },
  { title: "Django 实战 / Django in Practice", description: "用 Django 搭一个网店。", priceFen: 19900 },
  { title: "TypeScript 全栈 / Full-stack TypeScript", description: "Node, express, Prisma.", priceFen: 29900 },
  { title: "数据库设计 / Database Design", description: "PostgreSQL schema, indexes, transactions.", priceFen: 12800 },
  { title: "支付系统 / Building Payment Systems", description: "Idempotency, reconciliation, callbacks.", priceFen: 39900 },
];

export const DEMO_BUYER_EMAIL = "buyer@coursepay.local";
export const DEMO_STAFF_EMAIL = "admin@coursepay.local";

export interface SeededAccount {
  kind: "buyer" | "staff";
  email: string;
  password: string;
  /** One line for the console: who, the generated password, how to reset it. */
  line: string;
}

/** Returns the accounts created by this run (with their generated passwords, shown nowhere else). */
export async function seed(databaseUrl: string, print: (line: string) => void = console.log): Promise<SeededAccount[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const created: SeededAccount[] = [];
  try {
    const { rows } = await db.query<{ courses: number; buyer: boolean; staff: boolean }>(
      `SELECT (SELECT count(DISTINCT title)::int FROM course WHERE title = ANY($1::text[])) AS courses,
              EXISTS (SELECT 1 FROM buyer WHERE email = $2) AS buyer,
              EXISTS (SELECT 1 FROM staff_user WHERE email = $3) AS staff`,
      [COURSES.map((c) => c.title), DEMO_BUYER_EMAIL, DEMO_STAFF_EMAIL],
    );
    const have = rows[0]!;
    if (have.courses < COURSES.length) {
      for (const c of COURSES) {
        await db.query(
          `INSERT INTO course (title, description, price_fen) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM course WHERE title = $1)`,
          [c.title, c.description, c.priceFen],
        );
      }
    }
    if (!have.buyer) {
      const password = generatePassword();
      const r = await db.query(
        `INSERT INTO buyer (email, display_name, password_hash) VALUES ($1, 'Demo buyer', $2) ON CONFLICT (email) DO NOTHING`,
        [DEMO_BUYER_EMAIL, await hashPassword(password)],
      );
      if (r.rowCount === 1) {
        const line = `demo buyer created: ${DEMO_BUYER_EMAIL} / ${password}   (shown once)`;
        created.push({ kind: "buyer", email: DEMO_BUYER_EMAIL, password, line });
        print(line);
      }
    }
    if (!have.staff) {
      const password = generatePassword();
      const r = await db.query(
        `INSERT INTO staff_user (email, role, password_hash) VALUES ($1, 'admin', $2) ON CONFLICT (email) DO NOTHING`,
        [DEMO_STAFF_EMAIL, await hashPassword(password)],
      );
      if (r.rowCount === 1) {
        const line = `staff admin created: ${DEMO_STAFF_EMAIL} / ${password}   (shown once; reset with: npm run staff -- reset ${DEMO_STAFF_EMAIL})`;
        created.push({ kind: "staff", email: DEMO_STAFF_EMAIL, password, line });
        print(line);
      }
    }
  } finally {
    await db.end();
  }
  return created;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!process.env.DATABASE_URL) {
    console.error("DATABASE_URL: required");
    process.exit(1);
  }
  await seed(process.env.DATABASE_URL);
}
