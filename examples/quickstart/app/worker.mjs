// A worker that waits for the API to be healthy (the supervisor gates it), then polls it
// through the cross-service reference in API_URL.
const url = process.env.API_URL;
const every = Number(process.env.POLL_SECONDS ?? 5) * 1000;
if (!url) {
  console.error("worker: API_URL is not set");
  process.exit(1);
}
async function tick() {
  try {
    const res = await fetch(`${url}/notes`);
    const body = await res.json();
    console.log(`worker: ${url} says "${body.greeting}" with ${body.notes.length} note(s)`);
  } catch (err) {
    console.error(`worker: ${url} unreachable: ${err.message}`);
  }
}
await tick();
const timer = setInterval(tick, every);
process.on("SIGTERM", () => {
  clearInterval(timer);
  console.log("worker: stopping");
});
