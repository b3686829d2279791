# Shared by deploy/install-agent.sh and deploy/install-coordinator.sh (sourced, not run).
#
# Every step is idempotent: a file is written only when missing or (for binaries and units, which
# the release owns) when its content differs; configuration and keys, once there, belong to the
# operator and are never overwritten. ROOT is the target root ("" for the running system), so a
# staged install (--root DIR) writes only under DIR.

FLOTILLA_USER=flotilla
FLOTILLA_GROUP=flotilla
ROOT=""
CHANGES=0

note() { printf '%s: %s\n' "$SCRIPT_NAME" "$*"; }
fail() {
    printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
    exit 2
}
changed() {
    CHANGES=$((CHANGES + 1))
    note "$*"
}

# The flotilla system user and group, in ROOT's passwd (useradd --prefix); a staged root without
# /etc/passwd is left alone with a note (the image's first boot or a later run makes them).
ensure_user() {
    if [ -n "$ROOT" ] && [ ! -f "$ROOT/etc/passwd" ]; then
        note "staged root has no etc/passwd: not creating user $FLOTILLA_USER (files stay owned by the installer)"
        return
    fi
    if awk -F: -v u="$FLOTILLA_USER" '$1 == u { found = 1 } END { exit !found }' "$ROOT/etc/passwd"; then return; fi
    command -v useradd > /dev/null || fail "useradd not found; create the system user $FLOTILLA_USER by hand and run again"
    local prefix=()
    if [ -n "$ROOT" ]; then prefix=(--prefix "$ROOT"); fi
    useradd "${prefix[@]}" --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "Flotilla service" "$FLOTILLA_USER" ||
        fail "useradd $FLOTILLA_USER failed"
    changed "created system user $FLOTILLA_USER"
}

# uid:gid of OWNER ("root" or "flotilla") in ROOT, or empty when it does not exist there.
ids_of() {
    local name=$1
    [ -f "$ROOT/etc/passwd" ] || return 0
    awk -F: -v u="$name" '$1 == u { print $3 ":" $4 }' "$ROOT/etc/passwd"
}

# Sets mode and (when the user exists) owner of PATH; counts a change only when one was needed.
set_attributes() {
    local path=$1 mode=$2 owner=$3 group=$4
    local current
    current=$(stat -c '%a' "$path")
    if [ "$current" != "${mode#0}" ]; then
        chmod "$mode" "$path"
        changed "mode $mode on ${path#"$ROOT"}"
    fi
    local uid gid
    uid=$(ids_of "$owner" | cut -d: -f1)
    gid=$(ids_of "$group" | cut -d: -f2)
    [ -n "$uid" ] && [ -n "$gid" ] || return 0
    if [ "$(stat -c '%u:%g' "$path")" != "$uid:$gid" ]; then
        chown "$uid:$gid" "$path"
        changed "owner $owner:$group on ${path#"$ROOT"}"
    fi
}

# ensure_dir PATH MODE OWNER GROUP
ensure_dir() {
    local path="$ROOT$1"
    if [ ! -d "$path" ]; then
        mkdir -p "$path"
        changed "created $1"
    fi
    set_attributes "$path" "$2" "$3" "$4"
}

# install_owned SRC DEST MODE OWNER GROUP: a file the release owns (binary, unit, profile),
# replaced atomically when its content differs.
install_owned() {
    local src=$1 dest="$ROOT$2"
    [ -f "$src" ] || fail "$src is missing"
    if [ ! -f "$dest" ] || ! cmp -s "$src" "$dest"; then
        local tmp="$dest.flotilla-new"
        cp "$src" "$tmp"
        chmod "$3" "$tmp"
        mv -f "$tmp" "$dest"
        changed "installed $2"
    fi
    set_attributes "$dest" "$3" "$4" "$5"
}

# install_kept SRC DEST MODE OWNER GROUP: configuration or a key, the operator's once installed.
# An existing file is never replaced; a differing one is reported so an edit is not a surprise.
install_kept() {
    local src=$1 dest="$ROOT$2"
    [ -f "$src" ] || fail "$src is missing"
    if [ -e "$dest" ]; then
        if ! cmp -s "$src" "$dest"; then
            note "keeping ${2} (it differs from $src; compare and merge by hand if the new one matters)"
        fi
    else
        cp "$src" "$dest"
        changed "installed $2"
    fi
    set_attributes "$dest" "$3" "$4" "$5"
}

# The units go to ROOT/etc/systemd/system; enabling needs a running systemd for the live system
# (skipped with a note in containers) or `systemctl --root` for a staged one.
install_unit_and_enable() {
    local unit=$1 source_dir=$2
    ensure_dir /etc/systemd/system 0755 root root
    install_owned "$source_dir/$unit" "/etc/systemd/system/$unit" 0644 root root
    if [ -n "$ROOT" ]; then
        if [ -L "$ROOT/etc/systemd/system/multi-user.target.wants/$unit" ]; then return; fi
        if command -v systemctl > /dev/null; then
            systemctl --root="$ROOT" --quiet enable "$unit" 2> /dev/null || fail "systemctl --root=$ROOT enable $unit failed"
            changed "enabled $unit in $ROOT"
        else
            note "systemctl not found: enable $unit in the image (systemctl --root=$ROOT enable $unit)"
        fi
    elif [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        if ! systemctl --quiet is-enabled "$unit" 2> /dev/null; then
            systemctl --quiet enable "$unit" || fail "systemctl enable $unit failed"
            changed "enabled $unit"
        fi
        note "start it with: systemctl start ${unit%.service} (restart it after an upgrade)"
    else
        note "systemd is not running (PID 1 is $(ps -o comm= -p 1 2> /dev/null || echo unknown)): skipped daemon-reload and enable of $unit"
    fi
}

# --root DIR and --bin DIR, common to both scripts; sets ROOT and BIN_DIR, leaves the rest in ARGS.
parse_common_args() {
    ARGS=()
    while [ $# -gt 0 ]; do
        case $1 in
            --root)
                [ $# -ge 2 ] || fail "--root needs a directory"
                ROOT=$(cd "$2" 2> /dev/null && pwd) || fail "--root $2: no such directory (create it first)"
                [ "$ROOT" = / ] && ROOT=""
                shift 2
                ;;
            --bin)
                [ $# -ge 2 ] || fail "--bin needs a directory"
                BIN_DIR=$2
                shift 2
                ;;
            *)
                ARGS+=("$1")
                shift
                ;;
        esac
    done
}

# The built binaries: --bin, or the checkout's .build/release next to this script.
find_binary() {
    local name=$1
    local dir=${BIN_DIR:-$REPO_DIR/.build/release}
    [ -x "$dir/$name" ] || fail "$dir/$name not found or not executable; build it (swift build -c release) or pass --bin DIR"
    printf '%s\n' "$dir/$name"
}

summary() {
    if [ "$CHANGES" -eq 0 ]; then note "nothing to change"; else note "$CHANGES change(s)"; fi
}
