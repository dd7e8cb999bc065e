# shellcheck shell=bash
# Sourced by tests/packaging/compile.sh. Obtains the source tarball of a blob (a path from
# config/blobs.yml) from the first place that has the pinned version:
#   1. blobs/<path> of this clone (bosh sync-blobs puts them there), sha256 = the pin
#   2. the packaging cache (sources/<path>), checked again on every use
#   3. upstream, through scripts/add-blobs --download (size and sha256 = the pin)
#   4. Debian's archive, as listed in tests/packaging/debian-sources.txt: an orig tarball
#      identical to upstream's (sha256 = the pin), or Debian's repack of the same version
#      (sha256 = the one pinned there), re-rolled under the blob's name
#   5. outside CI only, a substitute the developer supplies in $PACKAGING_SUBSTITUTES (a
#      directory holding <path> or its basename); used as is, and said so loudly
# Anything else is "not obtainable here", with the reason per place.

declare -A pin_sha=()
while read -r path sha _; do
  pin_sha["$path"]="$sha"
done < <("${release_dir}/scripts/add-blobs" --list)

sources_cache="${packaging_cache}/sources"
mkdir -p "$sources_cache"
# Scratch directories of runs that died more than a day ago.
find "$sources_cache" -maxdepth 1 -name '.debian-*' -mmin +1440 -exec rm -rf {} +
apt_dir="${packaging_cache}/apt"
apt_updated=""

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

apt_private() {
  apt-get -o Dir::Etc::sourceparts="${apt_dir}/sources.list.d" -o Dir::Etc::sourcelist=/dev/null \
    -o Dir::State::Lists="${apt_dir}/lists" -o Dir::Cache="${apt_dir}/cache" "$@"
}
apt_cache_private() {
  apt-cache -o Dir::Etc::sourceparts="${apt_dir}/sources.list.d" -o Dir::Etc::sourcelist=/dev/null \
    -o Dir::State::Lists="${apt_dir}/lists" -o Dir::Cache="${apt_dir}/cache" "$@"
}

# A private deb-src configuration, derived at run time from this machine's apt sources (the
# system's apt configuration is never changed), refreshed once per run.
apt_sources_update() {
  [ -n "$apt_updated" ] && return "$apt_updated"
  mkdir -p "${apt_dir}/sources.list.d" "${apt_dir}/lists/partial" "${apt_dir}/cache/archives/partial"
  rm -f "${apt_dir}"/sources.list.d/*
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] && sed -E 's/^Types:.*/Types: deb-src/' "$file" >"${apt_dir}/sources.list.d/$(basename "$file")"
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] && sed -nE 's/^deb[[:space:]]/deb-src /p' "$file" >>"${apt_dir}/sources.list.d/host-deb-src.list"
  done
  # flock: two runs sharing the cache must not update the same lists at once.
  if flock "${apt_dir}/.lock" apt-get -o Dir::Etc::sourceparts="${apt_dir}/sources.list.d" \
    -o Dir::Etc::sourcelist=/dev/null -o Dir::State::Lists="${apt_dir}/lists" \
    -o Dir::Cache="${apt_dir}/cache" update -qq >"${apt_dir}/update.log" 2>&1; then
    apt_updated=0
  else
    apt_updated=1
  fi
  return "$apt_updated"
}

# reroll_fixup <blob> <tree>: makes a repacked tree look like the upstream release tarball the
# packaging script is written for, by the steps upstream's release process takes.
reroll_fixup() {
  local blob="$1" tree="$2" include
  case "$blob" in
    boost/*)
      # Debian's boost1.74 orig is a git export: no generated grammar for the b2 engine (Debian's
      # rules run this same bison line) and no merged boost/ header tree (a release tarball has
      # one, made by `b2 headers`; hard links here).
      require_command bison
      (cd "${tree}/tools/build" && bison -y -d -o src/engine/jamgram.cpp src/engine/jamgram.y)
      mkdir -p "${tree}/boost"
      while read -r include; do
        cp -al "${include}/." "${tree}/boost/"
      done < <(find "${tree}/libs" -type d -path '*/include/boost' -prune)
      ;;
  esac
}

# from_debian <blob> <destination>: sets blob_origin, or blob_problem and returns 1.
from_debian() {
  local blob="$1" destination="$2" line package orig kind version scratch file expected actual top
  line="$(awk -v blob="$blob" '$1 == blob' "${packaging_here}/debian-sources.txt")"
  if [ -z "$line" ]; then
    blob_problem+=" Debian: not listed in tests/packaging/debian-sources.txt."
    return 1
  fi
  read -r _ package orig kind <<<"$line"
  if ! apt_sources_update; then
    blob_problem+=" Debian: apt-get update of the deb-src indexes failed (${apt_dir}/update.log)."
    return 1
  fi
  # The source version whose files include this orig tarball (not necessarily the candidate:
  # postgresql-15's newest version in bookworm-security is another upstream release).
  version="$(apt_cache_private showsrc "$package" 2>/dev/null | awk -v orig="$orig" '
    BEGIN { RS = ""; FS = "\n" }
    { v = ""; for (i = 1; i <= NF; i++) if ($i ~ /^Version: /) v = substr($i, 10)
      if (index($0, " " orig "\n") || index($0, " " orig)) { print v; exit } }')"
  if [ -z "$version" ]; then
    blob_problem+=" Debian: no source package ${package} with ${orig} in the configured suites."
    return 1
  fi
  scratch="$(mktemp -d "${sources_cache}/.debian-XXXXXX")"
  if ! (cd "$scratch" && apt_private source --download-only -qq "${package}=${version}") \
    >"${scratch}.log" 2>&1 || [ ! -f "${scratch}/${orig}" ]; then
    blob_problem+=" Debian: ${package} ${version}: ${orig} not served ($(grep -m1 -oE '[0-9]{3} +[A-Za-z]+( [A-Za-z]+)*' "${scratch}.log" | tr -s ' ' || echo 'download failed'))."
    rm -rf "$scratch" "${scratch}.log"
    return 1
  fi
  rm -f "${scratch}.log"
  file="${scratch}/${orig}"
  actual="$(sha256_of "$file")"
  case "$kind" in
    identical)
      expected="${pin_sha[$blob]}"
      if [ "$actual" != "$expected" ]; then
        rm -rf "$scratch"
        die "${blob}: Debian's ${orig} (${package} ${version}) has sha256 ${actual}, not the pinned ${expected}"
      fi
      mv "$file" "$destination"
      blob_origin="Debian ${package} ${version}: ${orig}, byte-identical to upstream (sha256 ${actual})"
      ;;
    repack:*)
      expected="${kind#repack:}"
      if [ "$actual" != "$expected" ]; then
        rm -rf "$scratch"
        die "${blob}: Debian's ${orig} (${package} ${version}) has sha256 ${actual}, not the ${expected} pinned in debian-sources.txt"
      fi
      # Re-rolled with the blob's top directory and compression, as its packaging expects.
      top="$(basename "$blob")"
      top="${top%.tar.*}"
      mkdir "${scratch}/tree"
      tar -xf "$file" -C "${scratch}/tree"
      [ "$(find "${scratch}/tree" -mindepth 1 -maxdepth 1 | wc -l)" -eq 1 ] || die "${blob}: ${orig} has more than one top-level entry"
      mv "${scratch}/tree/"* "${scratch}/${top}"
      reroll_fixup "$blob" "${scratch}/${top}"
      tar -C "$scratch" -caf "${scratch}/reroll-$(basename "$blob")" "$top"
      mv "${scratch}/reroll-$(basename "$blob")" "$destination"
      blob_origin="Debian ${package} ${version}: ${orig} (Debian's repack, sha256 ${actual}), re-rolled as $(basename "$blob"); same upstream version, not upstream's bytes (pinned sha256 ${pin_sha[$blob]})"
      echo "repack $(sha256_of "$destination")" >"${destination}.origin"
      ;;
    *) die "debian-sources.txt: unknown kind '${kind}' for ${blob}" ;;
  esac
  rm -rf "$scratch"
  return 0
}

# obtain_blob <blob>: sets blob_file and blob_origin, or blob_problem and returns 1.
obtain_blob() {
  local blob="$1" cached candidate reason
  blob_file="" blob_origin="" blob_problem=""
  [ -n "${pin_sha[$blob]:-}" ] || die "${blob}: named by a package spec but not pinned in scripts/add-blobs"

  candidate="${release_dir}/blobs/${blob}"
  if [ -f "$candidate" ] && [ "$(sha256_of "$candidate")" = "${pin_sha[$blob]}" ]; then
    blob_file="$candidate" blob_origin="blobs/ of this clone (pinned sha256)"
    return 0
  fi

  cached="${sources_cache}/${blob}"
  mkdir -p "$(dirname "$cached")"
  if [ -f "$cached" ]; then
    if [ -f "${cached}.origin" ]; then
      # A re-rolled repack: its own checksum, recorded when it was made.
      if [ "repack $(sha256_of "$cached")" = "$(cat "${cached}.origin")" ]; then
        blob_file="$cached" blob_origin="cache (Debian's repack re-rolled earlier, sha256 $(sha256_of "$cached"); not upstream's bytes)"
        return 0
      fi
    elif [ "$(sha256_of "$cached")" = "${pin_sha[$blob]}" ]; then
      blob_file="$cached" blob_origin="cache (pinned sha256)"
      return 0
    fi
    log "${blob}: cached copy fails its checksum; fetching it again"
    rm -f "$cached" "${cached}.origin"
  fi

  if [ "${PACKAGING_UPSTREAM:-1}" != 0 ]; then
    if "${release_dir}/scripts/add-blobs" --download "$sources_cache" "$blob" >"${cached}.upstream.log" 2>&1; then
      rm -f "${cached}.upstream.log"
      blob_file="$cached" blob_origin="upstream via scripts/add-blobs (pinned sha256)"
      return 0
    fi
    if grep -q 'checksum mismatch' "${cached}.upstream.log"; then
      cat "${cached}.upstream.log" >&2
      die "${blob}: upstream served other bytes than the pinned ones"
    fi
    reason="$(tail -n 1 "${cached}.upstream.log")"
    rm -f "${cached}.upstream.log"
    blob_problem+=" upstream: ${reason#add-blobs: FAIL: }."
  else
    blob_problem+=" upstream: not tried (PACKAGING_UPSTREAM=0)."
  fi

  if from_debian "$blob" "$cached"; then
    blob_file="$cached"
    return 0
  fi

  if [ -n "${PACKAGING_SUBSTITUTES:-}" ]; then
    for candidate in "${PACKAGING_SUBSTITUTES}/${blob}" "${PACKAGING_SUBSTITUTES}/$(basename "$blob")"; do
      [ -f "$candidate" ] || continue
      if [ "${CI:-}" = "true" ]; then
        blob_problem+=" substitute ${candidate}: refused under CI=true."
        return 1
      fi
      blob_file="$candidate"
      if [ "$(sha256_of "$candidate")" = "${pin_sha[$blob]}" ]; then
        blob_origin="PACKAGING_SUBSTITUTES ${candidate} (pinned sha256: the upstream tarball)"
      else
        blob_origin="SUBSTITUTE ${candidate}, sha256 $(sha256_of "$candidate"), NOT the pinned ${pin_sha[$blob]}: a stand-in for a local run only"
      fi
      return 0
    done
  fi
  return 1
}
