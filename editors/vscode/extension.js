// refit for VS Code: starts `refit server` (LSP over stdio) for the files
// refit reads. Diagnostics, quick fixes and hovers come from the server;
// this client only starts and stops it.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

// The files refit reads (src/kind.rs): Dockerfiles and Containerfiles,
// YAML (Compose, Helm values, Kubernetes, CI, kustomize), daemon.json and
// the mirror settings files.
const documentSelector = [
  { scheme: "file", language: "dockerfile" },
  { scheme: "file", language: "yaml" },
  { scheme: "file", pattern: "**/{Dockerfile,Containerfile}{,.*}" },
  { scheme: "file", pattern: "**/*.{dockerfile,Dockerfile}" },
  { scheme: "file", pattern: "**/daemon.json" },
  { scheme: "file", pattern: "**/{buildkitd,*.buildkitd}{,.default}.toml" },
  { scheme: "file", pattern: "**/certs.d/*/hosts.toml" },
  { scheme: "file", pattern: "**/registries.conf" },
  { scheme: "file", pattern: "**/registries.conf.d/*.conf" },
  { scheme: "untitled", language: "dockerfile" },
];

function serverOptions(config) {
  const command = config.get("path", "refit");
  const args = ["server", ...config.get("args", [])];
  return { command, args, transport: TransportKind.stdio };
}

async function activate(context) {
  const config = vscode.workspace.getConfiguration("refit");
  client = new LanguageClient("refit", "refit", serverOptions(config), {
    documentSelector,
    synchronize: {
      // The server re-reads its workspace facts when these change.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{refit.toml,.refit.toml,kustomization.{yaml,yml},Chart.yaml,docker-bake.hcl,Makefile,*.sh}"),
    },
  });
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("refit.path") || event.affectsConfiguration("refit.args")) {
        await client.stop();
        client = new LanguageClient("refit", "refit", serverOptions(vscode.workspace.getConfiguration("refit")), {
          documentSelector,
        });
        await client.start();
      }
    }),
  );
  try {
    await client.start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `refit: could not start \`${config.get("path", "refit")} server\` (${error.message}). Install refit (pipx install refit-images) or set refit.path.`,
    );
  }
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate, documentSelector };
