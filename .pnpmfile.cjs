// The published package.json of every package: what a consumer installs and runs, nothing of
// the workspace. devDependencies name the private testkit and build tools, and the scripts only
// work inside this repository (`vitest run --root ../..`).
module.exports = {
  hooks: {
    beforePacking(pkg) {
      delete pkg.devDependencies;
      delete pkg.scripts;
      return pkg;
    },
  },
};
