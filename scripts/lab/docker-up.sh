#!/usr/bin/env bash
# Bring up the Docker part of the migdoctor test lab on this machine (design §10):
#
#   1. Debian packages: docker.io (dockerd), debootstrap, Compose v1 (bookworm's docker-compose);
#   2. Compose v2 as a CLI plugin, unpacked from Debian trixie's docker-compose package;
#   3. a running engine (vfs storage, no iptables, no bridge);
#   4. the image migdoctor-lab:base (debootstrap rootfs + /opt/venv with Django and psycopg),
#      imported from a tarball cached outside the repository, built first when there is none.
#
# Idempotent: every step checks first and does nothing when its part is already there.
# Needs root and no stdin (CI runs it as `bash scripts/lab/docker-up.sh`).
#
# Settings (environment):
#   MIGDOCTOR_LAB_CACHE           cache folder for the image tarball   (/var/cache/migdoctor-lab)
#   MIGDOCTOR_LAB_LOG_DIR         logs of this script and of dockerd   (/var/log/migdoctor-lab)
#   MIGDOCTOR_LAB_MIRROR          Debian mirror          (first /debian URI found in /etc/apt)
#   MIGDOCTOR_LAB_ENGINE_TIMEOUT  seconds to wait for the engine to answer           (90)
#   MIGDOCTOR_LAB_REBUILD=1       ignore the cached tarball and the present image
set -Eeuo pipefail
umask 022

LAB_IMAGE=migdoctor-lab:base
LAB_CACHE=${MIGDOCTOR_LAB_CACHE:-/var/cache/migdoctor-lab}
LAB_LOG_DIR=${MIGDOCTOR_LAB_LOG_DIR:-/var/log/migdoctor-lab}
ENGINE_TIMEOUT=${MIGDOCTOR_LAB_ENGINE_TIMEOUT:-90}
DOCKER_SOCK=/var/run/docker.sock
DOCKERD_LOG=$LAB_LOG_DIR/dockerd.log
STEP_LOG=$LAB_LOG_DIR/docker-up.log
LOCK_FILE=/var/lock/migdoctor-lab.lock

SUITE=bookworm
COMPOSE_V2_SUITE=trixie
PLUGIN_DIR=/usr/libexec/docker/cli-plugins
ROOTFS_INCLUDE=python3,python3-pip,python3-venv,postgresql-15
PIP_PACKAGES=("Django>=5,<6" "psycopg[binary]>=3.1,<4" "psycopg2-binary>=2.9,<3")
IMAGE_PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RECIPE_LABEL=org.migdoctor.lab.recipe

export DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
APT_OPTS=(-q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)

START=$SECONDS
STEP="starting"
ROOTFS=""
LAST_RUN=""
TMP_DIRS=()
POLICY_RC_CREATED=0

say() { printf '[lab %4ds] %s\n' "$((SECONDS - START))" "$*"; }

# Last line of output on failure: one line saying what failed.
fail() {
    trap - ERR
    printf 'docker-up.sh: FAILED while %s: %s (log: %s)\n' "$STEP" "$*" "$STEP_LOG" >&2
    exit 1
}

on_err() {
    local rc=$1 line=$2 cmd=$3
    trap - ERR
    # A failure inside run() names run's own line: name the command it ran instead.
    [[ $cmd == *'"$@"'* ]] && cmd=$LAST_RUN
    if [[ -s $STEP_LOG ]]; then
        {
            echo "---- last lines of $STEP_LOG ----"
            tail -n 25 "$STEP_LOG"
            echo "----"
        } >&2
    fi
    fail "\`$cmd\` exited with $rc (line $line)"
}

cleanup() {
    if [[ $POLICY_RC_CREATED == 1 ]]; then
        rm -f /usr/sbin/policy-rc.d
    fi
    if [[ -n $ROOTFS && -d $ROOTFS ]]; then
        remove_rootfs "$ROOTFS"
    fi
    local d
    for d in "${TMP_DIRS[@]}"; do
        rm -rf --one-file-system "$d"
    done
}

# Run a noisy command with its output in the step log.
run() {
    LAST_RUN="$*"
    printf '\n$ %s\n' "$*" >>"$STEP_LOG"
    "$@" </dev/null >>"$STEP_LOG" 2>&1
}

# Run a command (through `run`) up to 3 times: apt and the network may be busy for a moment.
retry() {
    local try
    for try in 1 2 3; do
        if run "$@"; then
            return 0
        fi
        ((try < 3)) && { say "retrying in $((try * 10))s: $*"; sleep $((try * 10)); }
    done
    on_err 1 "${BASH_LINENO[0]}" "$* (3 tries)"
}

step() {
    STEP=$1
    say "$STEP"
    printf '\n==== %s ====\n' "$STEP" >>"$STEP_LOG"
}

new_tmp_dir() {
    local d
    d=$(mktemp -d "/var/tmp/migdoctor-lab-$1.XXXXXX")
    TMP_DIRS+=("$d")
    printf '%s\n' "$d"
}

debian_mirror() {
    if [[ -n ${MIGDOCTOR_LAB_MIRROR:-} ]]; then
        printf '%s\n' "$MIGDOCTOR_LAB_MIRROR"
        return
    fi
    local uri
    # shellcheck disable=SC2016 # an awk program
    local deb_lines='$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
    uri=$(
        {
            awk "$deb_lines" /etc/apt/sources.list 2>/dev/null || true
            awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
            awk "$deb_lines" /etc/apt/sources.list.d/*.list 2>/dev/null || true
        } | grep -E '/debian/?$' | head -n 1
    ) || true
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# ---------------------------------------------------------------------------------------------
# 1. Debian packages

compose_v1_installed() {
    [[ $(dpkg-query -W -f='${Status} ${Version}' docker-compose 2>/dev/null) == "install ok installed 1."* ]]
}

install_packages() {
    step "checking Debian packages (docker.io, docker-compose v1, debootstrap)"
    local need=()
    command -v dockerd >/dev/null || need+=(docker.io)
    command -v debootstrap >/dev/null || need+=(debootstrap)
    compose_v1_installed || need+=(docker-compose)
    if ((${#need[@]} == 0)); then
        say "packages already installed"
        return
    fi
    step "installing ${need[*]} with apt-get"
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        # Keep the packages' maintainer scripts from starting a dockerd with default settings.
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=1
    fi
    retry apt-get "${APT_OPTS[@]}" update
    retry apt-get "${APT_OPTS[@]}" install --no-install-recommends "${need[@]}"
    if [[ $POLICY_RC_CREATED == 1 ]]; then
        rm -f /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=0
    fi
    command -v dockerd >/dev/null || fail "dockerd is still missing after installing docker.io"
    command -v debootstrap >/dev/null || fail "debootstrap is still missing after installing it"
    compose_v1_installed || fail "Debian's docker-compose 1.x is not installed"
}

# ---------------------------------------------------------------------------------------------
# 2. Compose v2 as a CLI plugin from Debian trixie (only downloaded, never installed with apt)

compose_v2_version() {
    docker compose version --short 2>/dev/null | sed 's/^v//'
}

install_compose_v2() {
    step "checking Compose v2 (docker compose)"
    local version
    version=$(compose_v2_version) || true
    if [[ $version == 2.* ]]; then
        say "docker compose $version present"
        return
    fi
    mkdir -p "$LAB_CACHE"
    local deb
    deb=$(find "$LAB_CACHE" -maxdepth 1 -name 'docker-compose_2.*.deb' -print -quit)
    if [[ -z $deb ]]; then
        step "downloading docker-compose 2.x from Debian $COMPOSE_V2_SUITE"
        local tmp mirror
        tmp=$(new_tmp_dir apt)
        mirror=$(debian_mirror)
        mkdir -p "$tmp/lists/partial"
        # A sources file used for this download alone: the system's own sources stay untouched.
        cat >"$tmp/$COMPOSE_V2_SUITE.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $COMPOSE_V2_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        local apt_alt=(
            -o "Dir::Etc::sourcelist=$tmp/$COMPOSE_V2_SUITE.sources"
            -o "Dir::Etc::sourceparts=-"
            -o "Dir::State::Lists=$tmp/lists"
            -o "Dir::Cache::pkgcache="
            -o "Dir::Cache::srcpkgcache="
            -o "APT::Sandbox::User=root"
        )
        retry apt-get -q "${apt_alt[@]}" update
        pushd "$tmp" >/dev/null
        retry apt-get -q "${apt_alt[@]}" download docker-compose
        popd >/dev/null
        local fetched
        fetched=$(find "$tmp" -maxdepth 1 -name 'docker-compose_*.deb' -print -quit)
        [[ -n $fetched ]] || fail "apt-get download docker-compose from $COMPOSE_V2_SUITE fetched nothing"
        [[ $(dpkg-deb -f "$fetched" Version) == 2.* ]] ||
            fail "$COMPOSE_V2_SUITE's docker-compose is $(dpkg-deb -f "$fetched" Version), not 2.x"
        deb=$LAB_CACHE/$(basename "$fetched")
        mv "$fetched" "$deb"
    fi
    step "unpacking $(basename "$deb") into $PLUGIN_DIR"
    local x
    x=$(new_tmp_dir deb)
    run dpkg-deb -x "$deb" "$x"
    [[ -x $x/usr/libexec/docker/cli-plugins/docker-compose ]] ||
        fail "$(basename "$deb") has no usr/libexec/docker/cli-plugins/docker-compose"
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$x/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN_DIR/docker-compose.new"
    mv -f "$PLUGIN_DIR/docker-compose.new" "$PLUGIN_DIR/docker-compose"
    version=$(compose_v2_version) || true
    [[ $version == 2.* ]] || fail "\`docker compose version\` does not answer 2.x after unpacking"
    say "docker compose $version installed"
}

# ---------------------------------------------------------------------------------------------
# 3. The engine

engine_answers() {
    [[ -S $DOCKER_SOCK ]] && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

start_engine() {
    step "checking the Docker engine"
    if engine_answers; then
        say "engine already running"
        return
    fi
    if ! pgrep -x dockerd >/dev/null; then
        step "starting dockerd (vfs, no iptables, no bridge; log $DOCKERD_LOG)"
        printf '\n==== dockerd started by docker-up.sh at %s ====\n' "$(date -Is)" >>"$DOCKERD_LOG"
        # setsid: not in our process group; 9>&-: does not keep our lock; no inherited stdio,
        # so that a caller reading our output (pytest, CI) is not kept waiting by the daemon.
        setsid dockerd \
            --storage-driver=vfs \
            --iptables=false \
            --ip6tables=false \
            --bridge=none \
            </dev/null >>"$DOCKERD_LOG" 2>&1 9>&- &
        disown || true
    else
        say "a dockerd process exists but does not answer yet; waiting for it"
    fi
    local deadline=$((SECONDS + ENGINE_TIMEOUT))
    until engine_answers; do
        if ((SECONDS >= deadline)); then
            tail -n 20 "$DOCKERD_LOG" >&2 || true
            fail "the engine did not answer on $DOCKER_SOCK within ${ENGINE_TIMEOUT}s (see $DOCKERD_LOG)"
        fi
        if ! pgrep -x dockerd >/dev/null; then
            tail -n 20 "$DOCKERD_LOG" >&2 || true
            fail "dockerd exited while starting (see $DOCKERD_LOG)"
        fi
        sleep 0.5
    done
    say "engine answers on $DOCKER_SOCK"
}

check_versions() {
    step "checking that the client fits the engine"
    local versions
    versions=$(timeout 20 docker version --format \
        'client {{.Client.Version}} (API {{.Client.APIVersion}}), engine {{.Server.Version}} (API {{.Server.APIVersion}})' 2>>"$STEP_LOG") ||
        fail "\`$(command -v docker) version\` cannot talk to the engine"
    say "docker $versions"
    local driver
    driver=$(timeout 20 docker info --format '{{.Driver}}' 2>>"$STEP_LOG") || fail "\`docker info\` failed"
    say "storage driver $driver; compose v2 $(compose_v2_version); compose v1 $(docker-compose version --short 2>/dev/null)"
}

# ---------------------------------------------------------------------------------------------
# 4. The image

remove_rootfs() {
    local dir=$1 m
    # Unmount whatever is still mounted below the rootfs (deepest first), then delete it
    # without ever crossing into another file system.
    while IFS= read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" || true
    done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
    if awk -v d="$dir/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
        echo "not removing $dir: something is still mounted below it" >&2
        return
    fi
    rm -rf --one-file-system "$dir"
}

# Pip settings of the host that the chroot can use too (no local file:// indexes or folders).
pip_env_for_chroot() {
    local name value
    for name in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST PIP_DEFAULT_TIMEOUT PIP_RETRIES \
        http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
        value=${!name:-}
        [[ -n $value && $value != *file://* ]] && printf '%s=%s\n' "$name" "$value"
    done
    local line key
    # Host pip configuration files (/etc/pip.conf, /etc/xdg/pip, ~/.config/pip): index settings.
    while IFS= read -r line; do
        key=${line%%=*}
        value=${line#*=}
        value=${value#\'}
        value=${value%\'}
        [[ -z $value || $value == *file://* || $value == /* ]] && continue
        case $key in
            global.index-url | install.index-url) [[ -z ${PIP_INDEX_URL:-} ]] && printf 'PIP_INDEX_URL=%s\n' "$value" ;;
            global.extra-index-url | install.extra-index-url) [[ -z ${PIP_EXTRA_INDEX_URL:-} ]] && printf 'PIP_EXTRA_INDEX_URL=%s\n' "$value" ;;
            global.trusted-host | install.trusted-host) [[ -z ${PIP_TRUSTED_HOST:-} ]] && printf 'PIP_TRUSTED_HOST=%s\n' "$value" ;;
            global.proxy) [[ -z ${HTTPS_PROXY:-} ]] && printf 'PIP_PROXY=%s\n' "$value" ;;
        esac
    done < <(python3 -m pip config list 2>/dev/null || true)
    return 0
}

build_rootfs() {
    local dir=$1 tarball=$2 mirror
    mirror=$(debian_mirror)
    chmod 0755 "$dir" # it becomes the image's /: mktemp made it 0700
    step "debootstrap $SUITE (minbase + $ROOTFS_INCLUDE) from $mirror"
    run debootstrap --variant=minbase --include="$ROOTFS_INCLUDE" "$SUITE" "$dir" "$mirror"

    step "installing ${PIP_PACKAGES[*]} into /opt/venv of the rootfs"
    # The chroot reaches the package index the way the host does: same resolver, same CA bundle
    # (which may hold a local TLS proxy's certificate), same index and proxy settings.
    cp -L /etc/resolv.conf "$dir/etc/resolv.conf"
    local host_ca=/etc/ssl/certs/ca-certificates.crt chroot_ca=/etc/ssl/certs/migdoctor-host-ca.crt
    local pip_env=(HOME=/root LANG=C.UTF-8 PATH="$IMAGE_PATH" PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
        PIP_NO_INPUT=1 PIP_DEFAULT_TIMEOUT="${PIP_DEFAULT_TIMEOUT:-120}")
    if [[ -s $host_ca ]]; then
        mkdir -p "$dir/etc/ssl/certs"
        cp -L "$host_ca" "$dir$chroot_ca"
        pip_env+=(PIP_CERT="$chroot_ca" SSL_CERT_FILE="$chroot_ca")
    fi
    local kv
    while IFS= read -r kv; do
        [[ -n $kv ]] && pip_env+=("$kv")
    done < <(pip_env_for_chroot)
    mount -t proc proc "$dir/proc"
    run chroot "$dir" /usr/bin/env -i "${pip_env[@]}" /usr/bin/python3 -m venv /opt/venv
    run chroot "$dir" /usr/bin/env -i "${pip_env[@]}" /opt/venv/bin/pip install --only-binary=:all: "${PIP_PACKAGES[@]}"
    run chroot "$dir" /usr/bin/env -i "${pip_env[@]}" /opt/venv/bin/python -c \
        'import django, psycopg, psycopg2; print("django", django.__version__, "psycopg", psycopg.__version__, "psycopg2", psycopg2.__version__)'
    say "$(tail -n 1 "$STEP_LOG")"
    umount "$dir/proc"

    step "trimming the rootfs"
    # Compose stacks initialise their own data folders: drop the package's default cluster.
    run chroot "$dir" /usr/bin/env -i PATH="$IMAGE_PATH" pg_dropcluster 15 main || true
    rm -rf "$dir/var/lib/postgresql/15" "$dir/etc/postgresql/15"
    run chroot "$dir" /usr/bin/env -i PATH="$IMAGE_PATH" apt-get clean
    # Every container under the vfs driver is a full copy of the image, made on `up` and deleted
    # on `down`: fewer files and bytes make both faster. PostgreSQL's JIT (LLVM, bitcode) goes:
    # without its provider PostgreSQL simply runs without JIT. Django's .po sources go (.mo stay).
    rm -rf "$dir"/usr/lib/postgresql/15/lib/bitcode "$dir"/usr/lib/postgresql/15/lib/llvmjit*.so
    rm -f "$dir"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "$dir"/usr/lib/x86_64-linux-gnu/libz3.so*
    find "$dir/opt/venv" -name '*.po' -delete
    rm -f "$dir$chroot_ca"
    : >"$dir/etc/resolv.conf"
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/usr/share/doc/* \
        "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/* "$dir"/var/log/*.log "$dir"/root/.cache \
        "$dir"/tmp/* "$dir"/var/tmp/*

    step "writing the rootfs tarball $tarball"
    run tar --numeric-owner -C "$dir" -cf "$tarball.partial" .
    mv -f "$tarball.partial" "$tarball"
    say "tarball: $(du -h "$tarball" | cut -f1)"
}

image_recipe() {
    timeout 20 docker image inspect -f "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$LAB_IMAGE" 2>/dev/null
}

import_image() {
    local tarball=$1 recipe=$2 old
    step "importing $tarball as $LAB_IMAGE"
    old=$(timeout 20 docker image inspect -f '{{.Id}}' "$LAB_IMAGE" 2>/dev/null) || old=""
    run docker import \
        --change "ENV PATH=$IMAGE_PATH" \
        --change "ENV LANG=C.UTF-8" \
        --change "LABEL $RECIPE_LABEL=$recipe" \
        --change 'CMD ["/bin/bash"]' \
        "$tarball" "$LAB_IMAGE"
    if [[ -n $old && $old != "$(docker image inspect -f '{{.Id}}' "$LAB_IMAGE")" ]]; then
        run docker image rm "$old" || say "kept the previous image $old (still in use)"
    fi
}

ensure_image() {
    step "checking the image $LAB_IMAGE"
    # The recipe is this script's build function and settings: changing them means a new image.
    local recipe
    recipe=$(
        {
            declare -f build_rootfs
            printf '%s\n' "$SUITE" "$ROOTFS_INCLUDE" "${PIP_PACKAGES[@]}" "$IMAGE_PATH"
        } | sha256sum | cut -c1-16
    )
    local tarball=$LAB_CACHE/base-$recipe.tar
    if [[ ${MIGDOCTOR_LAB_REBUILD:-0} != 1 ]]; then
        if [[ $(image_recipe) == "$recipe" ]]; then
            say "image $LAB_IMAGE present (recipe $recipe)"
            return
        fi
    else
        rm -f "$tarball"
    fi
    mkdir -p "$LAB_CACHE"
    if [[ -s $tarball ]]; then
        say "using cached rootfs $tarball"
    else
        # Older recipes' tarballs are of no more use.
        find "$LAB_CACHE" -maxdepth 1 -name 'base-*.tar*' -delete
        ROOTFS=$(mktemp -d /var/tmp/migdoctor-lab-rootfs.XXXXXX)
        build_rootfs "$ROOTFS" "$tarball"
        STEP="removing the build folder"
        remove_rootfs "$ROOTFS"
        ROOTFS=""
    fi
    import_image "$tarball" "$recipe"
    [[ $(image_recipe) == "$recipe" ]] || fail "image $LAB_IMAGE is not there after the import"
    say "image $LAB_IMAGE ready ($(docker image inspect -f '{{.Size}}' "$LAB_IMAGE" | awk '{ printf "%d MB", $1 / 1e6 }'))"
}

# ---------------------------------------------------------------------------------------------

main() {
    [[ $(id -u) == 0 ]] || { echo "docker-up.sh: FAILED: must run as root" >&2; exit 1; }
    mkdir -p "$LAB_LOG_DIR" "$(dirname "$LOCK_FILE")"
    trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR
    trap cleanup EXIT
    trap 'fail "interrupted"' INT TERM

    # One docker-up.sh at a time on this machine (tests, CI and people may start it together).
    STEP="waiting for the lab lock $LOCK_FILE"
    exec 9>"$LOCK_FILE"
    if ! flock -n 9; then
        say "another docker-up.sh is running; waiting for it"
        flock -w 1800 9 || fail "another docker-up.sh kept the lock for 30 minutes"
    fi
    printf '\n######## docker-up.sh %s (pid %s) ########\n' "$(date -Is)" "$$" >>"$STEP_LOG"

    install_packages
    install_compose_v2
    start_engine
    check_versions
    ensure_image
    STEP="finishing"
    say "lab ready in $((SECONDS - START))s"
}

main "$@"
