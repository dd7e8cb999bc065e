#!/usr/bin/env bash
# The release's packaging bookkeeping, checked without compiling anything (no root):
#   - scripts/add-blobs pins exactly the blobs of config/blobs.yml, with the same sha256 and size;
#   - every blob is used by a package, and every blob glob of a spec names a pinned blob;
#   - no files glob matches under src/ and a blob too (bosh create-release would take both);
#   - tests/packaging/debian-sources.txt names only pinned blobs;
#   - every package is in exactly one of the packaging test's lists (--ci, --manual);
#   - every packaging script parses (bash -n).
# Usage: tests/packaging/release.sh --ci PACKAGE... --manual PACKAGE...
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_command ruby

ci=() manual=()
list=""
for argument in "$@"; do
  case "$argument" in
    --ci) list=ci ;;
    --manual) list=manual ;;
    *) [ "$list" = ci ] && ci+=("$argument") || manual+=("$argument") ;;
  esac
done

for packaging in "${release_dir}"/packages/*/packaging; do
  bash -n "$packaging" || die "${packaging} does not parse"
done

pins="$("${release_dir}/scripts/add-blobs" --list)"
ruby -ryaml - "$release_dir" "${ci[*]}" "${manual[*]}" "$pins" <<'RUBY'
release, ci, manual, pin_lines = ARGV
ci = ci.split
manual = manual.split
problems = []
pins = pin_lines.each_line.to_h do |line|
  path, sha, size = line.split
  [path, { 'sha' => "sha256:#{sha}", 'size' => Integer(size) }]
end
blobs = YAML.load_file(File.join(release, 'config/blobs.yml')) || {}
(pins.keys | blobs.keys).sort.each do |path|
  pin = pins[path]
  blob = blobs[path]
  if pin.nil? then problems << "#{path}: in config/blobs.yml, not pinned in scripts/add-blobs"
  elsif blob.nil? then problems << "#{path}: pinned in scripts/add-blobs, not in config/blobs.yml"
  elsif blob['sha'] != pin['sha'] || blob['size'] != pin['size']
    problems << "#{path}: config/blobs.yml says #{blob['sha']} (#{blob['size']} bytes), scripts/add-blobs #{pin['sha']} (#{pin['size']} bytes)"
  end
end

used = Hash.new { |hash, key| hash[key] = [] }
packages = Dir.glob(File.join(release, 'packages/*/spec')).map { |spec| File.basename(File.dirname(spec)) }.sort
packages.each do |name|
  spec = YAML.load_file(File.join(release, 'packages', name, 'spec'))
  (spec['files'] || []).each do |glob|
    in_src = Dir.glob(glob, base: File.join(release, 'src')).reject { |f| File.directory?(File.join(release, 'src', f)) }
    in_blobs = blobs.keys.select { |key| File.fnmatch?(glob, key, File::FNM_PATHNAME) }
    in_blobs.each { |blob| used[blob] << name }
    if in_src.empty? && in_blobs.empty?
      problems << "package #{name}: files glob '#{glob}' matches nothing under src/ and no blob"
    elsif !in_src.empty? && !in_blobs.empty?
      problems << "package #{name}: files glob '#{glob}' matches under src/ and blob #{in_blobs.join(', ')}"
    end
  end
  lists = [('--ci' if ci.include?(name)), ('--manual' if manual.include?(name))].compact
  problems << "package #{name}: in #{lists.empty? ? 'neither' : 'both'} of the packaging test's lists (tests/packaging/CMakeLists.txt)" unless lists.size == 1
end
(ci + manual).uniq.reject { |name| packages.include?(name) }.each { |name| problems << "packaging test list names #{name}, which is no package" }
blobs.each_key { |blob| problems << "#{blob}: no package uses it" if used[blob].empty? }

File.readlines(File.join(release, 'tests/packaging/debian-sources.txt')).each do |line|
  next if line.strip.empty? || line.start_with?('#')
  blob = line.split.first
  problems << "debian-sources.txt: #{blob} is not pinned" unless pins.key?(blob)
end

if problems.empty?
  puts "packaging: #{pins.size} pinned blobs, #{packages.size} packages (#{ci.size} in CI, #{manual.size} by hand): consistent"
else
  problems.each { |problem| warn "packaging: FAIL: #{problem}" }
  exit 1
end
RUBY
