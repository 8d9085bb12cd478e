package org.livepatch.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an option whose value is a path on the caller's machine and says how a run uses it.
 * picocli knows an option's type, not whether the run reads or writes the path; the Docker
 * wrapper ({@code toolchain-docker/livepatch-build}) needs that to mount it read-only or
 * read-write, and learns it from {@link OptionTable}, which reads this annotation.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface HostPath {
    Use value();

    /** What the run does with the path. */
    enum Use {
        /** Read only: a file or a directory. */
        INPUT,
        /** A directory the run writes into (created when missing). */
        OUTPUT_DIR,
        /** A file the run creates (never overwrites); its directory is written (created when missing). */
        OUTPUT_FILE,
        /**
         * Read only: a directory of patches, or a list file whose lines name patches (relative to
         * the list's directory); the named patches are read too.
         */
        PATCH_SET
    }
}
