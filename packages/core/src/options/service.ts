/**
 * The core per-service options (`services.<name>.*`). They evaluate to exactly
 * `EvaluatedService` (see `../deployment.ts`); shorthand forms are coerced (`coercedTo`),
 * so every module reading `config.services.<name>` sees the full shape.
 */
import {
  defineModule,
  type Module,
  ModuleError,
  type ModuleObject,
  mkOption,
  mkOptionType,
  nameOnlyModule,
  types,
} from "@nix2dream/modules";
import type {
  DependencyCondition,
  Healthcheck,
  RestartSettings,
  SecretSource,
  ServiceFile,
  ServicePort,
  StopSettings,
} from "../deployment.js";
import { DURATION_RE, type Duration, parseDuration } from "../duration.js";
import { checkedType, coercedTo, withPath } from "./types.js";

/** Defaults shared by declarations and by the shorthand forms, so both give the same result. */
export const SERVICE_DEFAULTS = {
  healthcheck: { interval: 5, timeout: 5, retries: 3, startPeriod: 30 },
  restart: {
    policy: "on-failure",
    maxRetries: null,
    backoff: { initial: 1, factor: 2, max: 30 },
  } satisfies RestartSettings,
  stop: { signal: "SIGTERM", gracePeriod: 10 } satisfies StopSettings,
  fileMode: "0644",
} as const;

// Plain predicates, each accepting exactly what its zod schema accepts (zod's numbers are finite,
// its `int` a safe integer): a valid config never loads zod (see `checkedType`).
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === "string";
function isStringList(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== "string") return false; // holes too
  return true;
}

const durationType = checkedType<Duration>(
  'duration (seconds, or a string like "5s", "500ms", "1m")',
  (v) => (isNumber(v) && v >= 0) || (isString(v) && DURATION_RE.test(v)),
  (z) => z.union([z.number().nonnegative(), z.string().regex(DURATION_RE, "not a duration")]),
);

function durationOption(defaultSeconds: number, description: string) {
  return mkOption({
    type: durationType,
    default: defaultSeconds,
    example: "10s",
    description: `${description} Seconds, or a string such as "5s", "500ms", "1m".`,
    apply: (v: Duration) => parseDuration(v),
  });
}

/** `default: {}` for sets and submodules (in a submodule every sub-option takes its own default). */
const EMPTY = {} as never;

const SIGNAL_RE = /^SIG[A-Z0-9+-]+$/;
const signalType = checkedType<string>(
  "signal name (e.g. SIGTERM)",
  (v) => isString(v) && SIGNAL_RE.test(v),
  (z) => z.string().regex(SIGNAL_RE),
);
const MODE_RE = /^0?[0-7]{3}$/;
const modeType = checkedType<string>(
  'octal file mode (e.g. "0644")',
  (v) => isString(v) && MODE_RE.test(v),
  (z) => z.string().regex(MODE_RE),
);
const QUANTITY_RE = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P)?$/;
const quantityType = checkedType<number | string>(
  'memory quantity (bytes, or "512Mi", "1Gi", "500M")',
  (v) => (isNumber(v) && Number.isSafeInteger(v) && v > 0) || (isString(v) && QUANTITY_RE.test(v)),
  (z) => z.union([z.number().int().positive(), z.string().regex(QUANTITY_RE)]),
);
const cpuType = checkedType<number>(
  "positive number",
  (v) => isNumber(v) && v > 0,
  (z) => z.number().positive(),
);
const backoffFactorType = checkedType<number>(
  "number ≥ 1",
  (v) => isNumber(v) && v >= 1,
  (z) => z.number().min(1),
);
/** An argv list, copied (zod's parse returned a copy; merges must not share the caller's list). */
const argvType = checkedType<string[]>(
  "list of string",
  isStringList,
  (z) => z.array(z.string()),
  (argv) => argv.slice(),
);

const packageModule = defineModule(import.meta.url, {
  options: {
    nix: mkOption({
      type: types.nullOr(types.str),
      default: null,
      example: "nixpkgs#redis",
      description:
        "A Nix derivation providing the program: a flake reference (`nixpkgs#redis`) or an attribute path (`pkgs.redis`).",
    }),
    image: mkOption({
      type: types.nullOr(types.str),
      default: null,
      example: "redis:7",
      description: "An OCI image providing the program, for container targets.",
    }),
  },
});

const secretModule = defineModule(import.meta.url, {
  options: {
    fromEnv: mkOption({
      type: types.nullOr(types.str),
      default: null,
      defaultText: "the secret's own name, when `fromFile` is not set either",
      example: "DATABASE_PASSWORD",
      description: "Read the value from this variable of the launching environment.",
    }),
    fromFile: mkOption({
      type: types.nullOr(types.str),
      default: null,
      example: "/run/secrets/db-password",
      description: "Read the value from this file on the machine that runs the service.",
    }),
    required: mkOption({
      type: types.bool,
      default: true,
      description: "Refuse to start the service when the secret is missing.",
    }),
  },
});

const fileModule = defineModule(import.meta.url, {
  options: {
    text: mkOption({
      type: types.nullOr(types.lines),
      default: null,
      example: "listen 8080\n",
      description: "Inline content of the file. Exactly one of `text` and `source` is set.",
    }),
    source: mkOption({
      type: types.nullOr(types.str),
      default: null,
      example: "./config/app.conf",
      description:
        "A file to copy, relative to the config file's directory or absolute. Exactly one of `text` and `source` is set.",
    }),
    mode: mkOption({
      type: modeType,
      default: SERVICE_DEFAULTS.fileMode,
      example: "0600",
      description: "POSIX permissions of the file, as an octal string.",
    }),
  },
});

/**
 * This file as messages name it (relative to the working directory, as `defineModule` shows it),
 * worked out once per working directory rather than once per service.
 */
let thisFile: { cwd: string; file: string } | undefined;
function thisFileShown(): string {
  const cwd = process.cwd();
  if (thisFile?.cwd !== cwd) {
    thisFile = { cwd, file: (defineModule(import.meta.url, {}) as { file: string }).file };
  }
  return thisFile.file;
}

/**
 * What a volume's `path` declares as its default, as the docs show it; each volume's own default
 * is `/var/lib/<service>/<volume>`, put in by {@link volumePathType} from the option's path.
 */
const VOLUME_PATH_DEFAULT = "/var/lib/<name>/<name>";

/**
 * `types.str` (same name, checks and messages), but the declared default of the volume module
 * declared in `file` becomes the volume's own path, read from the option's path
 * (`services.<service>.volumes.<volume>.path`): one volume type for every service, instead of
 * a declaration, a submodule type and a template per service.
 */
function volumePathType(file: string) {
  const str = types.str;
  return mkOptionType<string>({
    name: str.name,
    description: str.description,
    zod: () => str.zod,
    check: str.check,
    // Reads nothing but its arguments; not `simple`: the value depends on the path.
    pure: true,
    merge: (loc, defs) => {
      const own = (d: { file: string; value: unknown }) =>
        d.file === file && d.value === VOLUME_PATH_DEFAULT
          ? { file, value: `/var/lib/${loc[loc.length - 4]}/${loc[loc.length - 2]}` }
          : d;
      return str.merge(loc, defs.length === 1 ? [own(defs[0] as (typeof defs)[0])] : defs.map(own));
    },
  });
}

function volumeModule(file: string): ModuleObject {
  return {
    // The file `defineModule` would give it: set here, the module is not copied to add it.
    file,
    options: {
      path: mkOption({
        type: volumePathType(file),
        default: VOLUME_PATH_DEFAULT,
        defaultText: "/var/lib/<service>/<volume>",
        example: "/data",
        description:
          "Where the service sees the volume: inside its container, or relocated under the deployment's state directory on local targets.",
      }),
      persistent: mkOption({
        type: types.bool,
        default: true,
        description: "Keep the contents across `down`/`up` and re-creation of the service.",
      }),
      size: mkOption({
        type: types.nullOr(types.str),
        default: null,
        example: "1Gi",
        description: "Requested size; targets that cannot size volumes report a diagnostic.",
      }),
      init: mkOption({
        type: types.lines,
        default: "",
        example: 'cp -r /seed/. "$VOLUME"',
        description: "Shell run when the volume is empty (first start).",
      }),
      check: mkOption({
        type: types.lines,
        default: "",
        description:
          "Shell run on every start before the service; a non-zero exit stops the start.",
      }),
      clear: mkOption({
        type: types.lines,
        default: "",
        description: "Shell run when the volume is cleared (`down --volumes`).",
      }),
    },
  };
}

/** The `volumes` option of every service, for the file messages name (see `thisFileShown`). */
let volumesOption: { file: string; option: ReturnType<typeof buildVolumesOption> } | undefined;

function buildVolumesOption(file: string) {
  return mkOption({
    // The module with its file, as declaring it here would give it: a type of a module
    // without one is copied with this file.
    type: types.attrsOf(
      types.submoduleWith({
        modules: [{ module: volumeModule(file), file }],
        shorthandOnlyDefinesConfig: true,
      }),
    ),
    default: EMPTY,
    example: { data: { path: "/var/lib/postgresql", size: "1Gi" } },
    description: "Storage the service keeps, by name, with scripts run on it.",
  });
}

function sharedVolumesOption() {
  const file = thisFileShown();
  if (volumesOption?.file !== file) volumesOption = { file, option: buildVolumesOption(file) };
  return volumesOption.option;
}

const portModule = defineModule(import.meta.url, {
  options: {
    port: mkOption({
      type: types.port,
      example: 8080,
      description: "The port the program listens on.",
    }),
    protocol: mkOption({
      type: types.enum(["tcp", "udp"]),
      default: "tcp",
      description: "Transport protocol.",
    }),
    expose: mkOption({
      type: types.bool,
      default: false,
      description:
        "Publish the port beyond the deployment: on the host, or outside the cluster, where the target has one.",
    }),
    hostPort: mkOption({
      type: types.nullOr(types.port),
      default: null,
      defaultText: "`port`, when `expose` is set",
      example: 18080,
      description:
        "Host port to publish on. Setting it publishes the port; when only `expose` is set the host port is `port`.",
    }),
  },
});

const healthcheckModule = defineModule(import.meta.url, {
  options: {
    type: mkOption({
      type: types.nullOr(types.enum(["exec", "http", "tcp"])),
      default: null,
      defaultText: "`exec` when `command` is set, else `http` when `path` is set, else `tcp`",
      description: "How to probe: run a command, request a URL, or open a TCP connection.",
    }),
    command: mkOption({
      type: types.listOf(types.str),
      default: [],
      example: ["pg_isready", "-h", "127.0.0.1"],
      description: "For `exec`: argv run in the service's environment; exit 0 means healthy.",
    }),
    port: mkOption({
      type: types.nullOr(types.str),
      default: null,
      example: "http",
      description: "For `http` and `tcp`: the name of one of the service's `ports`.",
    }),
    path: mkOption({
      type: types.nullOr(types.str),
      default: null,
      defaultText: "/",
      example: "/healthz",
      description: "For `http`: the request path; a 2xx or 3xx answer means healthy.",
    }),
    scheme: mkOption({
      type: types.enum(["http", "https"]),
      default: "http",
      description: "For `http`: the URL scheme.",
    }),
    interval: durationOption(SERVICE_DEFAULTS.healthcheck.interval, "Time between probes."),
    timeout: durationOption(
      SERVICE_DEFAULTS.healthcheck.timeout,
      "Time a probe may take before it counts as failed.",
    ),
    retries: mkOption({
      type: types.ints.positive,
      default: SERVICE_DEFAULTS.healthcheck.retries,
      description: "Consecutive failures before the service is unhealthy.",
    }),
    startPeriod: durationOption(
      SERVICE_DEFAULTS.healthcheck.startPeriod,
      "Grace period after start during which failures do not count (a success ends it early), so slow starters are not restarted.",
    ),
  },
});

interface RawHealthcheck {
  type: "exec" | "http" | "tcp" | null;
  command: string[];
  port: string | null;
  path: string | null;
  scheme: "http" | "https";
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
}

/** Turns the flat healthcheck options into the evaluated tagged shape. */
function toHealthcheck(service: string, raw: RawHealthcheck | null): Healthcheck | null {
  if (raw === null) return null;
  const type = raw.type ?? (raw.command.length > 0 ? "exec" : raw.path !== null ? "http" : "tcp");
  const timing = {
    interval: raw.interval,
    timeout: raw.timeout,
    retries: raw.retries,
    startPeriod: raw.startPeriod,
  };
  const where = `services.${service}.healthcheck`;
  if (type === "exec") {
    if (raw.command.length === 0) {
      throw new ModuleError(
        "INVALID_HEALTHCHECK",
        `The option \`${where}\` is an exec healthcheck without a command: set \`${where}.command\` to the argv to run.`,
        { optionPath: `${where}.command` },
      );
    }
    return { type, command: raw.command, ...timing };
  }
  if (raw.port === null) {
    throw new ModuleError(
      "INVALID_HEALTHCHECK",
      `The option \`${where}\` is a ${type} healthcheck without a port: set \`${where}.port\` to the name of one of the service's ports.`,
      { optionPath: `${where}.port` },
    );
  }
  if (type === "http") {
    return { type, port: raw.port, path: raw.path ?? "/", scheme: raw.scheme, ...timing };
  }
  return { type, port: raw.port, ...timing };
}

const restartModule = defineModule(import.meta.url, {
  options: {
    policy: mkOption({
      type: types.enum(["no", "on-failure", "always"]),
      default: SERVICE_DEFAULTS.restart.policy,
      description:
        "When to restart the program after it exits: never, after a non-zero exit, or always.",
    }),
    maxRetries: mkOption({
      type: types.nullOr(types.ints.unsigned),
      default: SERVICE_DEFAULTS.restart.maxRetries,
      defaultText: "null (unlimited)",
      example: 5,
      description:
        "Give up after this many automatic restarts in a row: a run that lasts long enough (the built-in supervisor: 10 s) resets the count, and restarts an operator asks for do not count; null is unlimited.",
    }),
    backoff: mkOption({
      type: types.submodule({
        options: {
          initial: durationOption(
            SERVICE_DEFAULTS.restart.backoff.initial,
            "Delay before the first restart.",
          ),
          factor: mkOption({
            type: backoffFactorType,
            default: SERVICE_DEFAULTS.restart.backoff.factor,
            description: "Each further delay is the previous one times this factor.",
          }),
          max: durationOption(SERVICE_DEFAULTS.restart.backoff.max, "Upper bound of the delay."),
        },
      }),
      default: EMPTY,
      description: "Exponential backoff between restarts.",
    }),
  },
});

const stopModule = defineModule(import.meta.url, {
  options: {
    signal: mkOption({
      type: signalType,
      default: SERVICE_DEFAULTS.stop.signal,
      example: "SIGINT",
      description: "Signal sent to ask the program to stop.",
    }),
    gracePeriod: durationOption(
      SERVICE_DEFAULTS.stop.gracePeriod,
      "Time between the stop signal and SIGKILL.",
    ),
  },
});

const watchModule = defineModule(import.meta.url, {
  options: {
    paths: mkOption({
      type: types.listOf(types.str),
      default: [],
      example: ["src", "package.json"],
      description:
        "Files or directories (relative to the config file's directory) whose change restarts the service under `nix2dream up --watch`. Directories are watched recursively.",
    }),
    ignore: mkOption({
      type: types.listOf(types.str),
      default: [],
      example: ["node_modules", "**/*.log"],
      description:
        "Globs of changes to ignore inside the watched directories: `**` crosses directories, `*` does not; a glob without `/` matches any path segment.",
    }),
    debounce: durationOption(
      0.3,
      "Quiet time after the last change before the restart, so a burst of writes restarts once.",
    ),
  },
});

const resourcesModule = defineModule(import.meta.url, {
  options: {
    cpu: mkOption({
      type: types.nullOr(cpuType),
      default: null,
      example: 0.5,
      description: "CPU limit, in CPUs.",
    }),
    memory: mkOption({
      type: types.nullOr(quantityType),
      default: null,
      example: "512Mi",
      description: 'Memory limit: bytes, or a quantity such as "512Mi" or "1Gi".',
      apply: (v: number | string | null) => (v === null ? null : String(v)),
    }),
  },
});

const envValueType = coercedTo(
  types.either(types.float, types.bool),
  (v: number | boolean) => String(v),
  types.str,
  "string (numbers and booleans are converted)",
);

function mapValues<T, U>(record: Record<string, T>, f: (v: T, k: string) => U): Record<string, U> {
  const out: Record<string, U> = {};
  for (const k of Object.keys(record)) out[k] = f(record[k] as T, k);
  return out;
}

/** Options every service has; a function of the service's name (`services.<name>`). */
export function serviceOptionsModule(args: {
  name?: string;
}): ReturnType<typeof buildServiceModule> {
  return buildServiceModule(args.name ?? "<name>");
}

/** `healthcheck`, one declaration for every service: messages take its name from the path. */
function healthcheckOption() {
  return mkOption({
    type: withPath(types.nullOr(types.submodule(healthcheckModule)), (loc, v) =>
      toHealthcheck(loc[loc.length - 2] as string, v as RawHealthcheck | null),
    ),
    default: null,
    example: { type: "http", port: "http", path: "/healthz", interval: "5s" },
    description:
      "How to tell the service is healthy: `exec` (a command), `http` (a URL on one of its ports) or `tcp` (a port accepts connections), with timing.",
  });
}

/**
 * The options of a service that do not depend on its name: built once and shared by every
 * service, since building option types (zod schemas, submodule types) per service dominated the
 * evaluation of large deployments.
 */
let staticOptions: ReturnType<typeof buildStaticOptions> | undefined;

function buildStaticOptions() {
  return {
    // The name is the attribute name under `services`; its form is checked with the file that
    // defined the service (checks.ts), not here, where the only file is core's own default.
    nameType: types.str,
    enable: mkOption({
      type: types.bool,
      default: true,
      description: "Whether the service is part of the deployment.",
    }),
    description: mkOption({
      type: types.str,
      default: "",
      example: "HTTP API of the shop",
      description: "What the service is, for people and for targets that show a description.",
    }),
    package: mkOption({
      type: types.submodule(packageModule),
      default: EMPTY,
      description:
        "Where the program comes from: a Nix derivation (`nix`), an OCI image (`image`), or neither (a program on PATH).",
    }),
    command: mkOption({
      type: coercedTo(
        types.str,
        (p: string) => [p],
        argvType,
        "list of string (argv), or a string (the program alone)",
      ),
      default: [],
      example: ["node", "server.mjs"],
      description:
        "argv of the main program (its first element is the program). A single string is the program alone. Values may contain references.",
    }),
    args: mkOption({
      type: types.listOf(types.str),
      default: [],
      example: ["--port", "8080"],
      description:
        "Arguments appended to `command`; definitions from several modules are concatenated. Values may contain references.",
    }),
    preStart: mkOption({
      type: types.lines,
      default: "",
      example: "mkdir -p ./cache",
      description: "Shell run before the main program on every start. May contain references.",
    }),
    workingDir: mkOption({
      type: types.nullOr(types.str),
      default: null,
      example: "/srv/api",
      description: "Working directory of the program.",
    }),
    user: mkOption({
      type: types.nullOr(types.str),
      default: null,
      example: "api",
      description: "User to run as, where the target can switch users.",
    }),
    group: mkOption({
      type: types.nullOr(types.str),
      default: null,
      example: "api",
      description: "Group to run as, where the target can switch groups.",
    }),
    env: mkOption({
      type: types.attrsOf(envValueType),
      default: EMPTY,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the example shows the source a user writes
      example: { DATABASE_URL: "postgres://${ref.db.host}:${ref.db.ports.pg}/app" },
      description:
        "Environment variables. Values may contain references to other services (`ref.db.host`); numbers and booleans become strings.",
    }),
    secrets: mkOption({
      type: types.attrsOf(
        coercedTo(
          types.str,
          (fromEnv: string) => ({ fromEnv }),
          types.submodule(secretModule),
          "secret ({ fromEnv, fromFile, required }) or a variable name",
        ),
      ),
      default: EMPTY,
      example: { DATABASE_PASSWORD: { fromFile: "/run/secrets/db" }, API_KEY: "SHOP_API_KEY" },
      description:
        "Environment variables whose values are read at run time from the environment or a file, never written into a rendered file. A string is shorthand for `{ fromEnv: <string> }`; with neither `fromEnv` nor `fromFile` the variable of the same name is read.",
      apply: (v: Record<string, SecretSource>) =>
        mapValues(
          v,
          (s, key): SecretSource => ({
            fromEnv: s.fromEnv === null && s.fromFile === null ? key : s.fromEnv,
            fromFile: s.fromFile,
            required: s.required,
          }),
        ),
    }),
    files: mkOption({
      type: types.attrsOf(
        coercedTo(
          types.str,
          (text: string) => ({ text }),
          types.submodule(fileModule),
          "file ({ text | source, mode }) or its text",
        ),
      ),
      default: EMPTY,
      example: { "/etc/app/config.json": { text: '{"port": 8080}', mode: "0600" } },
      description:
        "Config files, by target path. A string is shorthand for `{ text: <string> }`. Text may contain references.",
      apply: (v: Record<string, ServiceFile>) =>
        mapValues(v, (f): ServiceFile => ({ text: f.text, source: f.source, mode: f.mode })),
    }),
    ports: mkOption({
      type: types.attrsOf(
        coercedTo(
          types.port,
          (port: number) => ({ port }),
          types.submodule(portModule),
          "port ({ port, protocol, expose, hostPort }) or a port number",
        ),
      ),
      default: EMPTY,
      example: { http: { port: 8080, expose: true } },
      description:
        "Ports the service listens on, by name. A number is shorthand for `{ port: <number> }`.",
      apply: (v: Record<string, ServicePort>) =>
        mapValues(
          v,
          (p): ServicePort => ({
            port: p.port,
            protocol: p.protocol,
            expose: p.expose,
            hostPort: p.hostPort,
          }),
        ),
    }),
    dependsOn: mkOption({
      type: coercedTo(
        types.listOf(types.str),
        (names: string[]) =>
          Object.fromEntries(names.map((n): [string, DependencyCondition] => [n, "started"])),
        types.attrsOf(types.enum(["started", "healthy", "completed"])),
        'attribute set of "started", "healthy" or "completed", or a list of service names',
      ),
      default: EMPTY,
      example: { db: "healthy", migrate: "completed" },
      description:
        "Services to wait for before starting, with the condition: `started`, `healthy` (its healthcheck passes) or `completed` (exited with 0). A list of names means `started`.",
    }),
    restart: mkOption({
      type: coercedTo(
        types.enum(["no", "on-failure", "always"]),
        (policy: string) => ({ policy }),
        types.submodule(restartModule),
        'restart settings ({ policy, maxRetries, backoff }) or a policy ("no", "on-failure", "always")',
      ),
      default: EMPTY,
      example: { policy: "always", maxRetries: 10 },
      description:
        "Restart policy (`no`, `on-failure`, `always`), max retries and exponential backoff. A string is shorthand for `{ policy: <string> }`.",
    }),
    stop: mkOption({
      type: types.submodule(stopModule),
      default: EMPTY,
      description: "How the service is stopped: the signal, then SIGKILL after the grace period.",
    }),
    watch: mkOption({
      type: types.submodule(watchModule),
      default: EMPTY,
      description:
        "Files whose change restarts the service during `nix2dream up --watch` (the built-in supervisor), like Compose's `develop.watch` and nodemon.",
    }),
    resources: mkOption({
      type: types.submodule(resourcesModule),
      default: EMPTY,
      description: "Resource limits, where the target supports them.",
    }),
    healthcheck: healthcheckOption(),
    replicas: mkOption({
      type: types.ints.unsigned,
      default: 1,
      description: "Number of instances to run.",
    }),
    labels: mkOption({
      type: types.attrsOf(types.str),
      default: EMPTY,
      example: { tier: "backend" },
      description: "Key/value metadata attached to the service where the target has labels.",
    }),
  };
}

/** The options of every service but `name`, in declaration order (the docs order). */
function serviceOptions(volumes: ReturnType<typeof buildVolumesOption>) {
  if (!staticOptions) staticOptions = buildStaticOptions();
  const o = staticOptions;
  return {
    enable: o.enable,
    description: o.description,
    package: o.package,
    command: o.command,
    args: o.args,
    preStart: o.preStart,
    workingDir: o.workingDir,
    user: o.user,
    group: o.group,
    env: o.env,
    secrets: o.secrets,
    files: o.files,
    volumes,
    ports: o.ports,
    healthcheck: o.healthcheck,
    dependsOn: o.dependsOn,
    restart: o.restart,
    stop: o.stop,
    watch: o.watch,
    resources: o.resources,
    replicas: o.replicas,
    labels: o.labels,
  };
}

/** {@link serviceOptions}, made once for each file messages name (see `thisFileShown`). */
let shared: { volumes: unknown; options: ReturnType<typeof serviceOptions> } | undefined;

function sharedServiceOptions(): ReturnType<typeof serviceOptions> {
  const volumes = sharedVolumesOption();
  if (shared?.volumes !== volumes) shared = { volumes, options: serviceOptions(volumes) };
  return shared.options;
}

/** The file `defineModule` gives the service modules (see `serviceModule`). */
const serviceFile = (): string => (serviceModule as unknown as { file: string }).file;

/** The `name` option of the service `service` ("<name>" in the docs). */
function nameOption(service: string) {
  if (!staticOptions) staticOptions = buildStaticOptions();
  return mkOption({
    type: staticOptions.nameType,
    default: service,
    defaultText: "the attribute name under `services`",
    readOnly: true,
    description: "Name of the service.",
  });
}

function buildServiceModule(service: string) {
  return {
    // The file `defineModule` gives it (see `serviceModule`): set here, the result is not
    // copied to add it.
    file: serviceFile(),
    // Declaration order is the docs order: keep it.
    options: { name: nameOption(service), ...sharedServiceOptions() },
  };
}

/** The core service module, declared here so option docs point at this file. */
// Name-only: its options depend on the service's name alone, so services share the rest.
export const serviceModule: Module = nameOnlyModule(
  defineModule(import.meta.url, serviceOptionsModule as (args: { name?: string }) => ModuleObject),
);

/**
 * @internal {@link serviceModule} as the modules of the deployment's service type: a name-only
 * module declaring `name` (its default is the service's name), and the other options as a plain
 * module, shared by every service, so that no service builds them again.
 */
export function serviceModules(): Module[] {
  const name = nameOnlyModule(
    defineModule(import.meta.url, ({ name }: { name?: string }) => ({
      file: serviceFile(),
      options: { name: nameOption(name ?? "<name>") },
    })) as (args: { name?: string }) => ModuleObject,
  );
  // Listed after the plain module: the options tree has a type's modules the last first, so
  // `name` comes first, as `serviceModule` declares it.
  return [{ file: serviceFile(), options: sharedServiceOptions() }, name];
}
