#!/usr/bin/env bash
# Checks that Ember's layers depend one way, on the compiled objects rather than on #includes: no
# layer's object files may need a symbol defined by a layer above it. core/ and kernels/ are one
# unit here (core calls kernels through the registry, and the CUDA graph in kernels/ replays
# TensorBase copies of core/); the rest is the order of the folders.
#
#   layering_check.sh SOURCE_DIR OBJECT_DIR    (OBJECT_DIR: the ember target's CMakeFiles/ember.dir)
set -euo pipefail
src=$1
obj=$2
# Lowest first; a layer may use the layers before it in this list and nothing after.
layers=("core kernels" autograd io optim distributed data nn)

objects_of() {  # the object files of the sources that exist now in the given folders
  local dir f
  for dir in "$@"; do
    for f in "$src/$dir"/*.cpp "$src/$dir"/*/*.cpp "$src/$dir"/*.cu "$src/$dir"/*/*.cu; do
      [ -e "$f" ] || continue
      local o="$obj/${f#"$src/"}.o"
      [ -e "$o" ] && echo "$o"
    done
  done
}
symbols() {  # $1: --defined-only or -u; then objects
  local mode=$1
  shift
  [ $# -gt 0 ] || return 0
  if [ "$mode" = -u ]; then nm -C -u "$@" | awk 'NF {sub(/^ *U /, ""); print}'
  else nm -C --defined-only "$@" | awk '$2 ~ /^[TWVDBR]$/ {$1 = ""; $2 = ""; sub(/^  /, ""); print}'
  fi | grep -v ':$' | sort -u
}

status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((i = 0; i < ${#layers[@]}; ++i)); do
  # shellcheck disable=SC2086  # a layer entry may name several folders
  mapfile -t low < <(objects_of ${layers[i]})
  [ ${#low[@]} -gt 0 ] || { echo "layering_check: no objects for '${layers[i]}' under $obj" >&2; exit 2; }
  symbols -u "${low[@]}" > "$tmp/needed"
  for ((j = i + 1; j < ${#layers[@]}; ++j)); do
    # shellcheck disable=SC2086
    mapfile -t high < <(objects_of ${layers[j]})
    symbols --defined-only "${high[@]}" > "$tmp/defined"
    if comm -12 "$tmp/needed" "$tmp/defined" > "$tmp/wrong" && [ -s "$tmp/wrong" ]; then
      echo "layering_check: '${layers[i]}' needs symbols of the higher layer '${layers[j]}':"
      sed 's/^/  /' "$tmp/wrong"
      status=1
    fi
  done
done
[ $status -eq 0 ] && echo "layering_check: ${layers[*]}: each layer needs only the layers below it"
exit $status
