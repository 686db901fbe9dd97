# Shared by the bench/*.sh scripts (sourced, not run).
# Expects: SCRIPT (name for messages), die(), ELBO_BIN, ELBO_BUILD, REPO_ROOT.

# GNU time measures peak RSS the same way for both sides; install it if missing.
ensure_gnu_time() {
  if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "$SCRIPT: installing GNU time (apt-get install -y time)" >&2
      apt-get install -y time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y time >/dev/null; }
    fi
    [ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is missing: apt-get install -y time"
  fi
}

# Builds the release elbo binary as ELBO_BUILD (auto, always, never) says.
ensure_elbo() {
  local build
  case "$ELBO_BUILD" in
    always) build=1 ;;
    auto) if [ -x "$ELBO_BIN" ]; then build=0; else build=1; fi ;;
    never) build=0 ;;
    *) die "ELBO_BUILD must be auto, always or never (got '$ELBO_BUILD')" ;;
  esac
  if [ "$build" = 1 ]; then
    command -v cargo >/dev/null || die "cargo not found and $ELBO_BIN is missing"
    echo "$SCRIPT: building elbo: cargo build --release -p elbo-cli" >&2
    (cd "$REPO_ROOT" && cargo build --release -p elbo-cli) || die "cargo build failed"
  fi
  [ -x "$ELBO_BIN" ] || die "elbo binary not found at $ELBO_BIN"
}
