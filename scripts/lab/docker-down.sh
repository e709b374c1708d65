#!/usr/bin/env bash
# Stop the test lab's Compose stacks and remove their containers, volumes and networks.
#
#   scripts/lab/docker-down.sh                 every stack with a container of a migdoctor-lab image
#   scripts/lab/docker-down.sh PROJECT...      these Compose projects only
#   scripts/lab/docker-down.sh --engine [...]  then also stop the dockerd that docker-up.sh started
#
# Works from the Compose labels through the engine, so it needs neither the compose files nor a
# given Compose flavour (v1 and v2 label their objects alike). The image and its cached tarball
# are kept. Without a running engine there is nothing to stop, and it says so.
set -Eeuo pipefail

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
DOCKER_SOCK=/var/run/docker.sock
PROJECT_LABEL=com.docker.compose.project
LAB_LABEL=org.migdoctor.lab

stop_engine=0
projects=()
for arg in "$@"; do
    case $arg in
        --engine) stop_engine=1 ;;
        -h | --help)
            sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        -*)
            echo "docker-down.sh: FAILED: unknown option $arg" >&2
            exit 2
            ;;
        *) projects+=("$arg") ;;
    esac
done

say() { printf '[lab] %s\n' "$*"; }
fail() {
    echo "docker-down.sh: FAILED: $*" >&2
    exit 1
}
dk() { timeout 60 docker "$@"; }

engine_answers() {
    [[ -S $DOCKER_SOCK ]] && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

remove_project() {
    local project=$1 ids vols nets
    mapfile -t ids < <(dk ps -aq --filter "label=$PROJECT_LABEL=$project")
    if ((${#ids[@]})); then
        # Each container's own stop signal (SIGINT for PostgreSQL: fast shutdown), then force.
        dk stop --time 10 "${ids[@]}" >/dev/null || fail "could not stop the containers of $project"
        dk rm -f -v "${ids[@]}" >/dev/null || fail "could not remove the containers of $project"
    fi
    mapfile -t vols < <(dk volume ls -q --filter "label=$PROJECT_LABEL=$project")
    if ((${#vols[@]})); then
        dk volume rm -f "${vols[@]}" >/dev/null || fail "could not remove the volumes of $project"
    fi
    mapfile -t nets < <(dk network ls -q --filter "label=$PROJECT_LABEL=$project")
    if ((${#nets[@]})); then
        dk network rm "${nets[@]}" >/dev/null || fail "could not remove the networks of $project"
    fi
    say "removed stack $project (${#ids[@]} containers, ${#vols[@]} volumes, ${#nets[@]} networks)"
}

main() {
    [[ $(id -u) == 0 ]] || fail "must run as root"
    if ! engine_answers; then
        say "no Docker engine answers on $DOCKER_SOCK: no stack to stop"
    else
        if ((${#projects[@]} == 0)); then
            # Projects of every container, running or not, made from a migdoctor-lab image,
            # and of the volumes labelled as the lab's (left over when their containers are gone).
            mapfile -t projects < <(
                {
                    dk ps -a --filter "label=$PROJECT_LABEL" \
                        --format "{{.Image}} {{.Label \"$PROJECT_LABEL\"}}" |
                        awk '$1 ~ /^migdoctor-lab(:|$)/ { print $2 }'
                    dk volume ls --filter "label=$PROJECT_LABEL" --filter "label=$LAB_LABEL" \
                        --format "{{.Label \"$PROJECT_LABEL\"}}"
                } | sort -u
            )
        fi
        if ((${#projects[@]} == 0)); then
            say "no lab stack found"
        fi
        local project
        for project in "${projects[@]}"; do
            remove_project "$project"
        done
    fi
    if ((stop_engine)); then
        local pid
        pid=$(cat /var/run/docker.pid 2>/dev/null || pgrep -x dockerd || true)
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            local deadline=$((SECONDS + 60))
            while kill -0 "$pid" 2>/dev/null; do
                ((SECONDS < deadline)) || fail "dockerd ($pid) still runs 60s after SIGTERM"
                sleep 0.5
            done
            say "stopped dockerd ($pid)"
        else
            say "dockerd is not running"
        fi
    fi
}

main
