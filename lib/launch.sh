# Shared by the top-level launchers: find a JDK >= 21, build the jar if it is missing or older
# than the sources, and run one entry point. Sourced, not executed; the caller sets MAIN_CLASS.
# Order of search for Java: $JAVA_HOME, java on PATH, then every JDK under /usr/lib/jvm (newest
# first), so a fresh machine whose default java is 17 still finds Temurin 25 by itself.

LPB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=exit-codes.sh
source "$LPB_ROOT/lib/exit-codes.sh"
LPB_JAR="${LPB_JAR:-$LPB_ROOT/target/livepatch-build.jar}"

lpb_java_major() {
    # Prints the major version of the java binary $1, or nothing if it does not run. A JDK's
    # `release` file says it without starting a JVM (which costs about as much as our whole
    # --help); only a java without one is asked. Bash built-ins where possible: on a loaded
    # machine every forked helper costs tens of milliseconds.
    local v="" line real home
    real=$(readlink -f "$1") || return 0
    home=${real%/bin/java}
    if [ "$home" != "$real" ] && [ -f "$home/release" ]; then
        while IFS= read -r line; do
            case "$line" in
                JAVA_VERSION=*) v=${line#JAVA_VERSION=}; v=${v//\"/}; break ;;
            esac
        done <"$home/release"
    fi
    [ -n "$v" ] || v=$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -1)
    v=${v#1.}
    echo "${v%%.*}"
}

lpb_try_java() {
    # Succeeds (and sets LPB_JAVA, LPB_JAVA_MAJOR) if $1 is a runnable java >= 21.
    local major
    [ -x "$1" ] || return 1
    major=$(lpb_java_major "$1")
    if [ -n "$major" ] && [ "$major" -ge 21 ] 2>/dev/null; then
        LPB_JAVA="$1"
        LPB_JAVA_MAJOR="$major"
        return 0
    fi
    return 1
}

lpb_find_java() {
    local cand
    if [ -n "${JAVA_HOME:-}" ] && lpb_try_java "$JAVA_HOME/bin/java"; then echo "$LPB_JAVA"; return 0; fi
    cand=$(command -v java 2>/dev/null) && lpb_try_java "$cand" && { echo "$LPB_JAVA"; return 0; }
    for cand in $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV); do
        if lpb_try_java "$cand"; then echo "$LPB_JAVA"; return 0; fi
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
                exit "$LPB_EXIT_INTERNAL"
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

lpb_cds_opts() {
    # Class-data sharing: the JVM maps the classes of earlier runs from an archive next to the jar
    # instead of loading and verifying them again (start-up measured by tests/bench/run). With
    # AutoCreateSharedArchive (JDK 19+) the JVM writes the archive at the exit of the first run
    # and rewrites it by itself when the jar or the JDK no longer match it; a directory it cannot
    # write just means no archive. One archive per JDK major version. Serial GC: one short-lived
    # process on a few cores needs no concurrent collector threads. LPB_CDS=0 turns this off.
    [ "${LPB_CDS:-1}" = 0 ] && return 0
    local major=${LPB_JAVA_MAJOR:-}
    [ -n "$major" ] || major=$(lpb_java_major "$1")
    # -Xlog: a stale archive is expected after every rebuild of the jar; the JVM says so on stdout
    # otherwise, which would mix with our output.
    echo "-XX:SharedArchiveFile=${LPB_JAR%.jar}-jdk$major.jsa -XX:+AutoCreateSharedArchive -Xlog:cds=off -Xlog:cds+dynamic=off -XX:+UseSerialGC"
}

lpb_run() {
    local java
    # Not $(lpb_find_java): a subshell would lose LPB_JAVA_MAJOR.
    if lpb_find_java >/dev/null; then
        java=$LPB_JAVA
    else
        echo "$(basename "$0"): no JDK >= 21 found (looked at \$JAVA_HOME, java on PATH, /usr/lib/jvm/*); install one, e.g. apt-get install openjdk-21-jdk-headless" >&2
        exit "$LPB_EXIT_UNAVAILABLE"
    fi
    if lpb_jar_is_stale; then
        lpb_build_jar "$java" || exit "$LPB_EXIT_INTERNAL"
    fi
    local cds
    cds=$(lpb_cds_opts "$java")
    # zstd-jni (reference archives) loads its native library: allowed, so the JDK does not warn.
    exec "$java" $cds --enable-native-access=ALL-UNNAMED ${LPB_JAVA_OPTS:-} -cp "$LPB_JAR" "$MAIN_CLASS" "$@"
}
