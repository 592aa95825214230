# Sourced by scripts/setup.d/*.sh (not run on its own): `apt_install WHO PACKAGE...` installs
# the Debian packages that are not installed yet, as root or through sudo, waiting for a dpkg
# lock another setup script (or a person) holds; it tries the install first and updates the
# package lists only when that fails (quick on a machine whose lists are fresh). Without
# apt-get, or neither root nor sudo, it says which packages to install by hand and returns 1:
# the caller decides whether that is fatal (the tests needing them skip locally, fail in CI).
apt_install() {
  local who="$1" missing=() pkg
  shift
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local root=()
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$who: apt-get is not available; install ${missing[*]} by hand" >&2
    return 1
  fi
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "$who: not root and no sudo; install ${missing[*]} by hand (apt-get install ${missing[*]})" >&2
      return 1
    fi
    root=(sudo)
  fi
  local apt=("${root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o DPkg::Lock::Timeout=600)
  "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    "${apt[@]}" update >/dev/null
    "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null
  }
}
