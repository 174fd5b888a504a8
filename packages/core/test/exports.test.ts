/**
 * core's root export is the contract (issue 14, item 7): plugin contracts, the evaluated
 * deployment, evaluation, references and their resolvers, diagnostics helpers, `textTable`,
 * `sha256Hex` and `runCommand`. Our own target code (systemd, OCI, Nix, shell, entrypoint, record,
 * JSON) is behind
 * subpaths.
 * The list below is deliberate: a name added to or removed from the root is a change of core's
 * public face, reviewed here (with a changeset).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT_EXPORTS = [
  "ActionResult",
  "Artifact",
  "CommandResult",
  "ContentArtifact",
  "DEFAULT_BASE_IMAGE",
  "DeclaredNames",
  "DeclaredOptions",
  "DeepDefinition",
  "Def",
  "DependencyCondition",
  "DeploymentDefinition",
  "DeploymentExtensions",
  "DeploymentExtensionsDefinition",
  "DeploymentManagers",
  "DeploymentRenderers",
  "Diagnostic",
  "Duration",
  "EvaluateOptions",
  "EvaluatedDeployment",
  "EvaluatedService",
  "Evaluation",
  "FileDefinition",
  "Healthcheck",
  "HealthcheckDefinition",
  "HealthcheckKind",
  "HostFileArtifact",
  "LOCAL_HOST",
  "LOCAL_STATE_DIR",
  "LocalRefResolverOptions",
  "Manager",
  "ManagerAction",
  "ManagerContext",
  "ManagerFlag",
  "Module",
  "ModuleError",
  "ModuleErrorCode",
  "OptionTypesAgree",
  "PackageDefinition",
  "Plugin",
  "PortDefinition",
  "Ref",
  "RefResolver",
  "RenderResult",
  "Renderer",
  "ResolvedRef",
  "Resources",
  "ResourcesDefinition",
  "RestartDefinition",
  "RestartPolicy",
  "RestartSettings",
  "RunOptions",
  "SERVICE_DEFAULTS",
  "SecretDefinition",
  "SecretSource",
  "ServiceDefinition",
  "ServiceExtensions",
  "ServiceExtensionsDefinition",
  "ServiceFile",
  "ServiceModule",
  "ServicePackage",
  "ServicePort",
  "ServiceRef",
  "ServiceRefs",
  "ServiceRenderers",
  "ServiceRenderersDefinition",
  "ServiceVolume",
  "ShellExpansion",
  "StopDefinition",
  "StopSettings",
  "UserError",
  "UserErrorOptions",
  "VolumeDefinition",
  "WatchSettings",
  "checkedRenderResult",
  "coercedTo",
  "containerRefResolver",
  "deepMerge",
  "defineManager",
  "defineRenderer",
  "definitionFilesAt",
  "definitionFilesOf",
  "definitionFilesView",
  "dependencyOrder",
  "deploymentModule",
  "deploymentOptionsModule",
  "describeRef",
  "diagnostic",
  "evaluateDeployment",
  "findDependencyCycle",
  "hasRefs",
  "hostFileArtifact",
  "isHostFileArtifact",
  "isManager",
  "isRenderer",
  "localRefResolver",
  "localStatePath",
  "parseDuration",
  "parseRefs",
  "publishedHostPort",
  "ref",
  "refReporter",
  "refToken",
  "refsIn",
  "resolvePort",
  "resolveRefs",
  "runCommand",
  "serviceModule",
  "serviceOptionsModule",
  "serviceRef",
  "sha256Hex",
  "textTable",
  "unresolvedRefDiagnostics",
  "unresolvedRefsIn",
];

const SUBPATHS = ["systemd", "oci", "nix", "shell", "entrypoint", "record", "json"] as const;

/** Every name a module's declaration file exports, types included, read by the TypeScript checker. */
function declaredExports(dts: string): string[] {
  const program = ts.createProgram([dts], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(dts);
  const symbol = source && checker.getSymbolAtLocation(source);
  if (!symbol) throw new Error(`${dts} has no module symbol`);
  return checker
    .getExportsOfModule(symbol)
    .map((s) => s.name)
    .sort();
}

const dist = (name: string) => fileURLToPath(new URL(`../dist/${name}.d.ts`, import.meta.url));
const built = (name: string) => new URL(`../dist/${name}.js`, import.meta.url).href;

describe("core's root export", () => {
  it("is exactly the reviewed list of names (types included)", () => {
    expect(declaredExports(dist("index"))).toEqual([...ROOT_EXPORTS].sort());
  });

  it.each(SUBPATHS)("exposes none of the values of @nix2dream/core/%s", async (subpath) => {
    const root = (await import(built("index"))) as Record<string, unknown>;
    const sub = (await import(built(subpath))) as Record<string, unknown>;
    expect(Object.keys(sub).length).toBeGreaterThan(0);
    expect(Object.keys(sub).filter((name) => name in root)).toEqual([]);
  });

  it.each(SUBPATHS)(
    "has the subpath @nix2dream/core/%s in package.json, with its types",
    (subpath) => {
      const manifest = JSON.parse(
        readFileSync(new URL("../package.json", import.meta.url), "utf8"),
      );
      expect(manifest.exports[`./${subpath}`]).toEqual({
        types: `./dist/${subpath}.d.ts`,
        import: `./dist/${subpath}.js`,
      });
    },
  );
});
