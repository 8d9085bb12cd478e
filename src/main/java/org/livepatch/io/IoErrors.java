package org.livepatch.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * One-line text for an I/O failure that says both the file and the operating system's reason.
 * Java's {@link FileSystemException}s carry the reason in their type and leave
 * {@link Throwable#getMessage()} as just the path ("/out/logs"), which tells a user nothing;
 * plain {@link IOException}s from a write carry only the reason ("No space left on device").
 */
public final class IoErrors {
    private IoErrors() {}

    public static String describe(IOException e) {
        if (e instanceof FileSystemException fs) {
            String file = fs.getFile();
            String reason = fs.getReason();
            if (reason == null) {
                reason = switch (fs) {
                    case AccessDeniedException a -> "permission denied";
                    case NoSuchFileException n -> "no such file or directory";
                    case FileAlreadyExistsException f -> "already exists (and is not a directory)";
                    case NotDirectoryException n -> "not a directory";
                    case DirectoryNotEmptyException d -> "directory not empty";
                    default -> fs.getClass().getSimpleName();
                };
            }
            String other = fs.getOtherFile() == null ? "" : " -> " + fs.getOtherFile();
            return (file == null ? "" : file + other + ": ") + reason;
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
