import {
  type Artifact,
  type Diagnostic,
  diagnostic,
  type EvaluatedDeployment,
  type EvaluatedService,
  environmentLine,
  isOneshotService,
  type Ref,
  type RenderResult,
  type SystemdRefResolver,
  systemdServiceOf,
  unitEscape,
} from "@nix2dream/core";
import type {
  SystemdRendererDeploymentOptions,
  SystemdRendererServiceOptions,
  UnitOverride,
} from "./options.js";

/** Options of the {@link systemd} renderer function. */
export interface SystemdRenderOptions {
  /** Shell for generated ExecStartPre/ExecStartPost scripts and the secrets wrapper. Default `/bin/sh`. */
  shell?: string;
  /** Write `RestartSteps=`/`RestartMaxDelaySec=` for exponential backoff (needs systemd ≥ 254). Default false. */
  restartSteps?: boolean;
}

/** Name of the unit file of service `svc` in deployment `deployment`. */
export function serviceUnitName(deployment: string, svc: string): string {
  return `${deployment}-${svc}.service`;
}

/** Name of the target grouping the deployment's services. */
export function targetUnitName(deployment: string): string {
  return `${deployment}.target`;
}

/** Valid unit name characters (systemd.unit(5)): ASCII letters, digits, `:`, `-`, `_`, `.`, `\`. */
const UNIT_NAME_PART = /^[A-Za-z0-9:_.-]+$/;

type Sections = Array<[string, Record<string, string[]>]>;

const DEFAULT_SERVICE_OPTIONS: SystemdRendererServiceOptions = {
  override: {},
  dynamicUser: false,
  environmentFiles: [],
};
const DEFAULT_DEPLOYMENT_OPTIONS: SystemdRendererDeploymentOptions = {
  override: {},
  targetOverride: {},
  wantedBy: ["default.target"],
};

function joinPath(base: string, rel: string): string {
  const parts = `${base}/${rel}`.split("/");
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  return `/${out.join("/")}`;
}

/** Applies an override: each key replaces the generated values; null removes the key. */
function applyOverride(
  sections: Sections,
  override: UnitOverride,
  problem: (message: string) => void,
): void {
  for (const name of Object.keys(override).sort()) {
    const keys = override[name] ?? {};
    let section = sections.find(([n]) => n === name)?.[1];
    if (!section) {
      section = {};
      sections.push([name, section]);
    }
    for (const key of Object.keys(keys).sort()) {
      const v = keys[key];
      if (v === null || v === undefined) {
        delete section[key];
        continue;
      }
      const values = typeof v === "string" ? [v] : v;
      if (!/^[A-Za-z0-9-]+$/.test(key) || values.some((x) => /[\r\n]/.test(x))) {
        problem(
          `[${name}] ${key}: a key must be letters, digits and -, and a value cannot hold a newline; it is left out.`,
        );
        continue;
      }
      section[key] = [...values];
    }
  }
}

function printUnit(header: string[], sections: Sections): string {
  const out = header.map((l) => `# ${l}`);
  for (const [name, keys] of sections) {
    const entries = Object.entries(keys).filter(([, v]) => v.length > 0);
    if (entries.length === 0) continue;
    out.push("", `[${name}]`);
    for (const [key, values] of entries) for (const v of values) out.push(`${key}=${v}`);
  }
  return `${out.join("\n")}\n`;
}

/** Renders the deployment to unit files. Pure. */
export function renderSystemd(
  d: EvaluatedDeployment,
  opts: SystemdRenderOptions = {},
): RenderResult {
  const diagnostics: Diagnostic[] = [];
  const artifacts: Artifact[] = [];
  const deploymentOptions: SystemdRendererDeploymentOptions = {
    ...DEFAULT_DEPLOYMENT_OPTIONS,
    ...(d.renderers as { systemd?: SystemdRendererDeploymentOptions }).systemd,
  };
  const warn = (option: string, message: string, severity: Diagnostic["severity"] = "warning") =>
    diagnostics.push(diagnostic(d, { option, message, severity }));
  if (!UNIT_NAME_PART.test(d.name)) {
    warn(
      "name",
      `The deployment name ${JSON.stringify(d.name)} cannot be part of a unit name (letters, digits, :, _, . and - only); nothing is rendered.`,
      "error",
    );
    return { artifacts, diagnostics };
  }
  const target = targetUnitName(d.name);
  const names = Object.keys(d.services)
    .filter((n) => d.services[n]?.enable !== false)
    .sort();

  /** `%S/<dep>/<svc>/<vol>` for persistent volumes, `%t/…` (runtime) otherwise. */
  const volumeDir = (svc: string, vol: string): string => {
    const v = d.services[svc]?.volumes[vol];
    return `${v?.persistent === false ? "%t" : "%S"}/${d.name}/${svc}/${vol}`;
  };
  const fileDir = (svc: string) => `%t/${d.name}/${svc}/files`;
  const resolve: SystemdRefResolver = (r: Ref) => {
    const s = d.services[r.service];
    switch (r.kind) {
      case "host":
        return "127.0.0.1";
      case "port":
        return String(s?.ports[r.port]?.port ?? "");
      case "address":
        return `127.0.0.1:${s?.ports[r.port]?.port ?? ""}`;
      case "volume":
        return { unit: volumeDir(r.service, r.volume) };
      case "file":
        return { unit: `${fileDir(r.service)}${r.path.startsWith("/") ? "" : "/"}${r.path}` };
    }
  };

  const wanted: string[] = [];
  for (const svc of names) {
    const s = d.services[svc] as EvaluatedService;
    const at = `services.${svc}`;
    const own: SystemdRendererServiceOptions = {
      ...DEFAULT_SERVICE_OPTIONS,
      ...(s.renderers as { systemd?: SystemdRendererServiceOptions }).systemd,
    };
    if (!UNIT_NAME_PART.test(svc)) {
      warn(
        at,
        `The service name ${JSON.stringify(svc)} cannot be part of a unit name; it is not rendered.`,
        "error",
      );
      continue;
    }
    if (s.package.image !== null) {
      warn(
        `${at}.package.image`,
        "Plain systemd runs programs on the host, not OCI images: `package.image` is ignored and `command` runs from the host's PATH.",
      );
    }
    if (s.package.nix !== null) {
      warn(
        `${at}.package.nix`,
        "render-systemd does not build Nix packages: `command` is looked up in systemd's search path (use render-nixos for Nix packages).",
      );
    }
    for (const [name, p] of Object.entries(s.ports)) {
      if (p.hostPort !== null && p.hostPort !== p.port) {
        warn(
          `${at}.ports.${name}.hostPort`,
          `A program under systemd listens on the host directly: port ${p.port} cannot be published as ${p.hostPort}.`,
        );
      }
    }
    for (const [name, v] of Object.entries(s.volumes)) {
      if (v.clear) {
        warn(
          `${at}.volumes.${name}.clear`,
          "systemd has no hook for clearing a volume: the clear script is not run (`down --volumes` with manage-systemd removes the directory with `systemctl clean`).",
        );
      }
    }
    if (d.root === null && s.workingDir !== null && !s.workingDir.startsWith("/")) {
      warn(
        `${at}.workingDir`,
        "A relative `workingDir` needs the config file's directory, which is unknown here.",
        "error",
      );
    }
    const workDir =
      s.workingDir === null
        ? d.root
        : s.workingDir.startsWith("/")
          ? s.workingDir
          : d.root === null
            ? null
            : joinPath(d.root, s.workingDir);
    const argv = [...s.command, ...s.args];
    const program = argv[0];
    if (program !== undefined && !program.startsWith("/") && program.includes("/")) {
      if (workDir === null) {
        warn(
          `${at}.command.0`,
          `The relative program path ${JSON.stringify(program)} needs a working directory.`,
          "error",
        );
      } else {
        argv[0] = joinPath(workDir, program);
      }
    }
    const mapped = systemdServiceOf(s, d, {
      resolve,
      execStart: argv,
      unitName: (n) => serviceUnitName(d.name, n),
      ...(opts.shell !== undefined ? { shell: opts.shell } : {}),
      dynamicUser: own.dynamicUser,
      workingDirectory: workDir,
      sourcePath: (source) =>
        source.startsWith("/") || d.root === null ? source : joinPath(d.root, source),
      partOf: [target],
      wantedBy: [target],
      environmentFiles: own.environmentFiles.map((f) => unitEscape(f)),
      restartSteps: opts.restartSteps ?? false,
      oneshot: isOneshotService(d, svc),
    });
    diagnostics.push(...mapped.diagnostics);
    const serviceSection: Record<string, string[]> = {};
    const envKeys = Object.keys(mapped.environment).sort();
    for (const [key, values] of Object.entries(mapped.service)) {
      serviceSection[key] = values;
      if (key === "Type" && envKeys.length) {
        serviceSection.Environment = envKeys.map((k) =>
          environmentLine(k, mapped.environment[k] ?? ""),
        );
      }
    }
    const sections: Sections = [
      ["Unit", mapped.unit],
      ["Service", serviceSection],
      ["Install", mapped.install],
    ];
    const problem = (message: string) => warn(`${at}.renderers.systemd.override`, message, "error");
    applyOverride(sections, deploymentOptions.override, (m) =>
      warn("renderers.systemd.override", m, "error"),
    );
    applyOverride(sections, own.override, problem);
    const unit = serviceUnitName(d.name, svc);
    wanted.push(unit);
    artifacts.push({
      path: unit,
      content: printUnit(
        [`Service ${svc} of deployment ${d.name}, generated by nix2dream; do not edit.`],
        sections,
      ),
    });
  }

  const targetSections: Sections = [
    ["Unit", { Description: [unitEscape(`nix2dream deployment ${d.name}`)], Wants: wanted }],
    ["Install", { WantedBy: [...deploymentOptions.wantedBy] }],
  ];
  applyOverride(targetSections, deploymentOptions.targetOverride, (m) =>
    warn("renderers.systemd.targetOverride", m, "error"),
  );
  artifacts.push({
    path: target,
    content: printUnit(
      [`Deployment ${d.name}, generated by nix2dream; do not edit.`],
      targetSections,
    ),
  });
  artifacts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { artifacts, diagnostics };
}
