// One-shot migration: creates the notes store in the data volume, then exits 0.
// The API starts only after this has completed.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.DATA_DIR;
if (!dir) {
  console.error("migrate: DATA_DIR is not set");
  process.exit(1);
}
mkdirSync(dir, { recursive: true });
const store = join(dir, "notes.json");
if (existsSync(store)) {
  console.log(`migrate: ${store} is up to date`);
} else {
  writeFileSync(store, JSON.stringify({ version: 1, notes: [] }, null, 2));
  console.log(`migrate: created ${store}`);
}
