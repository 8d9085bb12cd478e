# Shared by the top-level launchers: find a JDK >= 21, build the jar if it is missing or older
# than the sources, and run one entry point. Sourced, not executed; the caller sets MAIN_CLASS.
# Order of search for Java: $JAVA_HOME, java on PATH, then every JDK under /usr/lib/jvm (newest
# first), so a fresh machine whose default java is 17 still finds Temurin 25 by itself.

LPB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LPB_JAR="${LPB_JAR:-$LPB_ROOT/target/livepatch-build.jar}"

lpb_java_major() {
    # Prints the major version of the java binary $1, or nothing if it does not run.
    local v
    v=$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -1)
    case "$v" in
        1.*) echo "${v#1.}" | cut -d. -f1 ;;
        *) echo "$v" | cut -d. -f1 ;;
    esac
}

lpb_find_java() {
    local cand major
    local -a cands=()
    [ -n "${JAVA_HOME:-}" ] && cands+=("$JAVA_HOME/bin/java")
    command -v java >/dev/null 2>&1 && cands+=("$(command -v java)")
    for cand in $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV); do
        cands+=("$cand")
    done
    for cand in "${cands[@]}"; do
        [ -x "$cand" ] || continue
        major=$(lpb_java_major "$cand")
        if [ -n "$major" ] && [ "$major" -ge 21 ] 2>/dev/null; then
            echo "$cand"
            return 0
        fi
    done
    return 1
}

lpb_jar_is_stale() {
    [ -f "$LPB_JAR" ] || return 0
    # Only a source checkout can rebuild; an installed copy (e.g. in the toolchain image) has no pom.
    [ -f "$LPB_ROOT/pom.xml" ] || return 1
    [ -n "$(find "$LPB_ROOT/pom.xml" "$LPB_ROOT/src/main" -newer "$LPB_JAR" -print -quit 2>/dev/null)" ]
}

lpb_build_jar() {
    local java="$1" jhome
    jhome="$(dirname "$(dirname "$(readlink -f "$java")")")"
    if ! command -v mvn >/dev/null 2>&1; then
        echo "$(basename "$0"): the jar $LPB_JAR is missing and Maven (mvn) is not installed to build it" >&2
        return 1
    fi
    mkdir -p "$LPB_ROOT/target"
    (
        # One build at a time, even when CI starts several launchers at once.
        flock 9
        if lpb_jar_is_stale; then
            echo "$(basename "$0"): building $LPB_JAR (first use or sources changed)..." >&2
            local log="$LPB_ROOT/target/launcher-build.log"
            if ! JAVA_HOME="$jhome" MAVEN_OPTS="${MAVEN_OPTS:-} $(lpb_maven_opts "$java")" \
                mvn -q -B -f "$LPB_ROOT/pom.xml" -DskipTests package >"$log" 2>&1; then
                echo "$(basename "$0"): building the jar failed; the last lines of $log:" >&2
                tail -n 20 "$log" >&2
                exit 1
            fi
        fi
    ) 9>"$LPB_ROOT/target/.launcher.lock"
}

lpb_maven_opts() {
    # Maven 3.8's bundled Guava warns about sun.misc.Unsafe on JDK 24+; silence that noise only.
    local major
    major=$(lpb_java_major "$1")
    [ -n "$major" ] && [ "$major" -ge 24 ] && echo "--sun-misc-unsafe-memory-access=allow"
}

lpb_run() {
    local java
    if ! java=$(lpb_find_java); then
        echo "$(basename "$0"): no JDK >= 21 found (looked at \$JAVA_HOME, java on PATH, /usr/lib/jvm/*); install one, e.g. apt-get install openjdk-21-jdk-headless" >&2
        exit 69
    fi
    if lpb_jar_is_stale; then
        lpb_build_jar "$java" || exit 70
    fi
    exec "$java" ${LPB_JAVA_OPTS:-} -cp "$LPB_JAR" "$MAIN_CLASS" "$@"
}
