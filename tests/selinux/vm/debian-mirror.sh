# Sourced. Prints the Debian mirror this machine's apt uses for the main archive, so the guest
# is built from the same place the host's packages come from. No host name is written here:
# it is read from the apt sources at run time (deb822 *.sources first, then sources.list).

debian_mirror() {
  local file uri
  shopt -s nullglob
  for file in /etc/apt/sources.list.d/*.sources; do
    # deb822: a stanza with Types: deb, URIs: ..., Suites: ... <codename> ... (not -security)
    uri="$(awk -v codename="$1" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/) types = $i
          if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
          if ($i ~ /^Suites:/) suites = " " $i " "
        }
        if (types ~ /[ \t]deb([ \t]|$)/ && suites ~ ("[ \t]" codename "[ \t]")) {
          split(uris, first, /[ \t]+/); print first[1]; exit
        }
      }' "$file")"
    if [ -n "$uri" ]; then
      shopt -u nullglob
      echo "${uri%/}"
      return 0
    fi
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    uri="$(awk -v codename="$1" '
      $1 == "deb" {
        n = 2
        if ($2 ~ /^\[/) { while (n <= NF && $n !~ /\]$/) n++; n++ }
        if ($(n + 1) == codename) { print $n; exit }
      }' "$file")"
    if [ -n "$uri" ]; then
      shopt -u nullglob
      echo "${uri%/}"
      return 0
    fi
  done
  shopt -u nullglob
  return 1
}
