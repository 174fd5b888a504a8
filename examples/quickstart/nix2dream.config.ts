// The quickstart deployment: a notes API, the migration it needs first, and a worker that
// calls it. `npm start` at the repository root renders this with the Procfile renderer and
// runs it with the built-in supervisor.
import local from "@nix2dream/manage-local";
import procfile from "@nix2dream/render-procfile";
import { defineDeployment } from "nix2dream";

export default defineDeployment(
  {
    name: "quickstart",
    use: [procfile(), local()],
    services: {
      migrate: {
        description: "Creates the notes store, then exits",
        command: ["node", "app/migrate.mjs"],
        restart: "no",
      },
      api: {
        description: "The notes HTTP API",
        command: ["node", "app/api.mjs"],
        ports: { http: 8787 },
        files: {
          "/etc/notes/api.json": JSON.stringify({ greeting: "hello from nix2dream" }),
        },
        volumes: { data: { path: "/var/lib/notes", persistent: true } },
        healthcheck: { port: "http", path: "/healthz", interval: "1s", startPeriod: "10s" },
        dependsOn: { migrate: "completed" },
        restart: "on-failure",
      },
      worker: {
        description: "Polls the API through a cross-service reference",
        command: ["node", "app/worker.mjs"],
        env: { POLL_SECONDS: "5" },
        dependsOn: { api: "healthy" },
        restart: "always",
      },
    },
  },
  // Where each service finds the others, with references typed by the services above: a
  // misspelt service, port, volume or file name fails `tsc`.
  ({ ref }) => ({
    migrate: { env: { DATA_DIR: ref.api.volumes.data } },
    api: {
      env: {
        PORT: ref.api.ports.http,
        DATA_DIR: ref.api.volumes.data,
        API_CONFIG: ref.api.files["/etc/notes/api.json"],
      },
    },
    worker: { env: { API_URL: `http://${ref.api.address.http}` } },
  }),
);
