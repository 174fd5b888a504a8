// A small HTTP API: GET /healthz, GET /notes, POST /notes (body = note text).
// Notes persist in the data volume; the greeting comes from a rendered config file.
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

const port = Number(process.env.PORT ?? 8787);
const store = join(process.env.DATA_DIR ?? ".", "notes.json");
const config = JSON.parse(readFileSync(process.env.API_CONFIG ?? "api.json", "utf8"));
const load = () => JSON.parse(readFileSync(store, "utf8"));

const server = createServer((req, res) => {
  const reply = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(`${JSON.stringify(body)}\n`);
  };
  if (req.url === "/healthz") return reply(200, { ok: true });
  if (req.url === "/" || req.url === "/notes") {
    if (req.method === "POST") {
      let text = "";
      req.on("data", (c) => (text += c));
      req.on("end", () => {
        const db = load();
        db.notes.push({ text: text.trim(), at: new Date().toISOString() });
        writeFileSync(store, JSON.stringify(db, null, 2));
        reply(201, { count: db.notes.length });
      });
      return;
    }
    return reply(200, { greeting: config.greeting, notes: load().notes });
  }
  reply(404, { error: "not found" });
});
server.listen(port, "127.0.0.1", () => console.log(`api: listening on http://127.0.0.1:${port}`));
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    console.log(`api: ${sig}, closing`);
    server.close(() => process.exit(0));
  });
}
