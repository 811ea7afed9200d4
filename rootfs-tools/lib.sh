# Shared steps of the rootfs-tools image builders (sourced, not run).
# An image is built in a temporary layout next to its final place and renamed in one step, so
# an interrupted build never leaves a half-written image; a stamp file (inputs' hash) makes a
# second run with the same inputs a no-op.
set -euo pipefail

RT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RT_SRC=$(cd "$RT_DIR/.." && pwd)
RT_OUT=${CGPROF_IMAGES_DIR:-$RT_DIR/out}
RT_PROG=$(basename "$0")

rt_log() { echo "$RT_PROG: $*" >&2; }
rt_die() { echo "$RT_PROG: error: $*" >&2; exit 1; }

rt_need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || rt_die "'$tool' not found; run tools/setup-deps (it installs it)"
  done
}

# rt_hash WORDS_AND_FILES...: sha256 over the words, and over the content of those that are files.
rt_hash() {
  local x
  for x in "$@"; do
    echo "$x"
    if [ -f "$x" ]; then sha256sum <"$x"; fi
  done | sha256sum | cut -d' ' -f1
}

# rt_up_to_date OUT HASH: true when OUT was built from the same inputs.
rt_up_to_date() {
  [ -f "$1/index.json" ] && [ -f "$1.stamp" ] && [ "$(cat "$1.stamp")" = "$2" ]
}

# Temporary work dir, removed on every exit path.
RT_WORK=""
rt_cleanup() { if [ -n "$RT_WORK" ]; then rm -rf "$RT_WORK"; fi; }
trap rt_cleanup EXIT
rt_workdir() {
  mkdir -p "$RT_OUT"
  RT_WORK=$(mktemp -d "$RT_OUT/.build.XXXXXX")
}

RT_UNPACK_FLAGS=()
if [ "$(id -u)" != 0 ]; then RT_UNPACK_FLAGS=(--rootless); fi

# rt_oci_new LAYOUT BUNDLE: empty image LAYOUT:latest, unpacked into BUNDLE.
rt_oci_new() {
  umoci init --layout "$1"
  umoci new --image "$1:latest"
  umoci unpack "${RT_UNPACK_FLAGS[@]}" --image "$1:latest" "$2" >/dev/null
}

# rt_oci_layer LAYOUT BUNDLE "what this layer adds": one new layer from the bundle's changes.
rt_oci_layer() {
  umoci repack --refresh-bundle --history.created_by "rootfs-tools/$RT_PROG: $3" \
    --image "$1:latest" "$2"
}

# rt_publish LAYOUT FINAL HASH: gc, rename into place atomically (old image replaced), stamp.
rt_publish() {
  umoci gc --layout "$1"
  rm -rf "$2.old"
  if [ -e "$2" ]; then mv "$2" "$2.old"; fi
  mv "$1" "$2"
  rm -rf "$2.old"
  echo "$3" >"$2.stamp"
}

# rt_report FINAL: what was built and how big it is.
rt_report() {
  local final=$1 manifest config layers total
  manifest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"].split(":")[1])' "$final/index.json")
  python3 - "$final" "$manifest" <<'PY'
import json, os, sys
final, manifest = sys.argv[1], sys.argv[2]
blob = lambda d: os.path.join(final, "blobs", "sha256", d.split(":")[1])
m = json.load(open(blob("sha256:" + manifest)))
cfg = json.load(open(blob(m["config"]["digest"])))
layers = m["layers"]
comp = sum(l["size"] for l in layers)
total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(final) for f in fs)
def mib(n): return "%.1f MiB" % (n / 1048576)
c = cfg.get("config", {})
print("built %s:latest  (manifest sha256:%s)" % (final, manifest[:12]))
print("  layers: %d, compressed %s; layout on disk %s" % (len(layers), mib(comp), mib(total)))
for l, h in zip(layers, [h for h in cfg.get("history", []) if not h.get("empty_layer")]):
    print("    %-10s %s" % (mib(l["size"]), h.get("created_by", "")))
print("  Entrypoint=%s Cmd=%s WorkingDir=%s" % (json.dumps(c.get("Entrypoint")), json.dumps(c.get("Cmd")), c.get("WorkingDir", "")))
PY
}

# rt_busybox_rootfs DIR: a minimal root file system of busybox-static (shell + applets as
# symlinks, /etc/passwd and group, empty mount points). Uses the sandbox module's
# make-busybox-rootfs when it exists, so there is one definition of "a busybox rootfs".
rt_busybox_rootfs() {
  local dir=$1 bb applet
  if [ -x "$RT_DIR/make-busybox-rootfs" ]; then
    "$RT_DIR/make-busybox-rootfs" "$dir" >&2
    return
  fi
  bb=$(command -v busybox) || rt_die "busybox not found; run tools/setup-deps (busybox-static)"
  file -L "$bb" | grep -q 'statically linked' || rt_die "$bb is not static; install busybox-static"
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var/tmp,home}
  chmod 1777 "$dir/tmp" "$dir/var/tmp"
  chmod 700 "$dir/root"
  install -m 755 "$bb" "$dir/bin/busybox"
  for applet in $("$bb" --list-full); do
    [ -e "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$dir/etc/hosts"
}

# rt_python_files PYTHON: the files of a trimmed CPython runtime taken from the host, one absolute
# path a line: the interpreter, its standard library without tests, GUI, packaging and development
# parts (test, idlelib, tkinter, turtledemo, ensurepip, venv, distutils, lib2to3, pydoc_data,
# config-*, site-/dist-packages, __pycache__), without the extension modules that pull in large
# libraries (OpenSSL, sqlite, Berkeley DB, ncurses, readline, NIS) or only serve CPython's tests,
# and the shared libraries (ldd) of the interpreter and of the extension modules kept. On Debian
# 12 the list is the files of python3.11-minimal, libpython3.11-minimal and libpython3.11-stdlib
# that are kept: what other packages put in the stdlib directory (distutils, lib2to3, venv, tk,
# idle, the test suite, -dev, -dbg builds) is cut by name, so hosts with the same versions of
# those three packages give the same list.
rt_python_files() {
  local py stdlib
  py=$(readlink -f "$1") || rt_die "$1 not found; run tools/setup-deps (python3-minimal)"
  [ -x "$py" ] || rt_die "$1 not found; run tools/setup-deps (python3-minimal)"
  stdlib=$("$py" -I -S -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])') \
    || rt_die "$py cannot tell its standard library's directory"
  local mods
  mods=$(find "$stdlib" \( -name test -o -name tests -o -name idle_test -o -name idlelib \
      -o -name tkinter -o -name turtledemo -o -name ensurepip -o -name venv -o -name distutils \
      -o -name lib2to3 -o -name pydoc_data -o -name 'config-*' -o -name site-packages \
      -o -name dist-packages -o -name __pycache__ -o -name sqlite3 -o -name dbm -o -name curses \
      -o -name unittest \) -prune -o \( -type f -o -type l \) -print \
    | grep -vE '/(sitecustomize\.py|EXTERNALLY-MANAGED|turtle\.py|ssl\.py|(_test[a-z_]*|_ctypes_test|_xxtestfuzz|xxlimited[_0-9]*|_ssl|_hashlib|_sqlite3|_dbm|_gdbm|nis|_curses|_curses_panel|readline|_tkinter)\.cpython-[^/]*\.so|[^/]*\.cpython-[0-9]+d-[^/]*\.so)$' \
    | LC_ALL=C sort)
  [ -n "$mods" ] || rt_die "no standard library found in $stdlib"
  echo "$py"
  echo "$mods"
  # The dynamic loader, and every library ldd resolves (absolute paths, as the loader finds them),
  # for the interpreter and the extension modules needing a library it does not (one readelf for
  # all of them: an ldd each costs seconds on a loaded machine).
  local libs needy
  libs=$(rt_ldd_paths <<<"$py")
  needy=$({ grep '\.so$' <<<"$mods" || true; } | xargs -r readelf -d \
    | awk -v have="$(xargs -n1 basename <<<"$libs")" '
        BEGIN { n = split(have, h, "\n"); for (i = 1; i <= n; i++) known[h[i]] = 1 }
        /^File: / { file = $2 }
        /\(NEEDED\)/ { lib = $5; gsub(/[][]/, "", lib); if (!(lib in known)) print file }' | sort -u)
  { echo "$libs"; [ -z "$needy" ] || rt_ldd_paths <<<"$needy"; } | LC_ALL=C sort -u
}

# rt_ldd_paths < FILES: the absolute paths of the loader and the libraries ldd resolves for them.
rt_ldd_paths() {
  xargs -r ldd | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}'
}

# rt_python_install ROOT < FILE_LIST: copies the files rt_python_files listed into ROOT at the same
# paths (symbolic links resolved) and links ROOT/usr/bin/python3 to the interpreter (listed first).
rt_python_install() {
  local root=$1 list py
  list=$(cat)
  py=$(head -1 <<<"$list")
  sed 's|^/||' <<<"$list" | tar -C / --dereference --no-recursion -cf - -T - | tar -C "$root" -xf -
  if [ "$(basename "$py")" != python3 ]; then ln -sf "$(basename "$py")" "$root$(dirname "$py")/python3"; fi
}

# rt_debootstrap ROOTFS PACKAGES: Debian bookworm minbase plus PACKAGES (comma-separated),
# trimmed of what a container does not need (apt lists and caches, logs, device nodes).
rt_debootstrap() {
  local root=$1 pkgs=$2 mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
  [ "$(id -u)" = 0 ] || rt_die "debootstrap needs root (it creates device nodes and chowns files); run as root"
  rt_need debootstrap
  rt_log "debootstrap --variant=minbase --include=$pkgs bookworm (from $mirror) ..."
  local t0=$SECONDS
  debootstrap --variant=minbase --include="$pkgs" bookworm "$root" "$mirror" \
    >"$RT_WORK/debootstrap.log" 2>&1 || {
    tail -20 "$RT_WORK/debootstrap.log" >&2
    rt_die "debootstrap failed (full log above: last 20 lines); is $mirror reachable?"
  }
  rt_log "debootstrap took $((SECONDS - t0)) s"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/cache/debconf/*-old "$root"/var/log/* "$root"/dev/* "$root"/run/* "$root"/tmp/*
  : >"$root/etc/resolv.conf"
  echo cgprof >"$root/etc/hostname"
}

# rt_debian_image NAME PACKAGES APP_SRC_DIR APP_DEST -- CMD...: a two-layer OCI image
# rootfs-tools/out/NAME-oci:latest (Debian base layer + app layer) running CMD.
rt_debian_image() {
  local name=$1 pkgs=$2 app_src=$3 app_dest=$4
  shift 4
  [ "$1" = -- ] && shift
  local final=$RT_OUT/$name-oci hash layout bundle f
  local inputs=("$0" "$RT_DIR/lib.sh" "$pkgs" "$app_dest" "$@")
  for f in "$app_src"/*; do inputs+=("$f"); done
  hash=$(rt_hash "${inputs[@]}")
  if rt_up_to_date "$final" "$hash"; then
    rt_log "up to date (inputs unchanged; delete $final.stamp to force a rebuild)"
    rt_report "$final"
    return
  fi
  rt_need umoci python3
  rt_workdir
  layout=$RT_WORK/$name-oci
  bundle=$RT_WORK/bundle
  rt_log "building $final"
  rt_oci_new "$layout" "$bundle"
  rm -rf "$bundle/rootfs"
  rt_debootstrap "$bundle/rootfs" "$pkgs"
  rt_log "rootfs: $(du -sh "$bundle/rootfs" | cut -f1); writing the base layer ..."
  rt_oci_layer "$layout" "$bundle" "debootstrap --variant=minbase --include=$pkgs bookworm"
  mkdir -p "$bundle/rootfs$app_dest"
  cp -r "$app_src"/. "$bundle/rootfs$app_dest/"
  chmod -R a+rX "$bundle/rootfs$app_dest"
  rt_oci_layer "$layout" "$bundle" "application scripts in $app_dest"
  local args=() a
  for a in "$@"; do args+=(--config.cmd "$a"); done
  umoci config --image "$layout:latest" \
    --history.created_by "rootfs-tools/$RT_PROG: image config" \
    "${args[@]}" \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.env PYTHONDONTWRITEBYTECODE=1 \
    --config.env HOME=/root \
    --config.workingdir "$app_dest" \
    --config.label "org.opencontainers.image.title=cgprof-$name" \
    --architecture amd64 --os linux
  rt_publish "$layout" "$final" "$hash"
  rt_report "$final"
}
