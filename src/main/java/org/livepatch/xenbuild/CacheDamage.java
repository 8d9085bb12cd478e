package org.livepatch.xenbuild;

import java.nio.file.Path;

/**
 * A cached reference build (or a record about one) is not what was recorded when it was made:
 * a file edited, replaced, added or removed, metadata unreadable. Never shown to the user as a
 * failure by itself: the cache drops the entry and builds it again, saying so in one line; only a
 * second damage in the same run becomes {@link BuildException.Reason#WORKSPACE}.
 */
public final class CacheDamage extends Exception {
    private static final long serialVersionUID = 1L;

    private final Path file;

    public CacheDamage(Path file, String reason) {
        super(file + ": " + reason);
        this.file = file;
    }

    /** The damaged file (or directory) of the entry. */
    public Path file() {
        return file;
    }

    /** What is wrong, without the file name. */
    public String reason() {
        return getMessage().substring(file.toString().length() + 2);
    }

    /** The same damage as the user-facing error it becomes when rebuilding did not help. */
    BuildException asBuildException() {
        return new BuildException(BuildException.Reason.WORKSPACE, file,
                getMessage().substring(file.toString().length() + 2) + " (the cache entry was damaged again after a rebuild)", this);
    }
}
