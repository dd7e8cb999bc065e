#!/usr/bin/env bash
# Compiles release packages the way a BOSH agent does on a compilation VM, inside the
# stemcell-like chroot (tests/packaging/chroot.sh), so that a dependency the stemcell lacks
# fails here instead of being found on this machine:
#   - the named packages and their dependencies, in dependency order (packages/*/spec);
#   - each package's files (spec `files`: from src/, or blobs from tests/packaging/sources.sh)
#     and its packaging script copied to /var/vcap/data/compile/<name>;
#   - /var/vcap/packages holding only the package's own dependencies, compiled before;
#   - `bash -x packaging` run there with exactly BOSH_COMPILE_TARGET, BOSH_INSTALL_TARGET,
#     BOSH_PACKAGE_NAME, BOSH_PACKAGE_VERSION, BOSH_PACKAGES_DIR and
#     PATH=/usr/local/bin:/usr/bin:/bin, without network;
#   - then checks of what it installed (post_check_<name> below), run in the chroot too.
# The cached chroot is never written: each run writes to an overlay in a per-run directory,
# removed at exit (unless --keep).
#
# Usage: tests/packaging/compile.sh [--keep DIR] PACKAGE...
#   --keep DIR   copy the compiled packages to DIR/<name> before cleaning up
# A source tarball that cannot be obtained here is named; the test then skips (exit 77), or
# fails under CI=true, before compiling anything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

keep=""
if [ "${1:-}" = "--keep" ]; then
  keep="$2"
  shift 2
fi
[ $# -gt 0 ] || die "usage: tests/packaging/compile.sh [--keep DIR] PACKAGE..."

require_root
require_command unshare chroot ruby sha256sum tar
source "${packaging_here}/sources.sh"

# The packages to compile, dependencies first, and each one's files, from the specs:
#   P <name> <dependencies, comma-separated>   then   S <file under src/>   or   B <blob path>
plan="$(ruby -ryaml - "$release_dir" "$@" <<'RUBY'
release, *wanted = ARGV
blobs = YAML.load_file(File.join(release, 'config/blobs.yml')) || {}
specs = {}
load = lambda do |name|
  next specs[name] if specs[name]
  file = File.join(release, 'packages', name, 'spec')
  abort "packaging: FAIL: no package '#{name}' (#{file} missing)" unless File.file?(file)
  specs[name] = YAML.load_file(file)
end
order = []
visit = lambda do |name, path|
  abort "packaging: FAIL: dependency cycle #{(path + [name]).join(' -> ')}" if path.include?(name)
  next if order.include?(name)
  (load.call(name)['dependencies'] || []).each { |dep| visit.call(dep, path + [name]) }
  order << name
end
wanted.each { |name| visit.call(name, []) }
order.each do |name|
  spec = specs[name]
  puts "P #{name} #{(spec['dependencies'] || []).join(',')}"
  (spec['files'] || []).each do |glob|
    sources = Dir.glob(glob, base: File.join(release, 'src')).reject { |f| File.directory?(File.join(release, 'src', f)) }
    matched = blobs.keys.select { |key| File.fnmatch?(glob, key, File::FNM_PATHNAME) }
    abort "packaging: FAIL: package #{name}: files glob '#{glob}' matches nothing under src/ and no blob in config/blobs.yml" if sources.empty? && matched.empty?
    # bosh create-release takes a glob's matches in src/ and in blobs/ alike: a glob meant for
    # src/ that also matches a blob would put that tarball into this package.
    abort "packaging: FAIL: package #{name}: files glob '#{glob}' matches under src/ and blob #{matched.join(', ')} too" unless sources.empty? || matched.empty?
    sources.sort.each { |f| puts "S #{f}" }
    matched.sort.each { |b| puts "B #{b}" }
  end
end
RUBY
)"

declare -a order=()
declare -A deps=() files=() blobs_of=()
while read -r kind value rest; do
  case "$kind" in
    P) current="$value"; order+=("$current"); deps["$current"]="${rest//,/ }"; files["$current"]=""; blobs_of["$current"]="" ;;
    S) files["$current"]+="${value}"$'\n' ;;
    B) blobs_of["$current"]+="${value}"$'\n' ;;
  esac
done <<<"$plan"
log "packages, in dependency order: ${order[*]}"

# Every source first: a missing one is reported by name before anything compiles.
declare -A blob_path=() origin_of=() versions=()
missing=()
sources_started=$SECONDS
for name in "${order[@]}"; do
  while read -r blob; do
    [ -n "$blob" ] || continue
    [ -n "${blob_path[$blob]:-}" ] && continue
    if obtain_blob "$blob"; then
      blob_path["$blob"]="$blob_file"
      origin_of["$blob"]="$blob_origin"
      log "source ${blob}: ${blob_origin}"
    else
      missing+=("${blob} (package ${name}):${blob_problem}")
    fi
  done <<<"${blobs_of[$name]}"
done
if [ "${#missing[@]}" -gt 0 ]; then
  for entry in "${missing[@]}"; do
    echo "packaging: source not obtainable here: ${entry}" >&2
  done
  missing_prerequisite "the source tarballs above (packages: ${order[*]}); see docs/packaging.md"
fi
log "sources ready in $((SECONDS - sources_started)) s"

chroot_dir="$("${packaging_here}/chroot.sh")"
run="$(mktemp -d /var/tmp/secure-postgres-packaging-run.XXXXXX)"
cleanup() {
  local status=$?
  if [ -n "$keep" ] && [ -d "${run}/upper/var/vcap/data/packages" ]; then
    mkdir -p "$keep"
    for name in "${order[@]}"; do
      [ -d "${run}/upper/var/vcap/data/packages/${name}" ] || continue
      rm -rf "${keep:?}/${name}"
      cp -a "${run}/upper/var/vcap/data/packages/${name}/"* "${keep}/${name}" 2>/dev/null || true
    done
    log "compiled packages kept in ${keep}"
  fi
  rm -rf "$run"
  exit "$status"
}
trap cleanup EXIT
upper="${run}/upper"
mkdir -p "${upper}/var/vcap/data/compile" "${upper}/var/vcap/data/packages" "${run}/logs"

# in_chroot <command...>: run in the stemcell-like chroot, seeing this run's overlay.
in_chroot() {
  chroot_run --overlay "$run" "$chroot_dir" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root "$@"
}

# What each package must have installed, checked in the chroot. $1 is the install directory.
post_check_pgguard() {
  local bin="$1/bin" program needed extra allowed status
  local glibc='libc\.so\.6|libm\.so\.6|ld-linux-x86-64\.so\.2'
  for program in pgguard-isolate pgguard-launch pgguard-selinux pgguard-garp pgguard-ping pgguard-vip; do
    in_chroot test -x "${bin}/${program}" || { echo "${program} not installed"; return 1; }
  done
  for program in $(in_chroot ls "$bin"); do
    # The four helpers the spec test checks answer --help with 0. Every program must at least
    # load and run in the chroot (exit 126, 127 or a signal means it did not).
    status=0
    in_chroot "${bin}/${program}" --help >/dev/null 2>&1 || status=$?
    case "$program:$status" in
      pgguard-isolate:0 | pgguard-launch:0 | pgguard-selinux:0 | pgguard-garp:0 | pgguard-vip:0) ;;
      pgguard-isolate:* | pgguard-launch:* | pgguard-selinux:* | pgguard-garp:* | pgguard-vip:*) echo "${program} --help exited ${status} in the chroot"; return 1 ;;
      *:126 | *:127 | *:1[3-9][0-9] | *:2[0-9][0-9]) echo "${program} does not run in the chroot (exit ${status})"; return 1 ;;
    esac
    needed="$(in_chroot readelf -d "${bin}/${program}" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p' | tr '\n' ' ')"
    case "$program" in
      # Static PIEs: no shared library at all, not even glibc (the VIP broker's profile lets it
      # read no library directory).
      pgguard-launch | pgguard-vip) allowed='^$' ;;
      # The host's SELinux libraries (docs/packaging.md); src/ links this one program's C++
      # runtime dynamically (no pgguard_link_static in src/programs/selinux/CMakeLists.txt).
      pgguard-selinux) allowed="^(${glibc}|libselinux\.so\.1|libsemanage\.so\.2|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$" ;;
      # The stemcell's libcrypto, as postgres and pgpool themselves use it (docs/packaging.md).
      pgguard-pgpool) allowed="^(${glibc}|libcrypto\.so\.3)$" ;;
      *) allowed="^(${glibc})$" ;;
    esac
    extra="$(tr ' ' '\n' <<<"$needed" | sed '/^$/d' | grep -vE "$allowed" || true)"
    if [ -n "$extra" ]; then
      echo "${program} needs shared libraries it must not: ${extra//$'\n'/ }"
      return 1
    fi
    echo "${program}: needs ${needed:-no shared library}"
  done
}
# The library packages hold static archives only: whatever links them needs nothing of them at
# run time.
static_only() {
  local shared
  shared="$(in_chroot find "$1/" -name '*.so' -o -name '*.so.*')"
  [ -z "$shared" ] || { echo "shared objects installed: ${shared}"; return 1; }
  echo "archives: $(in_chroot find "$1/lib" -maxdepth 1 -name '*.a' -printf '%f ')"
}
post_check_libseccomp() { static_only "$1"; }
post_check_libcap() { static_only "$1"; }
post_check_libmnl() { static_only "$1"; }
post_check_libnftnl() { static_only "$1"; }
post_check_boost() { static_only "$1"; }
post_check_postgres-15() {
  # initdb, start, one query and stop, as nobody, on a Unix socket (no network here).
  in_chroot /bin/bash -euc '
    pg="$1"; data=/tmp/pgdata
    rm -rf "$data"; mkdir -p "$data"; chown nobody "$data"
    as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
    as_nobody "$pg/bin/initdb" -D "$data" -A trust -U postgres >/dev/null
    as_nobody "$pg/bin/pg_ctl" -D "$data" -w -l "$data/log" -o "-k /tmp -c listen_addresses=" start >/dev/null
    as_nobody "$pg/bin/psql" -h /tmp -U postgres -Atc "select version()"
    as_nobody "$pg/bin/psql" -h /tmp -U postgres -Atc "create extension pgcrypto; select count(*) from pg_extension"
    as_nobody "$pg/bin/pg_ctl" -D "$data" -w stop >/dev/null
    # ICU where the stemcell has its development files (it does: libxml2-dev brings libicu-dev).
    if [ -f /usr/include/unicode/ucol.h ]; then
      "$pg/bin/pg_config" --configure | grep -q -- "--with-icu" || { echo "built without ICU"; exit 1; }
      echo "with ICU"
    fi
  ' check "$1"
}
post_check_pgpool2() {
  in_chroot "$1/bin/pgpool" --version && in_chroot "$1/bin/pg_md5" secret
}

summary=()
for name in "${order[@]}"; do
  compile_dir="/var/vcap/data/compile/${name}"
  mkdir -p "${upper}${compile_dir}"
  # The package's files, as the director puts them in the source package.
  while read -r file; do
    [ -n "$file" ] || continue
    install -D -m 0644 "${release_dir}/src/${file}" "${upper}${compile_dir}/${file}"
    [ -x "${release_dir}/src/${file}" ] && chmod 0755 "${upper}${compile_dir}/${file}"
  done <<<"${files[$name]}"
  while read -r blob; do
    [ -n "$blob" ] || continue
    install -D -m 0644 "${blob_path[$blob]}" "${upper}${compile_dir}/${blob}"
  done <<<"${blobs_of[$name]}"
  cp "${release_dir}/packages/${name}/packaging" "${upper}${compile_dir}/packaging"
  version="$( (cat "${release_dir}/packages/${name}/spec" "${release_dir}/packages/${name}/packaging"
    cd "${upper}${compile_dir}" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha1sum | cut -c1-40)"
  versions["$name"]="$version"

  # /var/vcap/packages: this package's dependencies only, as BOSH installs them.
  rm -rf "${upper}/var/vcap/packages"
  mkdir -p "${upper}/var/vcap/packages" "${upper}/var/vcap/data/packages/${name}/${version}"
  for dependency in ${deps[$name]}; do
    ln -s "/var/vcap/data/packages/${dependency}/${versions[$dependency]}" "${upper}/var/vcap/packages/${dependency}"
  done
  ln -s "/var/vcap/data/packages/${name}/${version}" "${upper}/var/vcap/packages/${name}"

  log "compiling ${name} (dependencies: ${deps[$name]:-none})"
  started=$SECONDS
  status=0
  chroot_run --overlay "$run" "$chroot_dir" /usr/bin/env -i -C "$compile_dir" \
    BOSH_COMPILE_TARGET="$compile_dir" \
    BOSH_INSTALL_TARGET="/var/vcap/packages/${name}" \
    BOSH_PACKAGE_NAME="$name" \
    BOSH_PACKAGE_VERSION="$version" \
    BOSH_PACKAGES_DIR=/var/vcap/packages \
    PATH=/usr/local/bin:/usr/bin:/bin \
    bash -x packaging >"${run}/logs/${name}.log" 2>&1 || status=$?
  seconds=$((SECONDS - started))
  log "${name}: packaging script ran ${seconds} s, exit ${status}"
  if [ "$status" -ne 0 ]; then
    tail -n 60 "${run}/logs/${name}.log" >&2
    summary+=("${name}: FAILED after ${seconds} s")
    printf 'packaging: %s\n' "${summary[@]}" >&2
    die "package ${name}: packaging exited ${status} in the stemcell-like chroot (last 60 lines above)"
  fi
  install_dir="/var/vcap/data/packages/${name}/${version}"
  if [ -z "$(ls -A "${upper}${install_dir}")" ]; then
    die "package ${name}: installed nothing into BOSH_INSTALL_TARGET"
  fi
  if declare -F "post_check_${name}" >/dev/null; then
    if ! check_output="$("post_check_${name}" "/var/vcap/packages/${name}" 2>&1)"; then
      echo "$check_output" >&2
      die "package ${name}: compiled, but its check failed"
    fi
    sed 's/^/packaging:   /' <<<"$check_output" >&2
  fi
  # The compile directory goes, as on a compilation VM; the compiled package stays for the
  # packages that depend on it.
  rm -rf "${upper}${compile_dir}"
  summary+=("${name}: compiled in ${seconds} s ($(du -sh "${upper}${install_dir}" | cut -f1))")
  log "${summary[-1]}"
done

for blob in "${!origin_of[@]}"; do
  log "source ${blob}: ${origin_of[$blob]}"
done
printf 'packaging: %s\n' "${summary[@]}" >&2
log "all ${#order[@]} packages compiled in the stemcell-like chroot"
