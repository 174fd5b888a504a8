// Three busybox programs, defined once. `nix2dream up` runs them on this machine (procfile +
// manage-local, busybox on PATH); `nix2dream up --manager compose` builds an image per service
// FROM the base image and runs them in Docker Compose. Only the base image is container-specific.
import composeManager from "@nix2dream/manage-compose";
import local from "@nix2dream/manage-local";
import compose from "@nix2dream/render-compose";
import procfile from "@nix2dream/render-procfile";
import { defineDeployment, serviceRef } from "nix2dream";

const store = serviceRef("store");
const web = serviceRef("web");

/** A CGI script's first lines: the header and the blank line. */
const cgi = (body: string) => `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n${body}\n`;

export default defineDeployment({
  // The tests give each run its own name (and so its own Compose project and image names).
  name: process.env.CONTAINERS_NAME ?? "containers",
  use: [
    procfile(),
    local(),
    compose({ baseImage: process.env.CONTAINERS_BASE_IMAGE ?? "busybox:stable" }),
    composeManager(),
  ],
  services: {
    seed: {
      description: "A one-shot job the web server waits for",
      command: ["sh", "-c", 'echo "seeded at $(date -u +%H:%M:%S)"'],
      restart: "no",
    },
    store: {
      description: "Counts its own starts in a persistent volume and serves the count",
      command: [
        "sh",
        "-c",
        'n=$(cat "$DATA/starts" 2>/dev/null || echo 0); echo $((n + 1)) > "$DATA/starts"; exec busybox httpd -f -p "$PORT" -h "$DATA"',
      ],
      env: { DATA: store.volume("data"), PORT: store.port("http") },
      volumes: { data: { path: "/var/lib/store", persistent: true } },
      ports: { http: 18461 },
      healthcheck: { port: "http", interval: "1s", startPeriod: "20s" },
    },
    web: {
      description: "Serves a page and two CGI scripts; reaches the store by reference",
      command: ["sh", "-c", 'exec busybox httpd -f -p "$PORT" -h "$(dirname "$INDEX")"'],
      env: {
        PORT: web.port("http"),
        INDEX: web.file("/srv/www/index.html"),
        STORE_URL: `http://${store.addressOf("http")}/starts`,
        GREETING: `it's "quoted", costs $5, runs \`nothing\`, $(nothing) or \${HOME}\nsecond line ✓`,
        // Where each script is (relocated under the state directory locally), for the record.
        CGI_SCRIPTS: ["starts", "greeting", "token"]
          .map((s) => web.file(`/srv/www/cgi-bin/${s}`))
          .join(" "),
      },
      secrets: { API_TOKEN: { fromEnv: "CONTAINERS_API_TOKEN" } },
      files: {
        "/srv/www/index.html": "<h1>hello from nix2dream</h1>\n",
        "/srv/www/cgi-bin/starts": { text: cgi('wget -q -O- "$STORE_URL"'), mode: "0755" },
        "/srv/www/cgi-bin/greeting": { text: cgi('printf "%s\\n" "$GREETING"'), mode: "0755" },
        // Proves the secret reached the program without showing it: its SHA-256.
        "/srv/www/cgi-bin/token": {
          text: cgi('printf %s "$API_TOKEN" | sha256sum | cut -d " " -f 1'),
          mode: "0755",
        },
      },
      ports: { http: 18462 },
      healthcheck: { port: "http", path: "/index.html", interval: "1s", startPeriod: "20s" },
      dependsOn: { seed: "completed", store: "healthy" },
    },
  },
});
