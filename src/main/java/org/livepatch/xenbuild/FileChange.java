package org.livepatch.xenbuild;

import java.util.Optional;

/**
 * One file a patch changes, with paths relative to the tree root (after dropping the first
 * component, as {@code patch -p1} does). A created file has no old path, a deleted one no new path.
 */
public record FileChange(String oldPath, String newPath) {

    public FileChange {
        if (oldPath == null && newPath == null) {
            throw new IllegalArgumentException("a change needs an old or a new path");
        }
    }

    public boolean isAdded() {
        return oldPath == null;
    }

    public boolean isDeleted() {
        return newPath == null;
    }

    /** The path the change leaves in the tree, or the deleted one. */
    public String path() {
        return newPath != null ? newPath : oldPath;
    }

    public Optional<String> existingPath() {
        return Optional.ofNullable(oldPath);
    }
}
